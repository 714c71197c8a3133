#!/bin/sh
# with-rgpud.sh — runs one command against a fresh rgpud (simgpu backend) on a
# free loopback port: RGPU_SERVER, RGPUD_PID and LD_LIBRARY_PATH (the client
# shim's directory) are set for the command only; the server is always stopped.
# usage: with-rgpud.sh RGPUD SHIM_DIR [--] COMMAND [ARGS...]   (exit 77: no rgpud)
# RGPU_TEST_SCHEME=ucx: the server listens on, and the client dials, ucx:// (UCX_TLS
# and the other UCX_* settings in the environment reach both).
set -u
rgpud=$1
shimdir=$2
shift 2
[ "${1:-}" = "--" ] && shift
if [ ! -x "$rgpud" ]; then
    echo "SKIP: $rgpud is not built"
    exit 77
fi
scheme=${RGPU_TEST_SCHEME:-tcp}
dir=$(mktemp -d "${TMPDIR:-/tmp}/rgpud-test.XXXXXX")
# Own process group (setsid does not fork here: a background job is no group
# leader), so the supervisor and its session workers are stopped together.
# Every session gets every simgpu device (the suite's multi-device cases); no admin socket;
# the run directory (the image cache) is the test's own. RGPUD_ARGS: more settings.
# shellcheck disable=SC2086
RGPU_RUN_DIR="$dir" setsid "$rgpud" --listen "$scheme://127.0.0.1:0" --port-file "$dir/port" \
    --backend simgpu --devices-default 0 --admin off ${RGPUD_ARGS:-} >"$dir/log" 2>&1 &
pid=$!

stop() {
    kill -TERM "-$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# ctest's timeout or a ^C must not leave the server behind.
trap 'stop; rm -rf "$dir"; exit 124' INT TERM HUP

i=0
while [ ! -s "$dir/port" ] && [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
if [ ! -s "$dir/port" ]; then
    echo "with-rgpud.sh: rgpud did not start listening; its log:" >&2
    cat "$dir/log" >&2
    stop
    rm -rf "$dir"
    exit 1
fi
port=$(cat "$dir/port")
env RGPU_SERVER="$scheme://127.0.0.1:$port" RGPUD_PID="$pid" LD_LIBRARY_PATH="$shimdir" "$@"
rc=$?
stop
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "with-rgpud.sh: exit $rc; rgpud's log:" >&2
    tail -n 40 "$dir/log" >&2
fi
rm -rf "$dir"
exit $rc
