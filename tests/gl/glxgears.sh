#!/bin/sh
# glxgears.sh — glxgears (mesa-utils, unmodified) runs through rgpu-run --gl for
# a fixed time on the X display given (run it under with-xvfb.sh) against a
# private rgpud, and reports frames; the same run on local llvmpipe is printed
# beside it (timings are rgpu-bench's business: nothing is asserted about them).
# usage: glxgears.sh RGPUD SHIM_DIR RGPU_RUN WITH_RGPUD   (exit 77: no glxgears)
set -u
rgpud=$1 shimdir=$2 rgpurun=$3 with=$4
command -v glxgears >/dev/null || { echo "SKIP: glxgears is not installed (mesa-utils)"; exit 77; }
secs=6 # glxgears reports after 5 seconds
local_fps=$(timeout "$secs" glxgears 2>&1 | sed -n 's/.* = \([0-9.]*\) FPS/\1/p' | head -n 1)
out=$("$with" "$rgpud" "$shimdir" sh -c "timeout $secs \"$rgpurun\" --gl glxgears; test \$? -eq 124" 2>&1)
rc=$?
echo "$out"
[ $rc -ne 0 ] && { echo "FAIL: glxgears through rgpu did not run for ${secs}s"; exit 1; }
fps=$(echo "$out" | sed -n 's/.* = \([0-9.]*\) FPS/\1/p' | head -n 1)
if [ -z "$fps" ]; then
    echo "FAIL: glxgears through rgpu reported no frames"
    exit 1
fi
echo "glxgears: ${fps} FPS through rgpu, ${local_fps:-?} FPS on local llvmpipe"
