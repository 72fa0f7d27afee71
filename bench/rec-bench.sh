#!/bin/bash
# SPDX-License-Identifier: MIT
#
# rec-bench.sh - the recording rate against the file system's own
# sequential write rate, measured in the same run, with cat and replay
# beside it (docs/recordings.md, "Rates").
#
# Usage: rec-bench.sh BUILD-DIR WORK-DIR
#
# For 64 B and 4 KiB events and the fsync policies none and segment:
#   bench/rec    ring, record, write (bench/rec.c says how)
#   dd           as many bytes as the recording holds, 1 MiB blocks, with
#                conv=fdatasync under the segment policy
#   cat          ringcast cat --format raw of that recording to /dev/null
#   replay       ringcast replay --max of it into a fresh ring, no reader
set -eu

build=$1
work=$2
tool=$build/tools/ringcast
mkdir -p "$work"

secs()
{
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

for cfg in "64 2000000" "4096 100000"; do
	set -- $cfg
	size=$1 count=$2
	for policy in none segment; do
		echo "== $size B x $count, fsync $policy"
		out=$("$build/bench/rec" "$work" "$size" "$count" "$policy")
		echo "$out"
		bytes=$(echo "$out" | sed -n 's/.*recording \([0-9]*\) bytes/\1/p')
		mib=$(( (bytes + 1048575) / 1048576 ))
		conv=
		[ "$policy" = segment ] && conv=conv=fdatasync
		printf 'dd       '
		dd if=/dev/zero of="$work/dd" bs=1M count=$mib $conv 2>&1 |
			tail -1
		rm -f "$work/dd"
		t=$(secs "$tool" cat "$work/rec" --format raw)
		printf 'cat      %12.0f events/s %6.0f MB/s (file)\n' \
			"$(echo "$count / $t" | bc -l)" \
			"$(echo "$bytes / $t / 1000000" | bc -l)"
		name=bench-replay-$$
		t=$(secs "$tool" replay "$work/rec" "$name" --max --slots 16384 \
			--slot-size 128 --data-size 64M)
		"$tool" rm "$name" >/dev/null 2>&1 || true
		printf 'replay   %12.0f events/s %6.0f MB/s (payload)\n' \
			"$(echo "$count / $t" | bc -l)" \
			"$(echo "$size * $count / $t / 1000000" | bc -l)"
	done
done
rm -rf "$work/rec"
