#!/bin/sh
# eglinfo.sh — `eglinfo` (mesa-utils, unmodified) through rgpu (rgpu-run --gl,
# the EGL vendor in libEGL_rgpu.so.0) against a private rgpud, on the X display
# given (run it under with-xvfb.sh): the client extensions name rgpu's platforms
# (X11, surfaceless), each platform's display is rgpu's with configs, the X11
# ones on a TrueColor visual, and every surfaceless config (sizes of colour,
# depth, stencil, samples) is one that local Mesa's surfaceless platform — the
# server's EGL in this test — has too.
# usage: eglinfo.sh RGPUD SHIM_DIR RGPU_RUN WITH_RGPUD   (exit 77: no eglinfo)
set -u
rgpud=$1 shimdir=$2 rgpurun=$3 with=$4
command -v eglinfo >/dev/null || { echo "SKIP: eglinfo is not installed (mesa-utils-bin)"; exit 77; }
out=$("$with" "$rgpud" "$shimdir" "$rgpurun" --gl eglinfo 2>&1)
rc=$?
echo "$out" | grep -v '^0x'
[ $rc -ne 0 ] && { echo "FAIL: eglinfo through rgpu ended with $rc"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
section() { echo "$out" | sed -n "/^$1:\$/,/^\$/p"; }
configs() { echo "$out" | sed -n "/^$1:\$/,/^[A-Z].* platform:\$/p" | grep '^0x'; }
for ext in EGL_EXT_platform_base EGL_EXT_platform_x11 EGL_MESA_platform_surfaceless; do
    echo "$out" | sed -n '/^EGL client extensions string:/,/^$/p' | grep -qw "$ext" ||
        fail "the client extensions lack $ext"
done
for p in "X11 platform" "Surfaceless platform"; do
    section "$p" | grep -q '^EGL vendor string: rgpu$' || fail "$p: not rgpu's display"
    [ "$(configs "$p" | wc -l)" -gt 0 ] || fail "$p: no configs"
    echo "$p: $(configs "$p" | wc -l) configs"
done
configs "X11 platform" | grep -q ' 0x[0-9a-f]*TC ' || fail "X11 platform: no config on a TrueColor visual"
ref=$(eglinfo 2>/dev/null | sed -n '/^Surfaceless platform:$/,$p' | grep '^0x' | awk '{print $2,$3,$4,$5,$6,$7,$8,$9,$10,$11}' | sort -u)
if [ -n "$ref" ]; then
    missing=$(configs "Surfaceless platform" | awk '{print $2,$3,$4,$5,$6,$7,$8,$9,$10,$11}' | sort -u |
              while read -r cfg; do echo "$ref" | grep -qx "$cfg" || echo "$cfg"; done)
    [ -n "$missing" ] && fail "configs local Mesa's surfaceless platform does not have: $missing"
    echo "every surfaceless config is one local Mesa has"
fi
echo "eglinfo lists rgpu's platforms"
