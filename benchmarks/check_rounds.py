#!/usr/bin/env python3
"""Checks rgpu-bench's --rounds summary in its JSON: every figure is the median
of its rounds, and a ratio to a limit is the median of the ratios taken within
each round (the rgpu figure of round i over the limit of round i)."""
import json
import statistics
import sys


def close(a, b):
    return abs(a - b) <= 1e-4 * max(abs(a), abs(b), 1e-12)


def main(path, rounds):
    doc = json.load(open(path))
    bad = []
    if doc.get("rounds") != rounds:
        bad.append(f"rounds is {doc.get('rounds')}, not {rounds}")
    rows = {(r["backend"], r["bench"], r["param"]): r for r in doc["results"]}
    paired = 0
    for key, r in rows.items():
        if "error" in r:
            bad.append(f"{key}: failed: {r['error']}")
            continue
        vals = r.get("values", [])
        if len(vals) != rounds:
            bad.append(f"{key}: {len(vals)} figures for {rounds} rounds")
            continue
        if not close(r["value"], statistics.median(vals)):
            bad.append(f"{key}: value {r['value']} is not the median of {vals}")
        if r.get("ratio_to") == "raw ping-pong":
            ref = rows.get((r["backend"] + "-raw", "raw_pingpong", "48B"))
            if not ref:
                bad.append(f"{key}: no raw ping-pong row")
                continue
            want = [v / p for v, p in zip(vals, ref["values"])]
            if len(r.get("ratios", [])) != rounds or not all(
                    close(a, b) for a, b in zip(r["ratios"], want)):
                bad.append(f"{key}: ratios {r.get('ratios')}, each round's own: {want}")
            if not close(r["ratio"], statistics.median(want)):
                bad.append(f"{key}: ratio {r['ratio']} is not the median of {want}")
            paired += 1
    if not paired:
        bad.append("no row with a ratio to check")
    for b in bad:
        print("check_rounds:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
