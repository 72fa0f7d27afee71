#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check a fresh ringcast-bench run against a published table.

Usage: bench/compare.py TABLE.txt FRESH.json

TABLE.txt is a table as ringcast-bench prints it (bench/results/
ringcast-bench.txt, docs/benchmarks.md, "Results"); FRESH.json is a run of the same
command with --json added.  For every ratio the table prints ("x pipe" and
"x ref", each a median of paired ratios with its min-max over the
repetitions), the fresh run's median must lie inside the table's min-max,
give or take the table's rounding.  Prints one line per ratio outside and
a summary; exits 1 if any is outside, 2 on bad input.
"""

import json
import re
import sys

RATIO = re.compile(r"(\d[\d.]*) \((\d[\d.]*)-(\d[\d.]*)\)")


def metric_of(title):
    if "throughput" in title:
        return "throughput"
    if "ping-pong" in title:
        return "latency-pingpong"
    if "fan-out" in title:
        return "fanout"
    m = re.search(r"one-way \(ns\), (p[0-9.]+|max)", title)
    return "latency-oneway-" + m.group(1) if m else None


def read_table(path):
    """(transport, metric, size, subscribers) -> {"pipe": (med, lo, hi), ...}"""
    out = {}
    metric = None
    with open(path) as f:
        for line in f:
            if line.startswith("== "):
                metric = None if "targets" in line else metric_of(line)
                continue
            fields = line.split()
            if (not metric or len(fields) < 3 or fields[0] == "transport"
                    or line.startswith("#") or "skipped" in line
                    or "failed" in line):
                continue
            ratios = RATIO.findall(line)
            # The size column: bytes, or a mixed workload's name.
            key = (fields[0], metric, fields[1], int(fields[2]))
            cols = {}
            # The pipe row prints 1.00 (1.00-1.00) in "x pipe"; a row with
            # a reference prints "x ref" after it; rows without one do not.
            if ratios:
                cols["pipe"] = tuple(float(x) for x in ratios[0])
            if len(ratios) > 1:
                cols["ref"] = tuple(float(x) for x in ratios[1])
            out[key] = cols
    return out


def tolerance(hi):
    # The table prints 3 significant digits, or whole numbers from 100.
    return 0.005 if hi < 10 else 0.05 if hi < 100 else 0.5


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        table = read_table(argv[1])
        with open(argv[2]) as f:
            fresh = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("compare.py: %s\n" % e)
        return 2
    counts = {"pipe": [0, 0], "ref": [0, 0]}
    missing = 0
    for row in fresh.get("rows", []):
        wl = row.get("workload", "fixed")
        key = (row["transport"], row["metric"],
               str(row["size"]) if wl == "fixed" else wl, row["subscribers"])
        cols = table.get(key)
        if cols is None:
            continue
        for kind, field in (("pipe", "ratio_to_pipe"), ("ref", "ratio_to_ref")):
            if kind not in cols or (kind == "pipe" and key[0] == "pipe"):
                continue
            value = row.get(field)
            if value is None:
                missing += 1
                print("no fresh value: %s %s %s N=%d x %s" % (key + (kind,)))
                continue
            med, lo, hi = cols[kind]
            tol = tolerance(hi)
            inside = lo - tol <= value <= hi + tol
            counts[kind][0 if inside else 1] += 1
            if not inside:
                print("outside: %s %s %s N=%d x %s: %.3g, table %g (%g-%g)"
                      % (key + (kind, value, med, lo, hi)))
    n_in = counts["pipe"][0] + counts["ref"][0]
    n_out = counts["pipe"][1] + counts["ref"][1]
    print("%d of %d ratios inside the table's min-max "
          "(x pipe %d/%d, x ref %d/%d), %d without a fresh value"
          % (n_in, n_in + n_out, counts["pipe"][0], sum(counts["pipe"]),
             counts["ref"][0], sum(counts["ref"]), missing))
    return 1 if n_out or missing or not n_in + n_out else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
