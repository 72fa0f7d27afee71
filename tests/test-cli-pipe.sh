#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-cli-pipe.sh - `ringcast pub` and `ringcast sub` in pipelines, as
# issue 20 asks ("Done when"):
#
# 1. `ringcast sub A --format json | ringcast pub B --format json` copies
#    a ring: several types (0 to 2^32-1), payloads empty, with escapes,
#    NULs, invalid UTF-8, up to the largest event (1 MiB), byte for byte
#    (the raw frames of both rings compared).
# 2. raw and nul round trips; nul records with newlines, typed.
# 3. --on-error skip goes past malformed and too long records (text,
#    json, raw), names each with its number, counts it in the ring's
#    refused counter, publishes the rest and exits 3; --on-error fail
#    stops at the first, exit 1, counted too.
# 4. sub --follow reads across a kill -9 and a restart of the publisher,
#    every line of both in order, exit 0; a sub --wait beside it ends
#    with status 1 at the death.
# 5. sub --fail-on-loss exits 3 after a loss (a lossy reader stopped while
#    the publisher laps it; a reliable one demoted), 0 without, and
#    without the option 0 as before.
# 6. gc --closed-for removes an old closed ring and keeps a young one, one
#    with old memory but a fresh last event, and a live one.
#
# Environment: RINGCAST_BIN (the tool).
set -u

. "$(dirname "$0")/tap.sh"

tool=${RINGCAST_BIN:-}
[ -x "$tool" ] || skip_all "RINGCAST_BIN is not set to the tool"
command -v python3 >/dev/null || skip_all "python3 missing"

id="t-pipe-$$-$RANDOM"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-pipe.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
pids=()
rings=()

