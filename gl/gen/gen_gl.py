#!/usr/bin/env python3
"""gen_gl.py — GL command descriptors from the Khronos registry plus rgpu's overlay.

Reads gl.xml (Debian khronos-api: /usr/share/khronos-api/gl.xml) and gl/gl.overlay,
and writes into the build tree:
  rg_gl_cmds.h   opcodes (RG_GLOP_<name>), one per forwarded command
  rg_gl_cmds.c   rg_gl_cmds[]: argument kinds, classes, size functions, sync class
  rg_gl_enc.c    the client's encoder for every generated command and the
                 name -> function table its getProcAddress searches
Which commands: every command of the features named on the command line
(e.g. GL_ES_VERSION_2_0), in registry order, so opcodes are stable for a
given registry and feature list. The overlay (format at its head) says what
gl.xml cannot: sizes of COMPSIZE/unsized pointers, strings, buffer offsets,
custom commands, sync overrides.

usage: gen_gl.py GL_XML OVERLAY OUTDIR FEATURE...
"""
import re
import sys
import xml.etree.ElementTree as ET

SCALAR = {
    'GLenum': ('U32', 'GLenum'), 'GLboolean': ('U8', 'GLboolean'), 'GLbitfield': ('U32', 'GLbitfield'),
    'GLbyte': ('I8', 'GLbyte'), 'GLubyte': ('U8', 'GLubyte'), 'GLshort': ('I16', 'GLshort'),
    'GLushort': ('U16', 'GLushort'), 'GLint': ('I32', 'GLint'), 'GLuint': ('U32', 'GLuint'),
    'GLsizei': ('I32', 'GLsizei'), 'GLfloat': ('F32', 'GLfloat'), 'GLclampf': ('F32', 'GLclampf'),
    'GLdouble': ('F64', 'GLdouble'), 'GLclampd': ('F64', 'GLdouble'), 'GLfixed': ('I32', 'GLfixed'),
    'GLintptr': ('I64', 'GLintptr'), 'GLsizeiptr': ('I64', 'GLsizeiptr'), 'GLint64': ('I64', 'GLint64'),
    'GLuint64': ('U64', 'GLuint64'), 'GLchar': ('I8', 'GLchar'), 'GLhalf': ('U16', 'GLhalf'),
}
ELEM = {'void': 1, 'GLvoid': 1, 'GLchar': 1, 'GLubyte': 1, 'GLbyte': 1, 'GLboolean': 1,
        'GLshort': 2, 'GLushort': 2, 'GLhalf': 2, 'GLint': 4, 'GLuint': 4, 'GLenum': 4,
        'GLsizei': 4, 'GLfloat': 4, 'GLfixed': 4, 'GLbitfield': 4, 'GLclampf': 4,
        'GLdouble': 8, 'GLint64': 8, 'GLuint64': 8, 'GLintptr': 8, 'GLsizeiptr': 8}
CLASSES = {'buffer': 'BUFFER', 'texture': 'TEXTURE', 'framebuffer': 'FRAMEBUFFER',
           'renderbuffer': 'RENDERBUFFER', 'program': 'PROGRAM', 'shader': 'SHADER',
           'vertex array': 'VERTEXARRAY', 'query': 'QUERY', 'sampler': 'SAMPLER',
           'transform feedback': 'TRANSFORMFEEDBACK', 'sync': 'SYNC',
           'display list': 'DISPLAYLIST'}


def die(msg):
    sys.exit('gen_gl.py: ' + msg)


class Param:
    def __init__(self, el):
        self.name = el.find('name').text
        pt = el.find('ptype')
        self.ptype = pt.text if pt is not None else 'void'
        text = ''.join(el.itertext())
        self.decl = ' '.join(text.split())  # C declaration, e.g. "const GLfloat *v"
        self.stars = text.count('*')
        self.const = text.strip().startswith('const')
        self.len = el.get('len')
        self.cls = el.get('class')
        self.ov = {}

    def ctype(self):
        return self.decl[: self.decl.rfind(self.name)].strip()


