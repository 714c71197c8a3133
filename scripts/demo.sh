#!/usr/bin/env bash
# `make run`: show a CUDA program running on simgpu, the software GPU.
set -euo pipefail
BUILD=${1:-build}
export LD_LIBRARY_PATH="$PWD/$BUILD/lib/simgpu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "== simgpu: $(ls "$BUILD"/lib/simgpu/libcuda.so.1)"
echo "== driver-API program (PTX loaded at run time):"
"$BUILD/bin/simgpu-demo"
if [ -x "$BUILD/examples/vecadd_rt" ]; then
  echo "== unmodified nvcc-built runtime-API program (static cudart):"
  "$BUILD/examples/vecadd_rt"
fi
