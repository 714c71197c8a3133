#!/bin/sh
# gears-frame.sh — the screenshot check of a gears demo (mesa-utils, unmodified:
# glxgears, es2gears_x11): the program runs with gearshot.so preloaded (a fake
# clock that advances a fixed step per swap, so the animation no longer depends
# on timing; the window read back from the X server after swap N) first on local
# llvmpipe, then through rgpu-run --gl against a private rgpud; the two frames
# must match within a small threshold (imgdiff). Run it under with-xvfb.sh.
# usage: gears-frame.sh RGPUD SHIM_DIR RGPU_RUN WITH_RGPUD GEARSHOT IMGDIFF PROGRAM [FRAME]
#        (exit 77: not installed)
set -u
rgpud=$1 shimdir=$2 rgpurun=$3 with=$4 shot=$5 diff=$6 prog=$7 frame=${8:-30}
command -v "$prog" >/dev/null || { echo "SKIP: $prog is not installed (mesa-utils)"; exit 77; }
mesa=""
for f in /usr/share/glvnd/egl_vendor.d/50_mesa.json /etc/glvnd/egl_vendor.d/50_mesa.json; do
    [ -f "$f" ] && mesa=$f && break
done
[ -z "$mesa" ] && { echo "SKIP: no Mesa EGL vendor (libegl-mesa0) for the local reference frame"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/rgpu-gears.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export RG_SHOT_FRAME=$frame
RG_SHOT_FILE=$dir/local.ppm __EGL_VENDOR_LIBRARY_FILENAMES=$mesa LD_PRELOAD=$shot \
    timeout 120 "$prog" >/dev/null
rc=$?
[ $rc -ne 0 ] || [ ! -s "$dir/local.ppm" ] && { echo "SKIP: $prog did not run on local llvmpipe ($rc)"; exit 77; }
"$with" "$rgpud" "$shimdir" env RG_SHOT_FILE="$dir/remote.ppm" LD_PRELOAD="$shot" \
    timeout 120 "$rgpurun" --gl "$prog"
rc=$?
[ $rc -ne 0 ] || [ ! -s "$dir/remote.ppm" ] && { echo "FAIL: $prog through rgpu did not reach frame $frame ($rc)"; exit 1; }
# llvmpipe on both sides: the frames should be equal; allow 0.1% of the pixels
# to differ by more than 2 levels.
if ! "$diff" "$dir/local.ppm" "$dir/remote.ppm" 2 0.001; then
    echo "FAIL: frame $frame of $prog through rgpu differs from local llvmpipe's"
    exit 1
fi
echo "frame $frame of $prog through rgpu matches local llvmpipe's"
