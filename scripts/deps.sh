#!/usr/bin/env bash
# Installs the Debian packages rgpu needs to build and test, only those missing.
# Called by `make deps` (and so by `make run` / `make test`); needs root for apt-get.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config python3
  libzstd-dev liblz4-dev    # fatbin entries are LZ4-block or Zstandard compressed
  protobuf-c-compiler libprotobuf-c-dev    # rpc/proto: handshake and error schemas
  libffi-dev    # rgpud calls the backend through libffi
  libzmq3-dev    # rgpud's admin socket and rgpuctl (ZeroMQ)
  libssl-dev    # SCRAM-SHA-256 and tls:// (OpenSSL; the shim links its .a archives, hidden)
  libucx-dev ucx-utils    # transport/ucx (RDMA verbs, shared memory, tcp); optional: the build skips it without
  gnuplot-nox    # rgpu-bench: the PNG plots (without it the table and JSON are still written)
  # GL forwarding (docs/gl.md): GLVND headers/ABI, Mesa llvmpipe for the server side, gl.xml, Xvfb + demos for tests
  libglvnd-dev libegl-dev libgles-dev libgl-dev libegl-mesa0 libgl1-mesa-dri khronos-api
  libx11-dev libxext-dev xvfb mesa-utils
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root to install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
