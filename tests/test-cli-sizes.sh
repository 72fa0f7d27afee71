#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-cli-sizes.sh - the ringcast tool carries events of any size, as
# issue 19 asks ("Done when"):
#
# 1. On a ring created with no options, 2000 lines of random lengths from
#    1 B to 64 KiB (log-uniform, seeded; any byte but a newline) piped
#    through `ringcast pub --wait-subscribers 3` reach three `ringcast sub
#    --reliable --from oldest`, byte-identical (cmp), every one exit 0;
#    `sub --format json` gives back the payloads retained, whole (as data
#    or data_base64).
# 2. On `ringcast create X --data-size 64M` a single 1 MiB line is
#    published and read whole; a line above the largest event (16 MiB + 1
#    bytes) is refused, exit 1, with a message naming its length and the
#    limit, and nothing of it is published: the ring holds the line before
#    it and no other.
# 3. A ring with no data area (--data-size 0) takes events up to a slot's
#    capacity, and refuses a line one byte longer the same way.
#
# Environment: RINGCAST_BIN (the tool); RINGCAST_SIZES_SEED (default 19).
set -u

. "$(dirname "$0")/tap.sh"

tool=${RINGCAST_BIN:-}
[ -x "$tool" ] || skip_all "RINGCAST_BIN is not set to the tool"
command -v python3 >/dev/null || skip_all "python3 missing"
seed=${RINGCAST_SIZES_SEED:-19}

id="t-sizes-$$-$RANDOM"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-sizes.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
pids=()
rings=()

