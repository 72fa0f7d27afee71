#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bridge-bench.sh - end-to-end events/s of the NATS bridge on loopback:
#
#   ringcast pub -> ring A -> ringcast-bridge out -> nats-server (127.0.0.1)
#   -> ringcast-bridge in -> ring B -> ringcast sub
#
# and, in the same run, what NATS itself moves: a plain nats.c publisher
# and subscriber (bridge-nats-raw) with messages of the events' size.
#
# Usage: tools/bridge-bench.sh [BUILD_DIR] [EVENTS] [SIZE] [RUNS]
#        (defaults: build, 1000000, 64, 3)
#        tools/bridge-bench.sh --latency [BUILD_DIR] [RATE] [COUNT]
#        (defaults: build, 1000, 5000)
#
# Throughput: each run times the bridge from the first publish to the last
# event read on ring B, then the raw pair from the start of its publisher
# to the last message its subscriber read, and prints one row for each;
# then the medians.  The publisher is gated by bridge out (a reliable
# subscriber), ring B's reader is reliable, and each run checks that all
# EVENTS arrived and that the bridges counted no loss.  Extra options for
# bridge out: BRIDGE_OUT_ARGS in the environment.
#
# Latency: the same chain, with bridge-latency publishing RATE events a
# second into ring A, each stamped with its CLOCK_MONOTONIC time, and
# reading them from ring B in the same process: one row of percentiles
# in microseconds, from the publish to the read on ring B.
#
# Needs nats-server and a build with the bridge (libnats-dev).
set -euo pipefail

latency=
if [ "${1:-}" = --latency ]; then
	latency=1
	shift
fi
build=${1:-build}
events=${2:-1000000}
size=${3:-64}
runs=${4:-3}
if [ -n "$latency" ]; then
	rate=${2:-1000}
	count=${3:-5000}
fi
rc=$build/tools/ringcast
bridge=$build/tools/bridge/ringcast-bridge
raw=$build/tools/bridge/bridge-nats-raw
lat=$build/tools/bridge/bridge-latency

for f in "$rc" "$bridge" "$raw" "$lat"; do
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

# Both bridges between rings A and B, ready: bridge out's pid in $out,
# bridge in's in $in.
bridges_start()
{
	"$rc" create "$a" --slots 65536 --slot-size 128 >/dev/null
	"$bridge" in "$b" --nats "$url" --subject "bench$$.$a.*" \
		--slots 65536 --slot-size 128 2>"$tmp/in.log" &
	in=$!
	pids+=($in)
	wait_for grep -qx 'ready 1' "/dev/shm/ringcast-bridge.in.$b"
	# shellcheck disable=SC2086 # words of options
	"$bridge" out "$a" --nats "$url" --subject "bench$$" \
		${BRIDGE_OUT_ARGS:-} 2>"$tmp/out.log" &
	out=$!
	pids+=($out)
	wait_for grep -qx 'connected 1' "/dev/shm/ringcast-bridge.out.$a"
}

bridges_stop()
{
	kill "$out" "$in" 2>/dev/null || true
	wait "$out" || true
	wait "$in" || true
	"$rc" rm "$a" >/dev/null
	"$rc" rm "$b" >/dev/null
}

nats_version=$(nats-server --version | awk '{print $NF}')

if [ -n "$latency" ]; then
	echo "# latency from a publish into ring A to the read from ring B, $rate events/s of 64 bytes, $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg), nats-server $nats_version"
	bridges_start
	"$lat" "$a" "$b" "$rate" "$count" 64
	frames=$(awk '$1 == "frames" { print $2 }' "/dev/shm/ringcast-bridge.out.$a")
	sent=$(awk '$1 == "sent" { print $2 }' "/dev/shm/ringcast-bridge.out.$a")
	echo "# bridge out sent $sent events in $frames frames"
	bridges_stop
	exit 0
fi

# One line of SIZE bytes per event (ringcast pub strips the newline).
line=$(head -c "$size" /dev/zero | tr '\0' 'x')
{ yes "$line" || true; } | head -n "$events" >"$tmp/events"

echo "# $events events of $size bytes per run, $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg), nats-server $nats_version"
printf '%-4s %-9s %12s %10s %14s\n' run path events seconds 'events/s'
rates=()
raw_rates=()
for ((r = 1; r <= runs; r++)); do
	bridges_start
	"$rc" sub "$b" --from oldest --count "$events" --timeout 30 \
		--reliable --format text >/dev/null &
	sub=$!

	t0=$(date +%s%N)
	"$rc" pub "$a" --wait-subscribers 1 <"$tmp/events"
	wait "$sub" || { echo "bridge-bench: ring B did not get every event" >&2; cat "$tmp/in.log" >&2; exit 1; }
	t1=$(date +%s%N)

	wait "$out"
	frames=$(sed -n 's/.* in \([0-9]*\) frames,.*/\1/p' "$tmp/out.log")
	lost=$("$bridge" stat "$b" | awk '$1 == "lost" { print $2 }')
	kill "$in"
	wait "$in" || true
	[ "$lost" = 0 ] || { echo "bridge-bench: bridge in counted $lost lost" >&2; exit 1; }
	"$rc" rm "$a" >/dev/null
	"$rc" rm "$b" >/dev/null

	rate=$(awk -v n="$events" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
	rates+=("$rate")
	printf '%-4d %-9s %12d %10.3f %14d   (%d frames)\n' "$r" bridge "$events" \
		"$(awk -v ns=$((t1 - t0)) 'BEGIN { print ns / 1e9 }')" "$rate" \
		"$frames"

	# The raw pair: the same number of messages of the same size.
	coproc RAWSUB { exec "$raw" sub "$url" "raw$$" "$events"; }
	rawsub=$RAWSUB_PID
	read -r ready <&"${RAWSUB[0]}"
	[ "$ready" = ready ] || { echo "bridge-bench: the raw subscriber failed" >&2; exit 1; }
	t0=$(date +%s%N)
	"$raw" pub "$url" "raw$$" "$events" "$size"
	read -r got <&"${RAWSUB[0]}" || got=0
	t1=$(date +%s%N)
	wait "$rawsub" || true
	rate=$(awk -v n="$got" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
	raw_rates+=("$rate")
	printf '%-4d %-9s %12d %10.3f %14d%s\n' "$r" nats-raw "$got" \
		"$(awk -v ns=$((t1 - t0)) 'BEGIN { print ns / 1e9 }')" "$rate" \
		"$([ "$got" = "$events" ] || echo "   (of $events: the server dropped the rest)")"
done
median()
{
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
m=$(median "${rates[@]}")
mr=$(median "${raw_rates[@]}")
echo "median: bridge $m events/s, nats-raw $mr messages/s ($(awk -v a="$m" -v b="$mr" 'BEGIN { printf "%.2f", a / b }')x)"
