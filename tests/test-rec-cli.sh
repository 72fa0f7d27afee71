#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-rec-cli.sh - record, cat and replay through the tool, as issue 20
# asks ("Done when"):
#
# 1. `ringcast record X rec &`, then 100 000 lines through `ringcast pub X
#    --wait-subscribers 1`, the ring closed at the end: record exits 0;
#    `ringcast cat rec` prints the same lines (cmp); `ringcast replay rec
#    Y --max` into a new ring read by `ringcast sub Y --from oldest` gives
#    them again.
# 2. `cat --from SEQ` starts there; `cat --types` filters; `--format json`
#    and `raw` (sub's frames) carry the payloads.
# 3. A flipped byte: cat names the segment file and offset, exits 1, and
#    goes on (--on-damage skip) or stops there (stop).
# 4. A recording of a ring removed and created again is refused, saying
#    why.
#
# Environment: RINGCAST_BIN (the tool).
set -u

. "$(dirname "$0")/tap.sh"

tool=${RINGCAST_BIN:-}
[ -x "$tool" ] || skip_all "RINGCAST_BIN is not set to the tool"

id="t-rec-$$-$RANDOM"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-rec.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
pids=()
rings=("$id-x" "$id-y" "$id-z")

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

seq 1 100000 | sed 's/^/line /' >"$tmp/in"

# 1. record, cat, replay.
"$tool" create "$id-x" || echo "Bail out! create failed"
"$tool" record "$id-x" "$tmp/rec" 2>"$tmp/rec.err" &
rec=$!
pids+=("$rec")
if "$tool" pub "$id-x" --wait-subscribers 1 --timeout 60 <"$tmp/in"; then
	ok "pub of 100000 lines to a recorded ring"
else
	not_ok "pub of 100000 lines to a recorded ring"
fi
if wait "$rec"; then
	ok "record exits 0 at the end of the stream"
else
	not_ok "record exits 0 at the end of the stream" "$(cat "$tmp/rec.err")"
fi
pids=()
"$tool" cat "$tmp/rec" >"$tmp/cat.out" 2>"$tmp/cat.err"
st=$?
if [ $st -eq 0 ] && cmp -s "$tmp/in" "$tmp/cat.out"; then
	ok "cat prints the 100000 lines recorded"
else
	not_ok "cat prints the 100000 lines recorded" "status $st" \
		"$(cmp "$tmp/in" "$tmp/cat.out" 2>&1)" "$(cat "$tmp/cat.err")"
fi
if "$tool" replay "$tmp/rec" "$id-y" --max --slots 131072 \
	2>"$tmp/replay.err"; then
	ok "replay --max into a new ring"
else
	not_ok "replay --max into a new ring" "$(cat "$tmp/replay.err")"
fi
"$tool" sub "$id-y" --from oldest --timeout 30 >"$tmp/sub.out" 2>&1
if cmp -s "$tmp/in" "$tmp/sub.out"; then
	ok "sub --from oldest of the replayed ring gives the lines again"
else
	not_ok "sub --from oldest of the replayed ring gives the lines again" \
		"$(cmp "$tmp/in" "$tmp/sub.out" 2>&1)"
fi

# 2. --from, --types, formats.
out=$("$tool" cat "$tmp/rec" --from 54321 --count 2)
if [ "$out" = "$(printf 'line 54322\nline 54323')" ]; then
	ok "cat --from 54321 starts at sequence 54321"
else
	not_ok "cat --from 54321 starts at sequence 54321" "$out"
fi
n=$("$tool" cat "$tmp/rec" --types 7 | wc -l)
m=$("$tool" cat "$tmp/rec" --types 0 | wc -l)
if [ "$n" -eq 0 ] && [ "$m" -eq 100000 ]; then
	ok "cat --types filters by type"
else
	not_ok "cat --types filters by type" "type 7: $n, type 0: $m"
fi
out=$("$tool" cat "$tmp/rec" --from 99999 --format json)
case $out in
'{"seq":99999,"type":0,"ts":'*',"len":11,"epoch":'*',"data":"line 100000"}')
	ok "cat --format json" ;;
*) not_ok "cat --format json" "$out" ;;
esac
size=$("$tool" cat "$tmp/rec" --from 99999 --format raw | wc -c)
if [ "$size" -eq 19 ]; then
	ok "cat --format raw: as sub's, length and type, then the payload"
else
	not_ok "cat --format raw: as sub's, length and type, then the payload" "$size bytes"
fi

# 3. A flipped byte, found with its place.
seg=$(ls "$tmp/rec" | grep '\.seg$' | head -1)
# Records of 48 bytes for "line 1" to "line 999", 56 for "line 1000":
# the record of "line 1001" starts at 48264.
off=$((256 + 999 * 48 + 56))
printf 'X' | dd of="$tmp/rec/$seg" bs=1 seek=$((off + 45)) conv=notrunc \
	status=none
"$tool" cat "$tmp/rec" >"$tmp/dmg.out" 2>"$tmp/dmg.err"
st=$?
lines=$(wc -l <"$tmp/dmg.out")
if [ $st -eq 1 ] && [ "$lines" -eq 99999 ] &&
	grep -q "damaged record in $seg at offset $off: skipped" "$tmp/dmg.err"; then
	ok "cat reports a flipped byte's record with its place, skips it, exits 1"
else
	not_ok "cat reports a flipped byte's record with its place, skips it, exits 1" \
		"status $st, $lines lines" "$(cat "$tmp/dmg.err")"
fi
"$tool" cat "$tmp/rec" --on-damage stop >"$tmp/dmg.out" 2>"$tmp/dmg.err"
st=$?
lines=$(wc -l <"$tmp/dmg.out")
if [ $st -eq 1 ] && [ "$lines" -eq 1000 ]; then
	ok "cat --on-damage stop ends at the damaged record, exit 1"
else
	not_ok "cat --on-damage stop ends at the damaged record, exit 1" \
		"status $st, $lines lines" "$(cat "$tmp/dmg.err")"
fi

# 4. Another incarnation of the ring.
"$tool" create "$id-z" || echo "Bail out! create failed"
"$tool" record "$id-z" "$tmp/recz" 2>&1 &
rec=$!
pids+=("$rec")
echo one | "$tool" pub "$id-z" --wait-subscribers 1 --timeout 30
wait "$rec"
pids=()
"$tool" rm "$id-z"
"$tool" create "$id-z"
echo two | "$tool" pub "$id-z"
err=$("$tool" record "$id-z" "$tmp/recz" 2>&1)
st=$?
case $err in
*"another incarnation"*) [ $st -eq 1 ] && r=ok || r=not_ok ;;
*) r=not_ok ;;
esac
$r "record refuses a recording of the ring's previous incarnation" \
	"status $st: $err"

done_testing