class Cmd:
    def __init__(self, el):
        proto = el.find('proto')
        self.name = proto.find('name').text
        text = ''.join(proto.itertext())
        self.rtype = ' '.join(text[: text.rfind(self.name)].split())
        self.rclass = proto.get('class')
        self.params = [Param(p) for p in el.findall('param')]
        self.ov = {}


def read_overlay(path):
    """Lines: COMMAND [PARAM] key[=value] ... ; '#' comments. A key without a
    PARAM applies to the command (its first word contains '=' or is a flag)."""
    cmd_keys = {'sync', 'async', 'unsupported', 'custom', 'shadow'}
    ov = {}
    for ln, line in enumerate(open(path), 1):
        line = line.split('#', 1)[0].split()
        if not line:
            continue
        cmd, rest = line[0], line[1:]
        target = '' if not rest or '=' in rest[0] or rest[0] in cmd_keys else rest.pop(0)
        d = ov.setdefault((cmd, target), {})
        for kv in rest:
            k, _, v = kv.partition('=')
            if (k in d):
                die('%s:%d: %s %s: %s given twice' % (path, ln, cmd, target, k))
            d[k] = v if v else True
    return ov


def c_len_expr(cmd, p):
    """Bytes of a pointer parameter as a C expression over the parameter
    names (sc: the size context), or None if unknown."""
    elem = ELEM.get(p.ptype, 0) if p.stars == 1 else 8
    if 'bytes' in p.ov:
        return p.ov['bytes']
    if 'elems' in p.ov:
        return '(size_t)%d * (%s)' % (elem, p.ov['elems'])
    if p.len is None or 'COMPSIZE' in p.len or not elem:
        return None
    names = {q.name for q in cmd.params}
    toks = re.findall(r'[A-Za-z_]\w*|\d+|[*/+()-]', p.len)
    if ''.join(toks) != p.len.replace(' ', ''):
        return None
    for t in toks:
        if re.match(r'[A-Za-z_]', t) and t not in names:
            return None
    return '(size_t)%d * rg_gl_n((int64_t)(%s))' % (elem, p.len)


def classify(cmd):
    """Kinds of every parameter, the flags, and the reason when unsupported."""
    flags = []
    why = None
    for p in cmd.params:
        o = p.ov
        if p.stars == 0:
            if p.ptype not in SCALAR:
                if p.ptype == 'GLsync':  # a client-minted id, translated like a name
                    p.kind = 'U64'
                    p.cls = 'sync'
                else:
                    why = why or 'scalar type %s' % p.ptype
                    p.kind = 'U64'
            else:
                p.kind = SCALAR[p.ptype][0]
            p.size = None
            continue
        if 'str' in o:
            p.kind, p.size = 'STR', None
            continue
        if p.stars > 1:  # arrays of pointers: their values are client addresses
            why = why or '%s: an array of pointers' % p.name
            p.kind, p.size = 'IN', None
            continue
        p.size = c_len_expr(cmd, p)
        if 'bufoff' in o:
            # without a size: only an offset (client arrays: glc_arrays.c)
            p.kind = 'BUFOFF' if p.const or o.get('dir') == 'in' else 'BUFOFF_OUT'
            continue
        if p.size is None:
            why = why or '%s: no size (len=%s)' % (p.name, p.len)
            p.kind = 'IN'
            continue
        p.kind = 'IN' if (p.const or o.get('dir') == 'in') and o.get('dir') != 'out' else 'OUT'
    rk = 'VOID'
    if cmd.rtype != 'void':
        base = cmd.rtype.replace('const', '').strip()
        if base in SCALAR:
            rk = SCALAR[base][0]
        elif base == 'GLsync':
            rk = 'U64'
            why = why or 'returns a GLsync (needs translation)'
        else:
            why = why or 'returns %s' % cmd.rtype
    sync = rk != 'VOID' or any(p.kind in ('OUT', 'BUFOFF_OUT') for p in cmd.params)
    if cmd.ov.get('sync'):
        sync = True
    if cmd.ov.get('async'):
        sync = False
    if sync:
        flags.append('RG_GF_SYNC')
    if cmd.ov.get('custom'):
        flags.append('RG_GF_CUSTOM')
        why = None
    if cmd.ov.get('unsupported'):
        why = cmd.ov['unsupported'] if isinstance(cmd.ov['unsupported'], str) else 'overlay'
    if why:
        flags.append('RG_GF_UNSUPPORTED')
    return rk, flags, why


