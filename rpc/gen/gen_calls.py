#!/usr/bin/env python3
"""gen_calls.py — generate rgpu's CUDA call descriptors from cuda.h and rpc/cuda.annot.

Reads the prototypes of cuda.h (preprocessed with __CUDA_API_VERSION_INTERNAL, so every
legacy _vN and _ptds/_ptsz variant is declared under its own name) for each symbol the
toolkit's stub libcuda.so exports, classifies every parameter (annotation first, then the
inference rules below) and writes, into the build tree only:
  --table     rpc_calls_table.c: rpc_calls[] sorted by name, sizes/alignments as
              sizeof/_Alignof expressions for the C compiler
  --stubs     the shim's entry points for FORWARD and CUSTOM calls (rg_shim_forward)
  --coverage  api-coverage.md: every exported function and its class, with counts
Inference: handle types by C type name; CUdeviceptr by value -> devptr; enums, integers,
floats and pointer-free structs by value -> value; `const char *` -> string; `H *` of a
handle type -> new handle (server-minted); `T *` of a scalar named like an output (p*,
*Out, a known output name) -> out. Anything else needs an annotation, or the call is
`unsupported`. Annotation format: see the head of rpc/cuda.annot.
"""
import argparse
import fnmatch
import os
import re
import subprocess
import sys

HANDLES = {
    "CUcontext": "CONTEXT", "CUstream": "STREAM", "CUevent": "EVENT", "CUmodule": "MODULE",
    "CUfunction": "FUNCTION", "CUlibrary": "LIBRARY", "CUkernel": "KERNEL",
    "CUlinkState": "LINKSTATE", "CUgraph": "GRAPH", "CUgraphNode": "GRAPH_NODE",
    "CUgraphExec": "GRAPH_EXEC", "CUmemoryPool": "MEMPOOL",
    "CUmemGenericAllocationHandle": "MEM_HANDLE", "CUarray": "ARRAY",
    "CUmipmappedArray": "MIPMAPPED_ARRAY", "CUtexObject": "TEXOBJ", "CUsurfObject": "SURFOBJ",
    "CUuserObject": "USER_OBJECT", "CUgreenCtx": "GREEN_CTX", "CUdevice": "DEVICE",
}
SCALARS = {
    "char": "S8", "signed char": "S8", "unsigned char": "U8", "short": "S16",
    "unsigned short": "U16", "int": "S32", "signed int": "S32", "unsigned int": "U32",
    "unsigned": "U32", "long": "S64", "long int": "S64", "unsigned long": "U64",
    "unsigned long int": "U64", "long long": "S64", "long long int": "S64",
    "unsigned long long": "U64", "unsigned long long int": "U64", "float": "F32",
    "double": "F64", "_Bool": "U8",
}
# Output parameters whose names do not start with p: seen across cuda.h.
OUT_NAMES = {"dptr", "count", "version", "driverVersion", "free", "total", "device", "flags",
             "numBlocks", "dynamicSmemSize", "clusterSize", "numClusters", "value",
             "attr", "isSupported", "isCapturing", "ctxId", "streamId", "graphId",
             "elementSize", "maxWidthInElements", "leastPriority", "greatestPriority",
             "bytes", "size", "major", "minor", "numFunctions", "numKernels", "config",
             "capabilities", "mode", "mask", "priority", "captureStatus", "isEnabled",
             "type", "state", "active", "canAccessPeer", "minGridSize", "blockSize",
             "granularity", "status", "numRegs", "paramOffset", "paramSize", "pConfig"}
KIND_WORDS = {"value": "VALUE", "handle": "HANDLE", "devptr": "DEVPTR", "out": "OUT",
              "new": "OUT_HANDLE", "in": "IN_BUF", "inout": "INOUT_BUF", "string": "STRING",
              "handles": "HANDLE_ARRAY_IN", "handles_out": "HANDLE_ARRAY_OUT", "null": "NULL",
              "custom": "CUSTOM"}
BUFFER_KINDS = {"IN_BUF", "OUT_BUF", "INOUT_BUF", "HANDLE_ARRAY_IN", "HANDLE_ARRAY_OUT"}
CLASS_WORDS = {"client": "CLIENT", "unsupported": "UNSUPPORTED"}
MODES = {"sync": "SYNC", "async": "ASYNC", "wait": "WAIT"}
QUALIFIERS = {"const", "volatile", "struct", "enum", "restrict", "__restrict"}


