#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bridge-bench.sh - end-to-end events/s of the NATS bridge on loopback:
#
#   ringcast pub -> ring A -> ringcast-bridge out -> nats-server (127.0.0.1)
#   -> ringcast-bridge in -> ring B -> ringcast sub
#
# Usage: tools/bridge-bench.sh [BUILD_DIR] [EVENTS] [SIZE] [RUNS]
#        (defaults: build, 1000000, 64, 3)
#
# Times each run from the first publish to the last event read on ring B
# and prints one row per run, then the median.  The publisher is gated by
# bridge out (a reliable subscriber), ring B's reader is reliable, and
# each run checks that all EVENTS arrived and that the bridges counted no
# loss.  Needs nats-server and a build with the bridge (libnats-dev).
set -euo pipefail

build=${1:-build}
events=${2:-1000000}
size=${3:-64}
runs=${4:-3}
rc=$build/tools/ringcast
bridge=$build/tools/bridge/ringcast-bridge

for f in "$rc" "$bridge"; do
	[ -x "$f" ] || { echo "bridge-bench: no $f (build it first)" >&2; exit 1; }
done
command -v nats-server >/dev/null ||
	{ echo "bridge-bench: nats-server is not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bridge-bench.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=nats://127.0.0.1:$port
a=bench-a-$$
b=bench-b-$$
pids=()

cleanup()
{
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	"$rc" rm "$a" >/dev/null 2>&1 || true
	"$rc" rm "$b" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

wait_for()
{
	local end=$((SECONDS + 30))

	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || { echo "bridge-bench: timed out: $*" >&2; exit 1; }
		sleep 0.05
	done
}

nats-server -a 127.0.0.1 -p "$port" >"$tmp/nats.log" 2>&1 &
pids+=($!)
wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"

# One line of SIZE bytes per event (ringcast pub strips the newline).
line=$(head -c "$size" /dev/zero | tr '\0' 'x')
{ yes "$line" || true; } | head -n "$events" >"$tmp/events"

echo "# $events events of $size bytes per run, $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg), nats-server $(nats-server --version | awk '{print $NF}')"
printf '%-4s %12s %10s %14s\n' run events seconds 'events/s'
rates=()
for ((r = 1; r <= runs; r++)); do
	"$rc" create "$a" --slots 65536 --slot-size 128 >/dev/null
	"$bridge" in "$b" --nats "$url" --subject "bench$$.$a.*" \
		--slots 65536 --slot-size 128 2>"$tmp/in.log" &
	in=$!
	pids+=($in)
	wait_for grep -qx 'ready 1' "/dev/shm/ringcast-bridge.in.$b"
	"$bridge" out "$a" --nats "$url" --subject "bench$$" 2>"$tmp/out.log" &
	out=$!
	pids+=($out)
	wait_for grep -qx 'connected 1' "/dev/shm/ringcast-bridge.out.$a"
	"$rc" sub "$b" --from oldest --count "$events" --timeout 30 \
		--format text >/dev/null &
	sub=$!

	t0=$(date +%s%N)
	"$rc" pub "$a" --wait-subscribers 1 <"$tmp/events"
	wait "$sub" || { echo "bridge-bench: ring B did not get every event" >&2; cat "$tmp/in.log" >&2; exit 1; }
	t1=$(date +%s%N)

	wait "$out"
	lost=$("$bridge" stat "$b" | awk '$1 == "lost" { print $2 }')
	kill "$in"
	wait "$in" || true
	[ "$lost" = 0 ] || { echo "bridge-bench: bridge in counted $lost lost" >&2; exit 1; }
	"$rc" rm "$a" >/dev/null
	"$rc" rm "$b" >/dev/null

	rate=$(awk -v n="$events" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
	rates+=("$rate")
	printf '%-4d %12d %10.3f %14d\n' "$r" "$events" \
		"$(awk -v ns=$((t1 - t0)) 'BEGIN { print ns / 1e9 }')" "$rate"
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median: $median events/s"
