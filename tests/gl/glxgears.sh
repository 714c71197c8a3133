#!/bin/sh
# glxgears.sh — a gears demo (mesa-utils, unmodified: glxgears, es2gears_x11)
# runs through rgpu-run --gl for a fixed time on the X display given (run it
# under with-xvfb.sh) against a private rgpud, and reports frames; the same run
# on local llvmpipe is printed beside it (timings are rgpu-bench's business:
# nothing is asserted about them).
# usage: glxgears.sh RGPUD SHIM_DIR RGPU_RUN WITH_RGPUD [PROGRAM]   (exit 77: not installed)
set -u
rgpud=$1 shimdir=$2 rgpurun=$3 with=$4 prog=${5:-glxgears}
command -v "$prog" >/dev/null || { echo "SKIP: $prog is not installed (mesa-utils)"; exit 77; }
secs=10 # the demos report after 5 seconds of frames (start-up can take seconds on a loaded machine); unbuffered, since timeout ends them
local_fps=$(timeout "$secs" stdbuf -o0 "$prog" 2>&1 | sed -n 's/.* = \([0-9.]*\) FPS/\1/p' | head -n 1)
out=$("$with" "$rgpud" "$shimdir" sh -c "timeout $secs stdbuf -o0 \"$rgpurun\" --gl $prog; test \$? -eq 124" 2>&1)
rc=$?
echo "$out"
[ $rc -ne 0 ] && { echo "FAIL: $prog through rgpu did not run for ${secs}s"; exit 1; }
fps=$(echo "$out" | sed -n 's/.* = \([0-9.]*\) FPS/\1/p' | head -n 1)
if [ -z "$fps" ]; then
    echo "FAIL: $prog through rgpu reported no frames"
    exit 1
fi
echo "$prog: ${fps} FPS through rgpu, ${local_fps:-?} FPS on local llvmpipe"
