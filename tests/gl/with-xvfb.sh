#!/bin/sh
# with-xvfb.sh — runs one command with DISPLAY set to a private Xvfb (a free
# display number, 640x480x24, no TCP), which is always stopped afterwards.
# usage: with-xvfb.sh COMMAND [ARGS...]   (exit 77: no Xvfb)
set -u
command -v Xvfb >/dev/null || { echo "SKIP: Xvfb is not installed (xvfb)"; exit 77; }
n=90
while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do
    n=$((n + 1))
    [ $n -gt 189 ] && { echo "SKIP: no free X display number"; exit 77; }
done
log=$(mktemp "${TMPDIR:-/tmp}/rgpu-xvfb.XXXXXX")
Xvfb ":$n" -screen 0 640x480x24 -nolisten tcp >"$log" 2>&1 &
xpid=$!
trap 'kill $xpid 2>/dev/null; wait $xpid 2>/dev/null; rm -f "$log"' EXIT INT TERM
i=0
while [ ! -e "/tmp/.X11-unix/X$n" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -e "/tmp/.X11-unix/X$n" ]; then
    echo "SKIP: Xvfb did not start"
    cat "$log"
    exit 77
fi
DISPLAY=":$n" "$@"