def die(msg):
    sys.exit("gen_calls.py: error: %s" % msg)


def warn(msg):
    sys.stderr.write("gen_calls.py: warning: %s\n" % msg)


# ---- reading the toolkit -----------------------------------------------------------

def stub_symbols(stub):
    out = subprocess.run(["nm", "-D", "--defined-only", stub], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "TtWi" and re.match(r"^cu\w+$", parts[2]):
            names.add(parts[2])
    return sorted(names)


def preprocess(cc, include):
    src = "#include <cuda.h>\n#include <cudaProfiler.h>\n"
    cmd = [cc, "-E", "-P", "-D__CUDA_API_VERSION_INTERNAL=1", "-I", include, "-x", "c", "-"]
    text = subprocess.run(cmd, input=src, check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout
    return re.sub(r"\s+", " ", text)


def balanced(text, i, open_c, close_c):
    """Index just past the bracket closing the one at text[i]."""
    depth = 0
    while i < len(text):
        if text[i] == open_c:
            depth += 1
        elif text[i] == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def split_top(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def prototypes(text):
    """{name: [param text, ...]} of every `CUresult cuX(...);` declaration (first wins)."""
    protos = {}
    for m in re.finditer(r"\bCUresult (cu\w+) ?\(", text):
        end = balanced(text, m.end() - 1, "(", ")")
        if end < 0:
            continue
        params = split_top(text[m.end():end - 1])
        if params == ["void"]:
            params = []
        protos.setdefault(m.group(1), params)
    return protos


def typedefs(text):
    """Simple typedefs {name: type}, enums {name}, structs {name: body}."""
    simple, enums, structs = {}, set(), {}
    for m in re.finditer(r"\btypedef ([^;{}()]+?) ?\b(\w+) ?;", text):
        simple.setdefault(m.group(2), m.group(1).strip())
    for m in re.finditer(r"\btypedef (enum|struct|union) ?\w* ?\{", text):
        end = balanced(text, m.end() - 1, "{", "}")
        tail = re.match(r" ?(\w+) ?;", text[end:])
        if end < 0 or not tail:
            continue
        if m.group(1) == "enum":
            enums.add(tail.group(1))
        else:
            structs[tail.group(1)] = text[m.end():end - 1]
    # `typedef struct X_st Y;` after `struct X_st {...};`
    for m in re.finditer(r"\b(struct|union) (\w+) ?\{", text):
        end = balanced(text, m.end() - 1, "{", "}")
        if end > 0:
            structs.setdefault("struct " + m.group(2), text[m.end():end - 1])
    return simple, enums, structs


# ---- the C type model --------------------------------------------------------------

class Types:
    def __init__(self, text):
        self.simple, self.enums, self.structs = typedefs(text)
        self.memo = {}

    def chain(self, name):
        """The typedef names a base name goes through, and the final type text."""
        seen = [name]
        cur = name
        while cur in self.simple and len(seen) < 16:
            cur = self.simple[cur]
            seen.append(cur)
        return seen, cur

    def info(self, base):
        """(category, detail, scalar) of a non-pointer type name."""
        if base in self.memo:
            return self.memo[base]
        seen, final = self.chain(base)
        res = ("unknown", None, None)
        for n in seen:
            if n in HANDLES:
                h = HANDLES[n]
                sc = "PTR" if "*" in final else SCALARS.get(norm(final), "U64")
                res = ("handle", h, sc)
                break
            if n.startswith("CUdeviceptr"):
                res = ("devptr", None, SCALARS.get(norm(final), "U64"))
                break
        else:
            if "*" in final:
                res = ("pointer", None, "PTR")
            elif norm(final) in SCALARS:
                res = ("scalar", None, SCALARS[norm(final)])
            elif any(n in self.enums or n.startswith("enum ") for n in seen):
                res = ("scalar", None, "S32")
            elif any(n in self.structs for n in seen):
                body = next(self.structs[n] for n in seen if n in self.structs)
                res = ("struct", None, "STRUCT") if self.pointer_free(body) else \
                      ("pstruct", None, "STRUCT")
            elif final.startswith("struct "):
                res = ("struct", None, "STRUCT") if final in self.structs and \
                      self.pointer_free(self.structs[final]) else ("pstruct", None, "STRUCT")
        self.memo[base] = res
        return res

    def pointer_free(self, body):
        if "*" in body:
            return False
        for word in re.findall(r"\b\w+\b", body):
            cat = self.info(word)[0] if word in self.simple or word in self.structs else None
            if cat in ("handle", "pointer", "pstruct"):
                return False
        return True


def norm(t):
    """Type text without qualifiers; builtin integer spellings in one canonical order."""
    words = [w for w in t.split() if w not in ("const", "volatile")]
    if words and all(w in ("unsigned", "signed", "long", "short", "int", "char") for w in words):
        sign = "unsigned " if "unsigned" in words else ""
        longs = words.count("long")
        core = "char" if "char" in words else "short" if "short" in words else \
            "long long" if longs >= 2 else "long" if longs else "int"
        if core == "char" and "signed" in words:
            sign = "signed "
        return sign + core
    return " ".join(words)


class Param:
    def __init__(self, text, index):
        self.text = text
        self.index = index
        m = re.match(r"^(.*?)\b(\w+)$", text.strip())
        if not m or not m.group(1).strip():
            die("cannot parse parameter '%s'" % text)
        self.name = m.group(2)
        self.ctype = m.group(1).strip()
        self.depth = self.ctype.count("*")
        words = [w for w in re.findall(r"\w+", self.ctype) if w not in QUALIFIERS]
        self.base = " ".join(words)
        if re.match(r"^\s*(struct|enum)\b", self.ctype.replace("const ", "")):
            self.base = re.sub(r"^\s*(const\s+)?", "", self.ctype).replace("*", "").strip()
        self.pointee_const = self.depth >= 1 and re.match(r"^\s*const\b|^[^*]*\bconst\b",
                                                          self.ctype) is not None
        # pointee type text: the parameter type with its last '*' removed
        if self.depth:
            i = self.ctype.rfind("*")
            self.pointee = (self.ctype[:i] + self.ctype[i + 1:]).strip()
        else:
            self.pointee = None
        self.kind = None
        self.handle = "NONE"
        self.mint = "NONE"
        self.scalar = None
        self.len = None      # (kind, a, b, k-expression)
        self.why = None      # reason it could not be classified


# ---- annotations ---------------------------------------------------------------------

class Annot:
    def __init__(self, pattern, words, lineno):
        self.pattern = pattern
        self.lineno = lineno
        self.cls = "FORWARD"
        self.mode = "SYNC"
        self.custom = None
        self.args = {}
        for w in words:
            if w in MODES:
                self.mode = MODES[w]
            elif w in CLASS_WORDS:
                self.cls = CLASS_WORDS[w]
            elif w.startswith("custom="):
                self.cls = "CUSTOM"
                self.custom = w[len("custom="):]
            elif ":" in w:
                name, spec = w.split(":", 1)
                self.args[name] = spec
            else:
                die("cuda.annot:%d: unknown word '%s'" % (lineno, w))


def read_annot(paths):
    exact, globs = {}, []
    for path in paths:
        read_annot_file(path, exact, globs)
    return exact, globs


def read_annot_file(path, exact, globs):
    where = os.path.basename(path)
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            for name in words[0].split(","):
                a = Annot(name, words[1:], n)
                if any(c in name for c in "*?["):
                    globs.append(a)
                elif name in exact:
                    die("%s:%d: %s annotated twice (first at line %d)" % (where, n, name, exact[name].lineno))
                else:
                    exact[name] = a


def annot_for(name, exact, globs):
    """Own line, else the line of the plain variant (_ptds/_ptsz), else the first glob."""
    if name in exact:
        return exact[name]
    plain = re.sub(r"_(ptds|ptsz)$", "", name)
    if plain in exact:
        return exact[plain]
    for g in globs:
        if fnmatch.fnmatchcase(name, g.pattern):
            return g
    return None


LEN_RE = re.compile(r"^(\w+)(?:=(\w+))?(?:\[([^\]]*)\])?$")


def parse_len(expr, params, where):
    if expr == "sizeof":
        return ("SIZEOF", 0, 0xFF, "1")
    names, consts = [], []
    for term in expr.split("*"):
        term = term.strip()
        if re.match(r"^\d+$", term) or term.startswith("sizeof("):
            consts.append(term)
        elif term in params:
            names.append(params[term].index)
        else:
            die("%s: length term '%s' is not a parameter" % (where, term))
    k = "*".join(consts) if consts else "1"
    if not names:
        return ("CONST", 0, 0xFF, k)
    if len(names) == 1:
        return ("ARG" if k == "1" else "ARG_MUL", names[0], 0xFF, k)
    if len(names) == 2:
        return ("ARGS_MUL", names[0], names[1], k)
    die("%s: at most two parameters in a length" % where)


def apply_spec(p, spec, params, types, where):
    m = LEN_RE.match(spec)
    if not m:
        die("%s: bad argument spec '%s'" % (where, spec))
    word, opt, length = m.groups()
    if word not in KIND_WORDS:
        die("%s: unknown kind '%s'" % (where, word))
    kind = KIND_WORDS[word]
    if kind == "OUT" and length is not None:
        kind = "OUT_BUF"
    p.kind = kind
    if length is not None:
        p.len = parse_len(length, params, where)
    if kind == "OUT_HANDLE":
        p.mint = "SERVER" if opt == "server" else "CLIENT"
    elif opt:
        die("%s: '=%s' only goes with new" % (where, opt))
    if kind in ("HANDLE", "OUT_HANDLE", "HANDLE_ARRAY_IN", "HANDLE_ARRAY_OUT"):
        base = p.base if kind == "HANDLE" else norm(p.pointee).replace("*", "").strip()
        cat, h, sc = types.info(base)
        if cat != "handle":
            die("%s: %s is not a handle type" % (where, base))
        p.handle, p.scalar = h, sc
    elif kind in ("VALUE", "DEVPTR"):
        p.scalar = types.info(p.base)[2] if p.depth == 0 else "PTR"
    elif kind == "OUT":
        p.scalar = types.info(norm(p.pointee))[2] or "STRUCT"
        if p.scalar == "STRUCT":  # structs travel as bytes: no size limit
            p.kind, p.len = "OUT_BUF", ("SIZEOF", 0, 0xFF, "1")
    if kind in BUFFER_KINDS and p.len is None:
        die("%s: buffer without a length" % where)


# ---- classification ------------------------------------------------------------------

def looks_out(name):
    return name.startswith("p") or "Out" in name \
        or name.endswith("out") or name in OUT_NAMES


def infer(p, types):
    if p.depth == 0:
        cat, h, sc = types.info(p.base)
        if cat == "handle":
            p.kind, p.handle, p.scalar = "HANDLE", h, sc
        elif cat == "devptr":
            p.kind, p.scalar = "DEVPTR", sc
        elif cat in ("scalar", "struct"):
            p.kind, p.scalar = "VALUE", sc
        else:
            p.why = "%s by value" % p.ctype
        return
    if p.depth == 1 and norm(p.pointee) == "char" and p.pointee_const:
        p.kind = "STRING"
        return
    if p.depth == 1 and not p.pointee_const:
        cat, h, sc = types.info(norm(p.pointee))
        if cat == "handle":
            p.kind, p.handle, p.scalar, p.mint = "OUT_HANDLE", h, sc, "SERVER"
            return
        if cat in ("scalar", "devptr") and looks_out(p.name):
            p.kind, p.scalar = "OUT", sc
            return
        if cat == "struct" and looks_out(p.name):
            p.kind, p.scalar, p.len = "OUT_BUF", "STRUCT", ("SIZEOF", 0, 0xFF, "1")
            return
    p.why = "%s %s" % (p.ctype, p.name)


class Call:
    def __init__(self, name, params, annot, types):
        self.name = name
        self.base = re.sub(r"_v\d+$", "", re.sub(r"_(ptds|ptsz)$", "", name))
        self.per_thread = bool(re.search(r"_(ptds|ptsz)$", name))
        self.params = [Param(t, i) for i, t in enumerate(params or [])]
        self.known = params is not None
        self.cls = annot.cls if annot else "FORWARD"
        self.mode = annot.mode if annot else "SYNC"
        self.custom = annot.custom if annot else None
        self.annotated = annot is not None
        self.note = ""
        if not self.known:
            self.cls, self.note = "UNSUPPORTED", "no prototype in cuda.h"
            return
        if len(self.params) > 24:
            self.cls, self.note = "UNSUPPORTED", "more than RPC_MAX_ARGS parameters"
        self.classify(annot, types)

    def classify(self, annot, types):
        by_name = {p.name: p for p in self.params}
        specs = dict(annot.args) if annot else {}
        for n in specs:
            if n not in by_name:
                die("cuda.annot:%d: %s has no parameter '%s'" % (annot.lineno, self.name, n))
        for p in self.params:
            if p.name in specs:
                apply_spec(p, specs[p.name], by_name, types,
                           "cuda.annot:%d: %s %s" % (annot.lineno, self.name, p.name))
            else:
                infer(p, types)
        unknown = [p for p in self.params if p.kind is None]
        for p in unknown:
            p.kind, p.scalar = "CUSTOM", "PTR" if p.depth else types.info(p.base)[2] or "STRUCT"
        if unknown and self.cls == "FORWARD":
            self.cls = "UNSUPPORTED"
            self.note = "cannot classify " + ", ".join(p.why for p in unknown)


def build_calls(symbols, protos, exact, globs, types):
    calls = []
    for name in symbols:
        calls.append(Call(name, protos.get(name), annot_for(name, exact, globs), types))
    names = set(symbols)
    for a in list(exact.values()):
        if a.pattern not in names:
            warn("cuda.annot:%d: %s is not exported by the stub" % (a.lineno, a.pattern))
    return calls


# ---- output --------------------------------------------------------------------------

TABLE_HEAD = """/* Generated by rpc/gen/gen_calls.py from cuda.h and rpc/cuda.annot. Do not edit;
 * do not commit. The descriptor of every function the stub libcuda.so exports,
 * sorted by name (op = index + 1); sizes and alignments come from the compiler. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <cudaProfiler.h>

#include "calls.h"

#define SZ(T) ((uint16_t)sizeof(T))
#define AL(T) ((uint16_t)_Alignof(T))

"""


def c_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def size_type(p):
    """The C type whose size/alignment the descriptor carries."""
    if p.kind in ("VALUE", "HANDLE", "DEVPTR", "CUSTOM", "NULL") or p.depth == 0:
        return p.ctype
    t = p.pointee
    return "char" if norm(t) == "void" else t


def len_init(p):
    if p.len is None:
        return "{RPC_LEN_NONE, 0, 0, 0}"
    kind, a, b, k = p.len
    elem = size_type(p)
    if kind == "SIZEOF":
        return "{RPC_LEN_SIZEOF, 0, 0, 1}"
    if p.kind in ("IN_BUF", "OUT_BUF", "INOUT_BUF") and kind in ("ARG", "ARG_MUL", "ARGS_MUL",
                                                                "CONST") \
            and norm(elem) not in ("char", "unsigned char", "signed char"):
        k = "(%s)*sizeof(%s)" % (k, elem)
        if kind == "ARG":
            kind = "ARG_MUL"
    return "{RPC_LEN_%s, %d, %d, (uint32_t)(%s)}" % (kind, a, b, k)


def emit_table(out, calls):
    w = out.write
    w(TABLE_HEAD)
    for i, c in enumerate(calls):
        if not c.params:
            continue
        w("static const struct rpc_arg_desc a%d[] = {\n" % i)
        asserts = []
        for p in c.params:
            t = size_type(p)
            w("    {%s, %s, RPC_ARG_%s, RPC_S_%s, SZ(%s), AL(%s), RPC_H_%s, RPC_MINT_%s, %s},\n"
              % (c_str(p.name), c_str(p.ctype), p.kind, p.scalar or "STRUCT", t, t, p.handle,
                 p.mint, len_init(p)))
            if p.kind == "VALUE" and p.scalar == "STRUCT":
                asserts.append("_Static_assert(sizeof(%s) <= 64, \"%s.%s fits rpc_decoded.val\");\n"
                               % (t, c.name, p.name))
        w("};\n")
        for a in asserts:
            w(a)
    w("\nconst struct rpc_call_desc rpc_calls[] = {\n")
    for i, c in enumerate(calls):
        w("    {%d, %s, %s, RPC_CLASS_%s, RPC_MODE_%s, %s, %d, %s, %s},\n"
          % (i + 1, c_str(c.name), c_str(c.base), c.cls, c.mode,
             "true" if c.per_thread else "false", len(c.params),
             "a%d" % i if c.params else "NULL", c_str(c.custom) if c.custom else "NULL"))
    w("};\nconst size_t rpc_ncalls = %d;\n" % len(calls))


STUBS_HEAD = """/* Generated by rpc/gen/gen_calls.py from cuda.h and rpc/cuda.annot. Do not edit;
 * do not commit. The shim's entry point of every forwarded (and custom) driver
 * function: pack the arguments' addresses and hand them to rg_shim_forward. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <cudaProfiler.h>

#include "forward.h"

#define RG_EXPORT __attribute__((visibility("default")))

"""


def emit_stubs(out, calls):
    w = out.write
    w(STUBS_HEAD)
    for i, c in enumerate(calls):
        if c.cls not in ("FORWARD", "CUSTOM"):
            continue
        sig = ", ".join(p.text for p in c.params) or "void"
        w("RG_EXPORT CUresult CUDAAPI %s(%s)\n{\n" % (c.name, sig))
        if c.params:
            w("    void *args[] = {%s};\n" % ", ".join("&" + p.name for p in c.params))
            w("    return rg_shim_forward(&rpc_calls[%d], args);\n}\n\n" % i)
        else:
            w("    return rg_shim_forward(&rpc_calls[%d], NULL);\n}\n\n" % i)


CLASS_TEXT = {"FORWARD": "forwarded", "CUSTOM": "custom", "CLIENT": "client",
              "UNSUPPORTED": "not supported"}


def emit_coverage(out, calls):
    w = out.write
    counts = {}
    for c in calls:
        counts[c.cls] = counts.get(c.cls, 0) + 1
    w("# rgpu driver API coverage\n\n")
    w("Generated by `rpc/gen/gen_calls.py` from `cuda.h` and `rpc/cuda.annot` for every\n"
      "symbol the toolkit's stub `libcuda.so` exports. *forwarded*: run by the server;\n"
      "*custom*: forwarded with a hand-written marshaller; *client*: handled inside the\n"
      "shim; *not supported*: returns `CUDA_ERROR_NOT_SUPPORTED` and logs its name once.\n\n")
    w("| class | functions |\n| --- | ---: |\n")
    for k in ("FORWARD", "CUSTOM", "CLIENT", "UNSUPPORTED"):
        w("| %s | %d |\n" % (CLASS_TEXT[k], counts.get(k, 0)))
    w("| **total** | %d |\n\n" % len(calls))
    w("| function | class | mode | note |\n| --- | --- | --- | --- |\n")
    for c in calls:
        mode = c.mode.lower() if c.cls in ("FORWARD", "CUSTOM") else ""
        note = c.note or ("`custom=%s`" % c.custom if c.custom else "")
        w("| `%s` | %s | %s | %s |\n" % (c.name, CLASS_TEXT[c.cls], mode, note))


def write(path, fn, calls):
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        fn(out, calls)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stub", required=True, help="the toolkit's stub libcuda.so")
    ap.add_argument("--include", required=True, help="directory holding cuda.h")
    ap.add_argument("--annot", required=True, action="append",
                    help="rpc/cuda.annot, then rpc/annot/*.annot (repeatable)")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--table")
    ap.add_argument("--stubs")
    ap.add_argument("--coverage")
    ap.add_argument("--list", action="store_true", help="print each call's classification")
    args = ap.parse_args()
    text = preprocess(args.cc, args.include)
    types = Types(text)
    exact, globs = read_annot(args.annot)
    calls = build_calls(stub_symbols(args.stub), prototypes(text), exact, globs, types)
    if args.table:
        write(args.table, emit_table, calls)
    if args.stubs:
        write(args.stubs, emit_stubs, calls)
    if args.coverage:
        write(args.coverage, emit_coverage, calls)
    if args.list:
        for c in calls:
            print("%-44s %-11s %-5s %s" % (c.name, c.cls, c.mode, c.note))


if __name__ == "__main__":
    main()
