#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-smoke: ringcast-bench with a tiny configuration (2000 messages per
# run, one repetition, 64 B, N in {1, 2}, every transport that is
# installed), then the mixed-size workloads (throughput and fan-out to 2);
# checks that the JSON parses and that every row was measured or skipped
# with a reason, and that the mixed rows of ringcast, the bare
# variable-size ring and the pipe were measured; then fan-out and churn
# to 256 subscribers (ringcast reliable and lossy, the bare futex ring,
# the pipe), which must be measured.  No timing assertion: it must pass on
# a loaded machine.
set -eu
bench=$1
out=$(mktemp)
mixed=$(mktemp)
many=$(mktemp)
trap 'rm -f "$out" "$mixed" "$many"' EXIT

"$bench" --json --count 2000 --repetitions 1 --sizes 64 \
	--subscribers 1,2 --rate 20000 --timeout 20 --workloads fixed >"$out" || {
	echo "ringcast-bench failed:" >&2
	cat "$out" >&2
	exit 1
}
"$bench" --json --count 2000 --repetitions 1 --workloads mixed,mixed-small \
	--metrics throughput,fanout --subscribers 2 --timeout 20 >"$mixed" || {
	echo "ringcast-bench --workloads mixed,mixed-small failed:" >&2
	cat "$mixed" >&2
	exit 1
}
"$bench" --json --count 2000 --repetitions 1 --workloads fixed \
	--metrics fanout,churn --subscribers 256 --timeout 40 \
	--transports ringcast-reliable,ringcast-lossy-sleep,bare-ring-futex,pipe \
	>"$many" || {
	echo "ringcast-bench --subscribers 256 failed:" >&2
	cat "$many" >&2
	exit 1
}
python3 - "$out" "$mixed" "$many" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
mixed = json.load(open(sys.argv[2]))
many = json.load(open(sys.argv[3]))
rows = doc["rows"] + mixed["rows"]
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
             "ringcast-zero-copy", "ringcast-nodata", "ringcast-data", "pipe",
             "unix-stream", "unix-seqpacket", "mq", "eventfd", "zeromq",
             "iceoryx",
             "physical-limit", "bare-ring", "bare-ring-futex", "bare-varring",
             "bare-varring-futex"):
    if want not in names:
        bad.append("no row for " + want)
measured = {(r["transport"], r["workload"], r["metric"]) for r in mixed["rows"]
            if r["median"] is not None}
for wl in ("mixed", "mixed-small"):
    for t, m in (("ringcast-reliable", "throughput"),
                 ("ringcast-reliable", "fanout"),
                 ("bare-varring", "throughput"),
                 ("bare-varring-futex", "fanout"), ("pipe", "throughput"),
                 ("pipe", "fanout")):
        if (t, wl, m) not in measured:
            bad.append("%s %s %s: not measured" % (t, wl, m))
for r in mixed["rows"]:
    if r["workload"] not in ("mixed", "mixed-small"):
        bad.append("%s: workload %s in a mixed run" % (r["transport"], r["workload"]))
    if r["median"] is not None and not r.get("bytes_per_s"):
        bad.append("%s %s %s: no bytes_per_s" % (r["transport"], r["workload"], r["metric"]))
got = {(r["transport"], r["metric"]) for r in many["rows"]
       if r["subscribers"] == 256 and r["median"] is not None}
for want in (("ringcast-reliable", "fanout"), ("ringcast-lossy-sleep", "fanout"),
             ("bare-ring-futex", "fanout"), ("pipe", "fanout"),
             ("ringcast-reliable", "churn-p99-ratio")):
    if want not in got:
        bad.append("%s %s N=256: not measured" % want)
for r in many["rows"]:
    if r["metric"] == "churn-p99-ratio" and r["median"] is not None and \
            not (r.get("p99_quiet_ns") and r.get("p99_churn_ns")):
        bad.append("churn: no p99s")
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
