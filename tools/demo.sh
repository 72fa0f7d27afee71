#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# demo.sh - ringcast live: one publisher, three subscribers, one ring.
#
# Usage: tools/demo.sh [RINGCAST]
#
# Without an argument it first installs what is missing (tools/setup.sh),
# sets up and builds build/, and uses build/tools/ringcast.
#
# Creates the ring demo-PID and starts three subscriber processes on it:
#
#   all     every event, from the oldest retained one
#   alerts  only events of type 2 (a filter in the subscriber)
#   late    joins once 15 events were published, from the newest
#
# then publishes 40 events, 50 ms apart, through one 'ringcast pub --typed'
# (ticks of type 1, an alert of type 2 every fourth event), which closes the
# ring at the end of its input: each subscriber drains the ring and ends.
# Each one's output is prefixed with its name.  Then it prints how many
# events each got and, if the build has bench/ringcast-bench, a short
# ringcast against pipe measurement: 1 publisher -> 1 subscriber process,
# 64-byte messages, a second or two (its options: $RINGCAST_DEMO_BENCH_ARGS).
#
# The ring is removed on exit, however the script ends.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	# The README's demo command: install what is missing, build, run.
	cd "$(dirname "$(readlink -f "$0")")/.."
	tools/setup.sh
	[[ -f build/build.ninja ]] || meson setup build >/dev/null
	ninja -C build >/dev/null
fi
bin=${1:-build/tools/ringcast}
if [[ ! -x $bin ]]; then
	echo "demo: '$bin' is not an executable (build first: ninja -C build)" >&2
	exit 1
fi
builddir=$(cd "$(dirname "$bin")/.." && pwd)
ring=demo-$$
events=40
late_at=15
tmp=$(mktemp -d)
pids=()

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	# Closing ends the subscribers (end of stream); then remove the ring.
	"$bin" close "$ring" 2>/dev/null || true
	if ((${#pids[@]})); then
		wait "${pids[@]}" 2>/dev/null || true
	fi
	"$bin" rm "$ring" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# subscriber NAME [SUB-OPTIONS...]: one 'ringcast sub' in the background,
# its lines prefixed with NAME; the count of lines goes to $tmp/NAME.
subscriber() {
	local name=$1
	shift
	# A read loop, not awk: mawk reads a pipe in blocks, not lines.
	"$bin" sub "$ring" "$@" | {
		local line n=0
		while IFS= read -r line; do
			printf '  %-7s| %s\n' "$name" "$line"
			n=$((n + 1))
		done
		echo "$n" >"$tmp/$name"
	} &
	pids+=($!)
}

# The events, as 'TYPE PAYLOAD' lines for 'ringcast pub --typed'.
produce() {
	local i
	for ((i = 1; i <= events; i++)); do
		if ((i % 4 == 0)); then
			echo "2 event $i: ALERT (type 2)"
		else
			echo "1 event $i: tick (type 1)"
		fi
		sleep 0.05
	done
}

head_of() {
	local head
	head=$("$bin" stat "$ring" | awk '$1 == "head:" { print $2 }') || true
	echo "${head:-0}"
}

echo "== ring $ring: 64 slots of 256 bytes"
"$bin" create "$ring" --slots 64 --slot-size 256

echo "== subscribers: all (--from oldest), alerts (--types 2), late (joins at event $late_at)"
subscriber all --from oldest
subscriber alerts --from oldest --types 2

echo "== publishing $events events, 50 ms apart"
produce | "$bin" pub "$ring" --typed &
pub_pid=$!

# The late subscriber attaches once the head has passed $late_at.
until (($(head_of) >= late_at)) || ! kill -0 "$pub_pid" 2>/dev/null; do
	sleep 0.01
done
subscriber late --from newest

wait "$pub_pid"
wait "${pids[@]}"
pids=()

echo "== events received"
n_all=$(<"$tmp/all")
n_alerts=$(<"$tmp/alerts")
n_late=$(<"$tmp/late")
printf '  %-7s %3d of %d  (every type)\n' all "$n_all" "$events"
printf '  %-7s %3d of %d  (type 2 only)\n' alerts "$n_alerts" $((events / 4))
printf '  %-7s %3d        (only what came after it joined)\n' late "$n_late"
"$bin" stat "$ring" | awk '$1 ~ /^(state|published|subscribers):$/ { print "  ring " $0 }'

status=0
if ((n_all != events || n_alerts != events / 4 || n_late > events - late_at)); then
	echo "demo: unexpected counts" >&2
	status=1
fi

bench=$builddir/bench/ringcast-bench
bench_args="--quick --metrics throughput"
bench_args+=" --transports ringcast-lossy-busy,ringcast-reliable,pipe"
if [[ -x $bench ]]; then
	echo "== throughput: ringcast against a pipe"
	# shellcheck disable=SC2086 # word splitting of the options is meant
	"$bench" ${RINGCAST_DEMO_BENCH_ARGS:-$bench_args} ||
		echo "demo: $bench failed" >&2
fi
exit "$status"
