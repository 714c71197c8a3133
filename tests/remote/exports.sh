#!/bin/sh
# exports.sh — the shim exports exactly the toolkit stub's cu* symbols and
# nothing else but rgpu_private_v2, the GL libraries' way into the session
# (client-shim/cuda/rgpu_private.h) (DESIGN "a guest in someone else's process").
# usage: exports.sh STUB_LIBCUDA SHIM_LIBCUDA
set -eu
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
nm -D --defined-only "$1" | awk '$3 ~ /^cu/ {print $3}' | sort -u >"$t/stub"
nm -D --defined-only "$2" | awk 'NF >= 3 && $3 != "rgpu_private_v2" {print $3}' | sort -u >"$t/shim"
if ! cmp -s "$t/stub" "$t/shim"; then
    echo "export lists differ (< stub only, > shim only):"
    diff "$t/stub" "$t/shim" | head -50
    exit 1
fi
echo "$(wc -l <"$t/shim") exports, same as the stub"
