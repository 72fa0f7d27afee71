#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-archive.sh - a reader from the first event, as issue 20 asks
# ("Done when"): on a 64-slot ring recorded from the start, 10 000 events
# published, then `ringcast sub X --from 0 --archive rec` prints all
# 10 000 in order, once each, and goes on with live events.  Also: a
# recording with a gap reports the loss once and goes on; --archive
# without a start it can use is a usage error.
#
# Environment: RINGCAST_BIN (the tool).
set -u

. "$(dirname "$0")/tap.sh"

tool=${RINGCAST_BIN:-}
[ -x "$tool" ] || skip_all "RINGCAST_BIN is not set to the tool"

id="t-arch-$$-$RANDOM"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-arch.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
pids=()

cleanup()
{
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	"$tool" rm --force "$id-x" >/dev/null 2>&1
	"$tool" rm --force "$id-g" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# Wait until the recording holds N events (at most 60 s).
recorded()
{
	local i n

	for i in $(seq 1 600); do
		n=$("$tool" cat "$1" 2>/dev/null | wc -l)
		[ "$n" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# 1. 10 000 events recorded from the start on a 64-slot ring, then more.
"$tool" create "$id-x" --slots 64 || echo "Bail out! create failed"
"$tool" record "$id-x" "$tmp/rec" 2>"$tmp/rec.err" &
pids+=($!)
mkfifo "$tmp/feed"
"$tool" pub "$id-x" --wait-subscribers 1 --timeout 60 <"$tmp/feed" &
pub=$!
pids+=("$pub")
exec 3>"$tmp/feed"
seq 1 10000 >&3
if recorded "$tmp/rec" 10000; then
	ok "the recorder recorded the first 10000 events"
else
	not_ok "the recorder recorded the first 10000 events"
fi
# The ring holds the last 64 only; the archive reader reads from 0.
"$tool" sub "$id-x" --from 0 --archive "$tmp/rec" --count 10100 --reliable \
	>"$tmp/out" 2>"$tmp/err" &
sub=$!
pids+=("$sub")
# Live events once it is attached (the recorder and it): it goes on
# with them.
for i in $(seq 1 600); do
	"$tool" stat "$id-x" | grep -q "^subscribers: 2" && break
	sleep 0.1
done
seq 10001 10100 >&3
exec 3>&-
wait "$pub"
wait "$sub"
st=$?
check "sub --archive exits 0" test "$st" -eq 0
seq 1 10100 >"$tmp/want"
if cmp -s "$tmp/want" "$tmp/out"; then
	ok "sub --from 0 --archive: 10100 events, each once, in order"
else
	not_ok "sub --from 0 --archive: 10100 events, each once, in order" \
		"$(wc -l <"$tmp/out") lines; first difference: $(cmp "$tmp/want" "$tmp/out" 2>&1)"
fi
check "nothing reported lost" test ! -s "$tmp/err"
# From a sequence in the middle: from there on.
"$tool" sub "$id-x" --from 5000 --archive "$tmp/rec" --count 10 \
	>"$tmp/mid" 2>&1
if [ "$(tr '\n' ' ' <"$tmp/mid")" = "5001 5002 5003 5004 5005 5006 5007 5008 5009 5010 " ]; then
	ok "sub --from 5000 --archive starts at sequence 5000"
else
	not_ok "sub --from 5000 --archive starts at sequence 5000" "$(head -3 "$tmp/mid")"
fi

# 2. Usage: --archive needs a start it can use.
"$tool" sub "$id-x" --archive "$tmp/rec" >/dev/null 2>"$tmp/usage"
check "--archive without --from is a usage error (2)" test $? -eq 2
check "... saying what it needs" grep -q -- "--from" "$tmp/usage"

# 3. A recording that began late: the sequences before it are lost, said
#    once, then every event it holds and the ring's.
"$tool" create "$id-g" --slots 64 || echo "Bail out! create failed"
seq 1 200 | "$tool" pub "$id-g" --timeout 60
# The ring is closed: the recorder reads what it may and ends.
timeout 60 "$tool" record "$id-g" "$tmp/late" --from oldest 2>/dev/null
check "a recorder started late records what the ring held, exit 0" \
	test $? -eq 0 -a "$("$tool" cat "$tmp/late" | wc -l)" -gt 0
"$tool" sub "$id-g" --from 0 --archive "$tmp/late" --timeout 5 \
	>"$tmp/gout" 2>"$tmp/gerr"
check "from before the recording: lost once, reported" \
	grep -q "lost 136 events" "$tmp/gerr"
if [ "$(head -1 "$tmp/gout")" = 137 ] && [ "$(tail -1 "$tmp/gout")" = 200 ]; then
	ok "then sequences 136 to 199, in order"
else
	not_ok "then sequences 136 to 199, in order" "$(head -1 "$tmp/gout") .. $(tail -1 "$tmp/gout")"
fi

done_testing
