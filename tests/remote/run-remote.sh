#!/bin/sh
# run-remote.sh — runs one driver-API suite binary through the client shim and
# a fresh rgpud (the "tcp" backend of rg_driver_test). Cases that cannot pass
# through the shim yet are listed, with the reason, in tcp-exclude.txt; they
# are reported as skipped, never silently dropped.
# usage: run-remote.sh RGPUD SHIM_DIR EXCLUDE_FILE TEST_NAME BINARY SOURCE...
#        run-remote.sh --cases BINARY CASE...   (inner loop, under with-rgpud.sh)
set -u
here=$(dirname "$0")

if [ "$1" = "--cases" ]; then
    bin=$2
    shift 2
    rc=0 ran=0
    for c in "$@"; do
        "$bin" "$c"
        r=$?
        if [ $r -eq 0 ]; then ran=1; elif [ $r -ne 77 ]; then rc=1; fi
    done
    [ $rc -eq 0 ] && [ $ran -eq 0 ] && exit 77
    exit $rc
fi

rgpud=$1 shimdir=$2 excl=$3 name=$4 bin=$5
shift 5
whole=$(sed -n "s/^$name[[:space:]]\{1,\}//p" "$excl" | head -n 1)
if [ -n "$whole" ]; then
    echo "SKIP: $name through the shim: $whole"
    exit 77
fi
skipped=$(sed -n "s/^$name:\([A-Za-z0-9_]*\)[[:space:]].*/\1/p" "$excl")
if [ -z "$skipped" ]; then
    exec "$here/with-rgpud.sh" "$rgpud" "$shimdir" -- "$bin"
fi
grep "^$name:" "$excl" | sed 's/^[^:]*:\([A-Za-z0-9_]*\)[[:space:]]*/SKIP: \1 through the shim: /'
cases=""
for c in $(sed -n 's/^RG_TEST(\([A-Za-z0-9_]*\)).*/\1/p' "$@"); do
    echo "$skipped" | grep -qx "$c" || cases="$cases $c"
done
# shellcheck disable=SC2086
exec "$here/with-rgpud.sh" "$rgpud" "$shimdir" -- "$0" --cases "$bin" $cases
