#!/bin/sh
# run-pbuffer.sh — the image check: PROGRAM (pbuffer.c, es3.c, fixedfn.c,
# glxwin.c) renders its scene on local Mesa llvmpipe and then through rgpu
# (rgpu's vendor library -> rgpud on loopback -> the worker's EGL on
# llvmpipe), started as `rgpu-run --gl PROGRAM`; the two images must be
# identical.
# usage: run-pbuffer.sh RGPUD SHIM_DIR RGPU_RUN WITH_RGPUD PROGRAM   (exit 77: skipped)
set -u
rgpud=$1 shimdir=$2 rgpurun=$3 with=$4 prog=$5
mesa=""
for f in /usr/share/glvnd/egl_vendor.d/50_mesa.json /etc/glvnd/egl_vendor.d/50_mesa.json; do
    [ -f "$f" ] && mesa=$f && break
done
if [ -z "$mesa" ]; then
    echo "SKIP: no Mesa EGL vendor (libegl-mesa0) for the local reference image"
    exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/rgpu-gl.XXXXXX")
trap 'rm -rf "$dir"' EXIT
__EGL_VENDOR_LIBRARY_FILENAMES=$mesa "$prog" "$dir/local.ppm"
rc=$?
if [ $rc -ne 0 ]; then
    [ $rc -eq 77 ] && echo "SKIP: local llvmpipe cannot run the program"
    exit $rc
fi
"$with" "$rgpud" "$shimdir" "$rgpurun" --gl "$prog" "$dir/remote.ppm"
rc=$?
[ $rc -ne 0 ] && exit $rc
if ! cmp "$dir/local.ppm" "$dir/remote.ppm"; then
    echo "FAIL: the image rendered through rgpu differs from local llvmpipe's"
    exit 1
fi
echo "identical images ($(wc -c <"$dir/local.ppm") bytes) locally and through rgpu"
