#!/bin/sh
# devquery.sh — the device query gives the same answers through the shim and
# rgpud as on simgpu directly.
# usage: devquery.sh DEVQUERY SIMGPU_DIR WITH_RGPUD RGPUD SHIM_DIR
set -u
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
LD_LIBRARY_PATH="$2" "$1" >"$t/direct" || { echo "direct run failed"; cat "$t/direct"; exit 1; }
"$3" "$4" "$5" -- "$1" >"$t/remote"
rc=$?
[ $rc -eq 77 ] && exit 77
if [ $rc -ne 0 ] || ! cmp -s "$t/direct" "$t/remote"; then
    echo "through rgpud (exit $rc) differs from simgpu direct:"
    diff "$t/direct" "$t/remote"
    exit 1
fi
cat "$t/remote"