cleanup()
{
	local p r

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	for r in "${rings[@]}"; do
		"$tool" rm --force "$r" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# The stat field $2 of ring $1 (its text form, "key: value").
field()
{
	"$tool" stat "$1" | sed -n "s/^$2: //p"
}

# ------------------------------------------------------------------ 1

r1=$id-mixed
rings+=("$r1")
python3 - "$seed" "$tmp/mixed" <<'PY'
import math, random, sys

rng = random.Random(int(sys.argv[1]))
with open(sys.argv[2], "wb") as f:
    for _ in range(2000):
        # Log-uniform from 1 B to 64 KiB.
        n = min(65536, int(math.exp(rng.uniform(0, math.log(65537)))))
        n = max(1, n)
        f.write(rng.randbytes(n).replace(b"\n", b"\xff") + b"\n")
PY
check "the mixed input: 2000 lines, 1 B to 64 KiB" python3 - "$tmp/mixed" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
assert len(lines) == 2000, len(lines)
sizes = [len(l) for l in lines]
assert min(sizes) >= 1 and max(sizes) <= 65536, (min(sizes), max(sizes))
# Log-uniform: small and large ones both, not a few outliers.
assert sum(s <= 256 for s in sizes) > 300, "too few small lines"
assert sum(s > 4096 for s in sizes) > 300, "too few large lines"
PY

if "$tool" create "$r1" 2>"$tmp/create1.err"; then
	ok "create with no options"
else
	not_ok "create with no options" "$(cat "$tmp/create1.err")"
fi
subs=()
for i in 1 2 3; do
	"$tool" sub "$r1" --reliable --from oldest >"$tmp/out$i" \
		2>"$tmp/sub$i.err" &
	subs+=($!)
	pids+=($!)
done
"$tool" pub "$r1" --wait-subscribers 3 --timeout 60 <"$tmp/mixed" \
	2>"$tmp/pub1.err"
rc=$?
if [ $rc -eq 0 ]; then
	ok "pub --wait-subscribers 3 of the mixed lines exits 0"
else
	not_ok "pub --wait-subscribers 3 of the mixed lines exits 0" \
		"exit $rc" "$(cat "$tmp/pub1.err")"
fi
for i in 1 2 3; do
	wait "${subs[$((i - 1))]}"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$tmp/sub$i.err" ]; then
		ok "sub $i --reliable --from oldest exits 0, silent"
	else
		not_ok "sub $i --reliable --from oldest exits 0, silent" \
			"exit $rc" "$(cat "$tmp/sub$i.err")"
	fi
	check "sub $i printed the input byte for byte" \
		cmp "$tmp/mixed" "$tmp/out$i"
done
pids=()

"$tool" sub "$r1" --from oldest --format json >"$tmp/mixed.json" \
	2>"$tmp/json.err"
rc=$?
if [ $rc -eq 0 ]; then
	ok "sub --format json of the mixed lines exits 0"
else
	not_ok "sub --format json of the mixed lines exits 0" "exit $rc" \
		"$(cat "$tmp/json.err")"
fi
# The data area (4 MiB) holds the last few MiB: what a lossy reader gets
# from oldest on the closed ring is the tail, each event as published.
check "sub --format json: the events retained, each whole" \
	python3 - "$tmp/mixed" "$tmp/mixed.json" <<'PY'
import base64, json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
evs = [json.loads(l) for l in open(sys.argv[2], "rb")]
assert len(evs) > 100, len(evs)
assert evs[-1]["seq"] == len(lines) - 1, evs[-1]["seq"]
kinds = set()
for i, ev in enumerate(evs):
    line = lines[ev["seq"]]
    if "data" in ev:
        data = ev["data"].encode("utf-8")
    else:
        data = base64.b64decode(ev["data_base64"])
    kinds.add("data" in ev)
    assert data == line, "event %d differs" % ev["seq"]
    assert ev["len"] == len(line), "event %d: len %d" % (ev["seq"], ev["len"])
    assert i == 0 or ev["seq"] == evs[i - 1]["seq"] + 1, "not in order"
assert False in kinds, "no data_base64"
PY

# ------------------------------------------------------------------ 2

r2=$id-64m
rings+=("$r2")
check "create --data-size 64M" "$tool" create "$r2" --data-size 64M
check "stat: data_size 64 MiB, the largest event 16 MiB" test \
	"$(field "$r2" data_size) $(field "$r2" max_event)" = \
	"67108864 16777216"
python3 - "$tmp" <<'PY'
import random, sys
rng = random.Random(1)
d = sys.argv[1]
chars = b"abcdefghijklmnopqrstuvwxyz0123456789"
big = bytes(rng.choice(chars) for _ in range(1 << 20))
open(d + "/one", "wb").write(big + b"\n")
# Above the largest event by one byte, between two good lines.
over = bytes(rng.choice(chars) for _ in range((16 << 20) + 1))
open(d + "/over", "wb").write(b"before\n" + over + b"\nafter\n")
PY
"$tool" pub "$r2" <"$tmp/one" 2>"$tmp/pub2.err"
rc=$?
if [ $rc -eq 0 ]; then
	ok "pub of a 1 MiB line exits 0"
else
	not_ok "pub of a 1 MiB line exits 0" "exit $rc" \
		"$(cat "$tmp/pub2.err")"
fi
"$tool" sub "$r2" --from oldest >"$tmp/one.out" 2>"$tmp/sub2.err"
check "sub reads the 1 MiB line whole" cmp "$tmp/one" "$tmp/one.out"
"$tool" sub "$r2" --from oldest --format json >"$tmp/one.json" \
	2>>"$tmp/sub2.err"
check "sub --format json: the 1 MiB line whole" \
	python3 - "$tmp/one" "$tmp/one.json" <<'PY'
import json, sys
want = open(sys.argv[1], "rb").read()[:-1]
evs = [json.loads(l) for l in open(sys.argv[2], "rb")]
assert len(evs) == 1, len(evs)
assert evs[0]["len"] == len(want) and evs[0]["data"].encode() == want
PY
written=$(field "$r2" data_written)
check "stat: data_written counts the 1 MiB event ($written)" \
	test "${written:-0}" -ge $((1 << 20))

"$tool" pub "$r2" --reopen <"$tmp/over" 2>"$tmp/over.err"
rc=$?
if [ $rc -eq 1 ]; then
	ok "pub of a line above the largest event exits 1"
else
	not_ok "pub of a line above the largest event exits 1" "exit $rc" \
		"$(cat "$tmp/over.err")"
fi
check "the message names the line, its length and the limit" \
	grep -q "line 2 is 16777217 bytes long, above the largest event of 16777216 bytes" \
	"$tmp/over.err"
"$tool" sub "$r2" --from oldest >"$tmp/over.out" 2>"$tmp/sub3.err"
{
	cat "$tmp/one"
	echo before
} >"$tmp/over.want"
check "nothing of it published: the ring holds the line before it" \
	cmp "$tmp/over.want" "$tmp/over.out"
check "stat: 2 events published, the ring closed" test \
	"$(field "$r2" published) $(field "$r2" state)" = "2 closed"

# ------------------------------------------------------------------ 3

r3=$id-nodata
rings+=("$r3")
check "create --data-size 0: no data area" "$tool" create "$r3" \
	--data-size 0
check "stat: data_size 0, the largest event the capacity (224)" test \
	"$(field "$r3" data_size) $(field "$r3" max_event)" = "0 224"
python3 -c 'import sys; sys.stdout.write("a" * 224 + "\n" + "b" * 225 + "\n")' \
	>"$tmp/slot"
"$tool" pub "$r3" <"$tmp/slot" 2>"$tmp/slot.err"
rc=$?
check "pub: a line of the capacity goes, one byte more exits 1" \
	test $rc -eq 1
check "the message names 225 and 224" grep -q \
	"line 2 is 225 bytes long, above the largest event of 224 bytes" \
	"$tmp/slot.err"
check "stat: one event published" test "$(field "$r3" published)" = 1

done_testing
