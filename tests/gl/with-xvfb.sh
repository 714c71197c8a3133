#!/bin/sh
# with-xvfb.sh — runs one command with DISPLAY set to a private Xvfb (a free
# display number, 640x480x24, no TCP), which is always stopped afterwards.
# Tests run in parallel: two may pick the same free number at once; the Xvfb
# that loses (it exits: the lock is the other's) makes this one try the next.
# usage: with-xvfb.sh COMMAND [ARGS...]   (exit 77: no Xvfb)
set -u
command -v Xvfb >/dev/null || { echo "SKIP: Xvfb is not installed (xvfb)"; exit 77; }
log=$(mktemp "${TMPDIR:-/tmp}/rgpu-xvfb.XXXXXX")
xpid=
trap '[ -n "$xpid" ] && kill $xpid 2>/dev/null; wait 2>/dev/null; rm -f "$log"' EXIT INT TERM
n=90
while :; do
    while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do
        n=$((n + 1))
        [ $n -gt 189 ] && { echo "SKIP: no free X display number"; exit 77; }
    done
    Xvfb ":$n" -screen 0 640x480x24 -nolisten tcp >"$log" 2>&1 &
    xpid=$!
    i=0
    # ours once the lock names our Xvfb and its socket is there
    while [ $i -lt 50 ] && kill -0 $xpid 2>/dev/null &&
        ! { [ -e "/tmp/.X11-unix/X$n" ] && [ "$(tr -d ' ' < "/tmp/.X$n-lock" 2>/dev/null)" = "$xpid" ]; }; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 $xpid 2>/dev/null && [ -e "/tmp/.X11-unix/X$n" ]; then break; fi
    if kill -0 $xpid 2>/dev/null; then
        echo "SKIP: Xvfb did not start"
        cat "$log"
        exit 77
    fi
    xpid= # it lost the number to another test: the next one
    n=$((n + 1))
    [ $n -gt 189 ] && { echo "SKIP: no free X display number"; cat "$log"; exit 77; }
done
DISPLAY=":$n" "$@"
