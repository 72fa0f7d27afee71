#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-smoke: ringcast-bench with a tiny configuration (2000 messages per
# run, one repetition, 64 B, N in {1, 2}, every transport that is
# installed); checks that the JSON parses and that every row was measured
# or skipped with a reason.  No timing assertion: it must pass on a loaded
# machine.
set -eu
bench=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$bench" --json --count 2000 --repetitions 1 --sizes 64 \
	--subscribers 1,2 --rate 20000 --timeout 20 >"$out" || {
	echo "ringcast-bench failed:" >&2
	cat "$out" >&2
	exit 1
}
python3 - "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["rows"]
names = {r["transport"] for r in rows}
bad = []
for r in rows:
    for k in ("transport", "metric", "size", "subscribers", "median",
              "min", "max", "unit", "ratio_to_pipe"):
        if k not in r:
            bad.append("%s %s: no %s" % (r.get("transport"), r.get("metric"), k))
    if "skipped" in r:
        if not r["skipped"]:
            bad.append("%s %s: skipped without a reason" % (r["transport"], r["metric"]))
    elif "failed" in r or r["median"] is None:
        bad.append("%s %s N=%s: %s" % (r["transport"], r["metric"],
                                        r["subscribers"], r.get("failed")))
for want in ("ringcast-lossy-busy", "ringcast-lossy-sleep", "ringcast-reliable",
             "ringcast-zero-copy", "pipe", "unix-stream", "unix-seqpacket", "mq",
             "eventfd", "zeromq", "iceoryx", "physical-limit", "bare-ring",
             "bare-ring-futex"):
    if want not in names:
        bad.append("no row for " + want)
for k in ("cpu", "cores", "kernel", "foreign_load"):
    if k not in doc["machine"]:
        bad.append("machine: no " + k)
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print("%d rows, %d measured, %d skipped" % (len(rows),
      sum(1 for r in rows if r["median"] is not None),
      sum(1 for r in rows if "skipped" in r)))
PY
