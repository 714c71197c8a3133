#!/usr/bin/env bash
# `make run`: a CUDA program on simgpu directly, then the same kind of program
# remoted: rgpud (simgpu backend) on a free loopback port, the program under
# rgpu-run, and the server stopped again.
set -euo pipefail
BUILD=${1:-build}
BIN="$PWD/$BUILD/bin"

echo "== 1. simgpu directly: $BUILD/lib/simgpu/libcuda.so.1"
echo "-- driver-API program (PTX loaded at run time):"
LD_LIBRARY_PATH="$PWD/$BUILD/lib/simgpu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$BIN/simgpu-demo"
if [ -x "$BUILD/examples/vecadd_rt" ]; then
  echo "-- unmodified nvcc-built runtime-API program (static cudart):"
  LD_LIBRARY_PATH="$PWD/$BUILD/lib/simgpu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$BUILD/examples/vecadd_rt"
fi

echo
echo "== 2. remoted: rgpud --backend simgpu on loopback, programs under rgpu-run"
tmp=$(mktemp -d)
"$BIN/rgpud" --listen tcp://127.0.0.1:0 --backend simgpu --log-level warn \
  --port-file "$tmp/port" 2>"$tmp/rgpud.log" &
server=$!
stop_server() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap stop_server EXIT
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
if [ ! -s "$tmp/port" ]; then
  echo "rgpud did not start:" >&2
  cat "$tmp/rgpud.log" >&2
  exit 1
fi
url="tcp://127.0.0.1:$(cat "$tmp/port")"
echo "-- rgpud (pid $server) listening on $url"
echo "-- driver-API program through rgpu-run:"
"$BIN/rgpu-run" --server "$url" -- "$BIN/simgpu-demo"
if [ -x "$BUILD/examples/vecadd_rt" ]; then
  echo "-- nvcc-built runtime-API program through rgpu-run:"
  "$BIN/rgpu-run" --server "$url" -- "$BUILD/examples/vecadd_rt"
fi
echo "-- stopping rgpud"
