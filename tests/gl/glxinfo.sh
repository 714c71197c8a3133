#!/bin/sh
# glxinfo.sh — `glxinfo -B` through rgpu (rgpu-run --gl, the GLX vendor in
# libGLX_rgpu.so.0) against a private rgpud, on the X display given (run it
# under with-xvfb.sh): the renderer string must name the server's renderer and
# rgpu, and GL must raise no error; full glxinfo lists the core profile's
# extensions as local Mesa does.
# usage: glxinfo.sh RGPUD SHIM_DIR RGPU_RUN WITH_RGPUD   (exit 77: no glxinfo)
set -u
rgpud=$1 shimdir=$2 rgpurun=$3 with=$4
command -v glxinfo >/dev/null || { echo "SKIP: glxinfo is not installed (mesa-utils)"; exit 77; }
out=$("$with" "$rgpud" "$shimdir" "$rgpurun" --gl glxinfo -B 2>&1)
rc=$?
echo "$out"
[ $rc -ne 0 ] && exit $rc
if ! echo "$out" | grep -q '^OpenGL renderer string: .* via rgpu$'; then
    echo "FAIL: the renderer string does not name rgpu"
    exit 1
fi
if echo "$out" | grep -q 'GL error'; then
    echo "FAIL: glxinfo saw a GL error"
    exit 1
fi
# The full listing: the core profile's extensions (glGetStringi, fetched as one list)
# are local Mesa's, which is also what the server runs here.
exts() { sed -n '/^OpenGL core profile extensions:/,/^OpenGL version string/p' | tr -s ' ,' '\n\n' | grep '^GL_' | sort; }
mine=$("$with" "$rgpud" "$shimdir" "$rgpurun" --gl glxinfo 2>&1 | exts)
ref=$(glxinfo 2>/dev/null | exts)
if [ -n "$ref" ]; then
    [ "$mine" = "$ref" ] || { echo "FAIL: the core profile's extensions differ from local Mesa's"; exit 1; }
    echo "core profile extensions: $(echo "$mine" | wc -l), as local Mesa lists them"
fi
echo "glxinfo -B renders through rgpu"
