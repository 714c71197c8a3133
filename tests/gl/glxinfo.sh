#!/bin/sh
# glxinfo.sh — `glxinfo -B` through rgpu (rgpu-run --gl, the GLX vendor in
# libGLX_rgpu.so.0) on a private Xvfb against a private rgpud: the renderer
# string must name the server's renderer and rgpu, and GL must raise no error.
# usage: glxinfo.sh RGPUD SHIM_DIR RGPU_RUN WITH_RGPUD   (exit 77: no Xvfb / glxinfo)
set -u
rgpud=$1 shimdir=$2 rgpurun=$3 with=$4
for p in Xvfb glxinfo; do
    command -v $p >/dev/null || { echo "SKIP: $p is not installed (xvfb, mesa-utils)"; exit 77; }
done
n=90
while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do
    n=$((n + 1))
    [ $n -gt 189 ] && { echo "SKIP: no free X display number"; exit 77; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/rgpu-glx.XXXXXX")
Xvfb ":$n" -screen 0 640x480x24 -nolisten tcp >"$dir/xvfb.log" 2>&1 &
xpid=$!
trap 'kill $xpid 2>/dev/null; wait $xpid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
i=0
while [ ! -e "/tmp/.X11-unix/X$n" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -e "/tmp/.X11-unix/X$n" ]; then
    echo "SKIP: Xvfb did not start"; cat "$dir/xvfb.log"; exit 77
fi
DISPLAY=":$n" "$with" "$rgpud" "$shimdir" "$rgpurun" --gl glxinfo -B >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
[ $rc -ne 0 ] && exit $rc
if ! grep -q '^OpenGL renderer string: .* via rgpu$' "$dir/out"; then
    echo "FAIL: the renderer string does not name rgpu"; exit 1
fi
if grep -q 'GL error' "$dir/out"; then
    echo "FAIL: glxinfo saw a GL error"; exit 1
fi
echo "glxinfo -B renders through rgpu"