def main():
    if len(sys.argv) < 5:
        die(__doc__)
    xml, ovpath, outdir, features = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    reg = ET.parse(xml).getroot()
    cmds = {c.find('proto/name').text: c for c in reg.find('commands').findall('command')}
    want = []
    for f in reg.findall('feature'):
        if f.get('name') not in features:
            continue
        for req in f.findall('require'):
            for c in req.findall('command'):
                n = c.get('name')
                if n not in want:
                    want.append(n)
    ov = read_overlay(ovpath)
    for (cn, pn) in ov:
        if cn not in cmds:
            die('overlay names unknown command %s' % cn)
        if pn and pn not in [p.find('name').text for p in cmds[cn].findall('param')]:
            die('overlay names unknown parameter %s.%s' % (cn, pn))
    out = []
    for n in want:
        c = Cmd(cmds[n])
        c.ov = ov.get((n, ''), {})
        for p in c.params:
            p.ov = ov.get((n, p.name), {})
        c.rk, c.flags, c.why = classify(c)
        out.append(c)

    with open(outdir + '/rg_gl_cmds.h', 'w') as h:
        h.write('/* generated by gl/gen/gen_gl.py from gl.xml + gl/gl.overlay; do not edit */\n')
        h.write('#ifndef RG_GL_CMDS_H\n#define RG_GL_CMDS_H\nenum rg_gl_opcode {\n    RG_GLOP_NONE_ = 0,\n')
        for c in out:
            h.write('    RG_GLOP_%s,\n' % c.name)
        h.write('    RG_GLOP_N_\n};\n#endif\n')

    with open(outdir + '/rg_gl_cmds.c', 'w') as f:
        f.write('/* generated by gl/gen/gen_gl.py from gl.xml + gl/gl.overlay; do not edit */\n')
        f.write('#include "gl_api.h"\n#include "gl_desc.h"\n#include "rg_gl_cmds.h"\n\n')
        f.write('#pragma GCC diagnostic ignored "-Wunused-variable"\n')
        f.write('#pragma GCC diagnostic ignored "-Wunused-parameter"\n\n')
        for c in out:
            for i, p in enumerate(c.params):
                if p.size and p.kind in ('IN', 'OUT', 'BUFOFF', 'BUFOFF_OUT'):
                    f.write('static size_t sz_%s_%d(const union rg_gl_arg *a, const struct rg_gl_sizectx *sc)\n{\n'
                            % (c.name, i))
                    for j, q in enumerate(c.params):
                        if q.stars == 0:
                            fld = {'F32': 'f', 'F64': 'd'}.get(q.kind, 'i')
                            f.write('    %s %s = (%s)a[%d].%s;\n' % (q.ctype(), q.name, q.ctype(), j, fld))
                    f.write('    return %s;\n}\n' % p.size)
            f.write('static const struct rg_gl_param p_%s[] = {\n' % c.name)
            for p in c.params:
                cls = CLASSES.get(p.cls or '', 'NONE') if p.cls else 'NONE'
                elem = ELEM.get(p.ptype, 1) if p.stars else 0
                bind = p.ov.get('bufoff', '0')
                size = 'sz_%s_%d' % (c.name, c.params.index(p)) if (p.size and p.kind in ('IN', 'OUT', 'BUFOFF', 'BUFOFF_OUT')) else 'NULL'
                f.write('    {RG_GK_%s, RG_GC_%s, %d, %d, %s, %s},\n'
                        % (p.kind, cls, 1 if p.ov.get('nullable') else 0, elem, bind, size))
            f.write('    {0}\n};\n')
        f.write('\nconst struct rg_gl_cmd rg_gl_cmds[] = {\n    {0},\n')
        for c in out:
            rcls = 'RG_GC_' + CLASSES[c.rclass] if c.rclass in CLASSES else '0'
            custom = '"%s"' % c.ov['custom'] if isinstance(c.ov.get('custom'), str) else 'NULL'
            f.write('    {"%s", RG_GK_%s, %s, %d, %s, p_%s, %s},%s\n'
                    % (c.name, c.rk, '|'.join(c.flags) or '0', len(c.params), rcls, c.name, custom,
                       ' /* unsupported: %s */' % c.why if c.why else ''))
        f.write('};\nconst unsigned rg_gl_ncmds = RG_GLOP_N_;\n')

    with open(outdir + '/rg_gl_enc.c', 'w') as f:
        f.write('/* generated by gl/gen/gen_gl.py from gl.xml + gl/gl.overlay; do not edit */\n')
        f.write('#include "glc.h"\n\n')
        names = []
        for c in out:
            op = 'RG_GLOP_' + c.name
            args = ', '.join(p.decl for p in c.params) or 'void'
            names.append(c.name)
            if 'RG_GF_CUSTOM' in c.flags:
                f.write('%s rgc_%s(%s); /* glc_custom.c */\n' % (c.rtype, c.name, args))
                continue
            f.write('static %s rgc_%s(%s)\n{\n' % (c.rtype, c.name, args))
            if c.why:
                f.write('    rg_glc_unsupported(%s);\n' % op)
                if c.rtype != 'void':
                    f.write('    return 0;\n')
                f.write('}\n')
                continue
            f.write('    union rg_gl_arg a[%d];\n' % len(c.params) if c.params else '    union rg_gl_arg *a = NULL;\n')
            for i, p in enumerate(c.params):
                if p.stars:
                    f.write('    a[%d].p = (const void *)%s;\n' % (i, p.name))
                elif p.kind in ('F32',):
                    f.write('    a[%d].f = %s;\n' % (i, p.name))
                elif p.kind in ('F64',):
                    f.write('    a[%d].d = %s;\n' % (i, p.name))
                elif p.kind in ('U64', 'I64') and p.ptype == 'GLsync':
                    f.write('    a[%d].u = (uint64_t)(uintptr_t)%s;\n' % (i, p.name))
                else:
                    f.write('    a[%d].i = (int64_t)%s;\n' % (i, p.name))
            if c.ov.get('shadow'):
                f.write('    rg_glc_shadow_%s(a);\n' % c.name)
            if c.rk == 'VOID':
                f.write('    rg_glc_command(%s, a, NULL);\n}\n' % op)
            else:
                f.write('    union rg_gl_arg r = {0};\n    rg_glc_command(%s, a, &r);\n' % op)
                if c.rtype == 'GLsync':
                    f.write('    return (GLsync)(uintptr_t)r.u;\n}\n')
                else:
                    f.write('    return (%s)r.i;\n}\n' % c.rtype)
        f.write('\nconst struct rg_glc_proc rg_glc_procs[] = {\n')
        for n in sorted(names):
            f.write('    {"%s", (void (*)(void))rgc_%s},\n' % (n, n))
        f.write('};\nconst unsigned rg_glc_nprocs = %d;\n' % len(names))

    unsup = [c for c in out if c.why]
    with open(outdir + '/gl-coverage.md', 'w') as f:
        f.write('# GL commands generated (%s)\n\n%d commands, %d sync, %d custom, %d unsupported\n\n'
                % (' '.join(features), len(out), sum('RG_GF_SYNC' in c.flags for c in out),
                   sum('RG_GF_CUSTOM' in c.flags for c in out), len(unsup)))
        for c in unsup:
            f.write('- %s: %s\n' % (c.name, c.why))


if __name__ == '__main__':
    main()