cleanup()
{
	local p r

	exec 3>&- 4>&-
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
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

# newring VAR NAME: a ring name of this test into VAR, the ring removed
# at the end whatever happens.
newring()
{
	printf -v "$1" '%s' "$id-$2"
	rings+=("$id-$2")
}

# The stat field $2 of ring $1 (its text form, "key: value").
field()
{
	"$tool" stat "$1" 2>/dev/null | sed -n "s/^$2: //p"
}

# Wait up to 20 s until CMD... succeeds.  Return: its last status.
wait_until()
{
	local i

	for ((i = 0; i < 1000; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	"$@"
}

# field_is RING FIELD VALUE: the stat field is that now.
field_is()
{
	[ "$(field "$1" "$2")" = "$3" ]
}

lines_at_least()
{
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

# expect_exit NAME WANT RC ERRFILE - one test line for an exit status.
expect_exit()
{
	if [ "$3" -eq "$2" ]; then
		ok "$1"
	else
		not_ok "$1" "exit $3, not $2" "$(cat "$4" 2>/dev/null)"
	fi
}

# ------------------------------------------------------------------ 1

python3 - "$tmp/mixed.raw" <<'PY'
import random, struct, sys

rng = random.Random(20)
evs = [
    (0, b""),
    (1, b"hello"),
    (2, b'quote " backslash \\ newline \n tab \t cr \r'),
    (3, bytes(range(32)) + b"\x7f"),
    (4, "caf\u00e9 \U0001f600 \u2028".encode()),
    (5, b"nul\x00inside\x00"),
    (6, b"\xff\xfe invalid \xc0\xaf utf-8 \xed\xa0\x80"),
    (7, b"\xe2\x82"),
    (0xFFFFFFFF, b"the largest type"),
    (8, rng.randbytes(224)),
    (9, rng.randbytes(225)),
    (10, rng.randbytes(100000)),
    (11, b"x" * 70000),
    (12, rng.randbytes(1 << 20)),
    (13, bytes(rng.choice(b'a"\\\n\x00\x01') for _ in range(1 << 20))),
]
for i in range(200):
    n = rng.choice([0, 1, 7, 300, 5000])
    evs.append((rng.randrange(1 << 32), rng.randbytes(n)))
with open(sys.argv[1], "wb") as f:
    for t, b in evs:
        f.write(struct.pack("<II", len(b), t) + b)
PY

newring ra json-a
newring rb json-b
"$tool" pub "$ra" --format raw --slots 1024 --data-size 16M \
	<"$tmp/mixed.raw" 2>"$tmp/pub-a.err"
expect_exit "pub --format raw of 215 events, up to 1 MiB, exits 0" 0 $? \
	"$tmp/pub-a.err"
"$tool" sub "$ra" --from oldest --format json 2>"$tmp/sub-a.err" |
	tee "$tmp/a.json" |
	"$tool" pub "$rb" --format json --slots 1024 --data-size 16M \
		2>"$tmp/pub-b.err"
st=("${PIPESTATUS[@]}")
check "sub A --format json | pub B --format json: both exit 0" \
	test "${st[0]} ${st[2]}" = "0 0"
check "the json has data and data_base64 members" \
	test "$(grep -c '"data":' "$tmp/a.json")" -gt 0 -a \
	"$(grep -c '"data_base64":' "$tmp/a.json")" -gt 0
"$tool" sub "$rb" --from oldest --format raw >"$tmp/b.raw" \
	2>"$tmp/sub-b.err"
check "ring B holds ring A's events: types and payloads, byte for byte" \
	cmp "$tmp/mixed.raw" "$tmp/b.raw"
"$tool" sub "$rb" --from oldest --format json >"$tmp/b.json" 2>/dev/null
check "sub --format json of both rings: the same but for ts and epoch" \
	python3 - "$tmp/a.json" "$tmp/b.json" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], "rb")]
b = [json.loads(l) for l in open(sys.argv[2], "rb")]
assert len(a) == len(b) == 215, (len(a), len(b))
for x, y in zip(a, b):
    for k in ("ts", "epoch"):
        x.pop(k), y.pop(k)
    assert x == y, (x, y)
PY
check "stat B: nothing refused" test "$(field "$rb" refused)" = 0

# ------------------------------------------------------------------ 2

newring rr raw
"$tool" pub "$rr" --format raw --slots 1024 --data-size 16M \
	<"$tmp/mixed.raw" 2>/dev/null
"$tool" sub "$rr" --from oldest --format raw 2>/dev/null |
	"$tool" pub "$rr-2" --format raw --slots 1024 --data-size 16M \
		2>/dev/null
rings+=("$rr-2")
"$tool" sub "$rr-2" --from oldest --format raw >"$tmp/rr.raw" 2>/dev/null
check "raw round trip: sub --format raw | pub --format raw" \
	cmp "$tmp/mixed.raw" "$tmp/rr.raw"

printf 'one\nline\0two\r\n\0\0three' >"$tmp/in.nul"
newring rn nul
"$tool" pub "$rn" --format nul <"$tmp/in.nul" 2>"$tmp/nul.err"
expect_exit "pub --format nul exits 0" 0 $? "$tmp/nul.err"
"$tool" sub "$rn" --from oldest --format nul >"$tmp/out.nul" 2>/dev/null
printf 'one\nline\0two\r\n\0\0three\0' >"$tmp/want.nul"
check "nul round trip: 4 records, newlines kept, an empty one" \
	cmp "$tmp/want.nul" "$tmp/out.nul"
check "stat: 4 events" test "$(field "$rn" head)" = 4
newring rt nul-typed
printf '5 a\nb\x007\t\x00' | "$tool" pub "$rt" --format nul --typed \
	2>/dev/null
"$tool" sub "$rt" --from oldest --format raw >"$tmp/typed.raw" \
	2>/dev/null
printf '\3\0\0\0\5\0\0\0a\nb\0\0\0\0\7\0\0\0' >"$tmp/typed.want"
check "pub --format nul --typed: types 5 and 7, 'a\\nb' and ''" \
	cmp "$tmp/typed.want" "$tmp/typed.raw"
"$tool" pub "$rt-x" --format json --typed </dev/null 2>/dev/null
check "--typed with --format json is a usage error" test $? -eq 2

# ------------------------------------------------------------------ 3

# A ring whose largest event is 32 bytes: lines 2 and 4 are refused.
newring rs skip
printf '1 a\nx bad\n2 b\n3 %s\n4 d' "$(printf 'c%.0s' $(seq 40))" |
	"$tool" pub "$rs" --typed --on-error skip --slot-size 64 \
		--data-size 0 2>"$tmp/skip.err"
expect_exit "pub --on-error skip past two bad lines exits 3" 3 $? \
	"$tmp/skip.err"
check "stderr names line 2, malformed, skipped" grep -q \
	"line 2 is not 'TYPE PAYLOAD', skipped" "$tmp/skip.err"
check "stderr names line 4, its payload's length and the limit, skipped" \
	grep -q \
	"line 4's payload is 40 bytes long, above the largest event of 32 bytes: not published, skipped" \
	"$tmp/skip.err"
check "stderr sums up: 2 of 5 lines skipped" grep -q \
	"2 of 5 lines skipped" "$tmp/skip.err"
"$tool" sub "$rs" --from oldest --format raw >"$tmp/skip.raw" \
	2>/dev/null
printf '\1\0\0\0\1\0\0\0a\1\0\0\0\2\0\0\0b\1\0\0\0\4\0\0\0d' \
	>"$tmp/skip.want"
check "the three good lines published, in order, with their types" \
	cmp "$tmp/skip.want" "$tmp/skip.raw"
check "stat: refused 2, the ring closed" test \
	"$(field "$rs" refused) $(field "$rs" state)" = "2 closed"

newring rf fail
printf '1 a\nx bad\n2 b\n' | "$tool" pub "$rf" --typed 2>"$tmp/fail.err"
expect_exit "pub --on-error fail (the default) stops at a bad line: 1" 1 \
	$? "$tmp/fail.err"
check "stat: one event, refused 1" test \
	"$(field "$rf" head) $(field "$rf" refused)" = "1 1"

# Bad JSON lines among good ones; a line longer than pub's first buffer
# (3 MiB) on a ring whose largest event is 1 KiB: dropped as it is read.
python3 - "$tmp/bad.json" <<'PY'
import sys
lines = [
    b'{"type":1,"data":"ok 1"}',
    b'not json',
    b'{"type":2,"data_base64":"!!!!"}',
    b'{"type":3,"data":"x","len":2}',
    b'{"type":-1,"data":"x"}',
    b'{"type":4}',
    b'{"type":5,"data":"x","data_base64":"eA=="}',
    b'{"type":6,"data":"\\ud800"}',
    b'{"data":"' + b"y" * (3 << 20) + b'"}',
    b'{"type":7,"data":"' + b"z" * 1025 + b'"}',
    b'{"type":8,"data_base64":"b2sgMg==","seq":9,"x":[{"y":null}]}',
    b'{"type":9,"data":"ok 3"} trailing',
]
open(sys.argv[1], "wb").write(b"\n".join(lines) + b"\n")
PY
newring rj json-skip
"$tool" pub "$rj" --format json --on-error skip --data-size 4k \
	<"$tmp/bad.json" 2>"$tmp/json-skip.err"
expect_exit "pub --format json --on-error skip: exit 3" 3 $? \
	"$tmp/json-skip.err"
"$tool" sub "$rj" --from oldest --format raw >"$tmp/json-skip.raw" \
	2>/dev/null
printf '\4\0\0\0\1\0\0\0ok 1\4\0\0\0\10\0\0\0ok 2' >"$tmp/json-skip.want"
check "the two good JSON lines published, with their types" \
	cmp "$tmp/json-skip.want" "$tmp/json-skip.raw"
check "stat: the ten bad lines refused" test "$(field "$rj" refused)" = 10
check "stderr: line 9, 3 MiB, above what JSON of 1 KiB takes" grep -q \
	"line 9 is 3145739 bytes long, more than an event of the largest size (1024 bytes) takes in JSON" \
	"$tmp/json-skip.err"
check "stderr: line 10's payload above the largest event" grep -q \
	"line 10's payload is 1025 bytes long, above the largest event of 1024 bytes" \
	"$tmp/json-skip.err"
check "stderr: line 4, len does not match" grep -q \
	'line 4 is not an event in JSON: "len" is not the length' \
	"$tmp/json-skip.err"

# raw: a frame above the largest event (32 bytes), then a good one, then
# one cut short by the end of the input.
printf '\3\0\0\0\1\0\0\0abc\50\0\0\0\2\0\0\0%s\1\0\0\0\3\0\0\0d\11\0\0\0\4\0\0\0ef' \
	"$(printf 'x%.0s' $(seq 40))" >"$tmp/bad.raw"
newring rw raw-skip
"$tool" pub "$rw" --format raw --on-error skip --slot-size 64 \
	--data-size 0 <"$tmp/bad.raw" 2>"$tmp/raw-skip.err"
expect_exit "pub --format raw --on-error skip: exit 3" 3 $? \
	"$tmp/raw-skip.err"
check "stderr: record 2's payload, 40 bytes, skipped" grep -q \
	"record 2's payload is 40 bytes long, above the largest event of 32 bytes: not published, skipped" \
	"$tmp/raw-skip.err"
check "stderr: record 4 cut short" grep -q \
	"record 4 is cut short: 10 bytes at the end of the input" \
	"$tmp/raw-skip.err"
check "stat: 2 events, refused 2" test \
	"$(field "$rw" head) $(field "$rw" refused)" = "2 2"

# ------------------------------------------------------------------ 4

newring rfo follow
mkfifo "$tmp/in1"
"$tool" sub "$rfo" --follow --from oldest >"$tmp/follow.out" \
	2>"$tmp/follow.err" &
follow=$!
pids+=($follow)
"$tool" pub "$rfo" <"$tmp/in1" 2>/dev/null &
pub1=$!
pids+=($pub1)
exec 3>"$tmp/in1"
# Not a follower: it ends at the death.
wait_until field_is "$rfo" state live
"$tool" sub "$rfo" --wait --from oldest --fail-on-loss \
	>"$tmp/nofollow.out" 2>"$tmp/nofollow.err" &
nofollow=$!
pids+=($nofollow)
seq 1 100 >&3
check "sub --follow prints the first publisher's 100 lines" \
	wait_until lines_at_least "$tmp/follow.out" 100
wait_until lines_at_least "$tmp/nofollow.out" 100
# In braces: the shell's "Killed" goes to /dev/null with the rest.
{
	kill -9 $pub1
	wait $pub1
} 2>/dev/null
exec 3>&-
wait $nofollow
expect_exit "beside it, sub --wait --fail-on-loss exits 1 at the death" 1 \
	$? "$tmp/nofollow.err"
check "... saying the publisher died" grep -q "publisher died" \
	"$tmp/nofollow.err"
seq 101 200 | "$tool" pub "$rfo" 2>"$tmp/pub2.err"
expect_exit "a second publisher takes the ring over and closes it" 0 $? \
	"$tmp/pub2.err"
wait $follow
expect_exit "sub --follow exits 0 at the end of the stream" 0 $? \
	"$tmp/follow.err"
seq 1 200 >"$tmp/follow.want"
check "sub --follow printed every line of both publishers, in order" \
	cmp "$tmp/follow.want" "$tmp/follow.out"

# ------------------------------------------------------------------ 5

# lossy_run NAME EVENTS [SUB OPTIONS...]: a subscriber of a 16-slot ring,
# stopped while EVENTS lines are published, then let go.  Its status in
# $rc, its stderr in $tmp/NAME.err.
lossy_run()
{
	local r name=$1 n=$2 s

	shift 2
	newring r "$name"
	"$tool" create "$r" --slots 16 --data-size 0 --demote-after 0.2
	"$tool" sub "$r" --from oldest "$@" >"$tmp/$name.out" \
		2>"$tmp/$name.err" &
	s=$!
	pids+=($s)
	wait_until field_is "$r" subscribers 1
	kill -STOP $s
	seq 1 "$n" | "$tool" pub "$r" 2>/dev/null
	kill -CONT $s
	wait $s
	rc=$?
}

lossy_run lapped 1000 --fail-on-loss
expect_exit "sub --fail-on-loss lapped on purpose exits 3" 3 $rc \
	"$tmp/lapped.err"
check "... saying how many events it lost" grep -q "events lost in all" \
	"$tmp/lapped.err"
check "... and printed the last line" test "$(tail -1 "$tmp/lapped.out")" \
	= 1000
lossy_run whole 10 --fail-on-loss
expect_exit "sub --fail-on-loss with nothing lost exits 0" 0 $rc \
	"$tmp/whole.err"
check "... all 10 lines" test "$(wc -l <"$tmp/whole.out")" = 10
lossy_run lapped-plain 1000
expect_exit "without --fail-on-loss a lapped sub exits 0, as before" 0 \
	$rc "$tmp/lapped-plain.err"
lossy_run demoted 1000 --reliable --fail-on-loss
expect_exit "a reliable sub demoted, --fail-on-loss: exit 3" 3 $rc \
	"$tmp/demoted.err"
check "... saying it was demoted" grep -q "demoted to lossy" \
	"$tmp/demoted.err"

# ------------------------------------------------------------------ 6

newring old gc-old
newring young gc-young
newring fresh gc-fresh
newring live gc-live
"$tool" create "$old"
"$tool" close "$old"
"$tool" create "$young"
"$tool" close "$young"
seq 1 3 | "$tool" pub "$fresh"
mkfifo "$tmp/in2"
"$tool" pub "$live" <"$tmp/in2" 2>/dev/null &
livepub=$!
pids+=($livepub)
exec 4>"$tmp/in2"
echo one >&4
wait_until field_is "$live" head 1
# Memory made two hours ago; the fresh ring's last event is not.
for r in "$old" "$fresh" "$live"; do
	touch -d '2 hours ago' "/dev/shm/ringcast.$r"
done
"$tool" gc "$old" "$young" "$fresh" "$live" >"$tmp/gc0.out" \
	2>"$tmp/gc0.err"
check "gc without --closed-for keeps every closed ring" \
	grep -q "^removed 0 rings" "$tmp/gc0.out"
"$tool" gc "$old" "$young" "$fresh" "$live" --closed-for 1h \
	>"$tmp/gc.out" 2>"$tmp/gc.err"
expect_exit "gc --closed-for 1h exits 0" 0 $? "$tmp/gc.err"
check "it removed the old closed ring, and it alone" \
	test "$(grep -c '^removed ' "$tmp/gc.out")" = 2 -a \
	"$(grep '^removed ' "$tmp/gc.out" | head -1 | cut -d' ' -f2)" = "$old"
check "the old one is gone" test -z "$(field "$old" state)"
check "the young one, the fresh one and the live one are kept" test \
	"$(field "$young" state) $(field "$fresh" state) $(field "$live" state)" = \
	"closed closed live"
# A second and more after the fresh ring's last event.
sleep 1.2
"$tool" gc "$fresh" --closed-for 1 >"$tmp/gc2.out" 2>"$tmp/gc2.err"
check "a second later, gc --closed-for 1 removes the fresh one" \
	grep -q "^removed $fresh (closed for 1 s" "$tmp/gc2.out"
"$tool" gc "$live" --closed-for 0 >/dev/null 2>&1
check "gc --closed-for 0 keeps a live ring" test "$(field "$live" state)" \
	= live
exec 4>&-
wait $livepub
"$tool" gc --closed-for 1x >/dev/null 2>&1
check "gc --closed-for 1x is a usage error" test $? -eq 2

done_testing
