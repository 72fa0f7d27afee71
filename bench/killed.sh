#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-killed: ringcast-bench killed mid-run, every one of its processes
# at once (as pkill -f ringcast-bench does), leaves nothing in /dev/shm.
# The run that is killed is a fan-out to reliable subscribers that would
# last minutes; the driver must kill the run's process group and remove
# its ring from its signal handler.
set -eu
bench=$1
mark=$(mktemp -d)
drv=
leftovers() { ls /dev/shm | grep -F "rcb-$drv-" || true; }
# $mark is on every process's command line (the run and its subscribers
# are forks of the driver): it tells which processes are this test's.
ours() {
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$mark"; then
			echo "${p#/proc/}"
		fi
	done
}
# Whatever happened, no process and no ring of this test outlives it.
cleanup() {
	kill -KILL $(ours) 2>/dev/null || true
	sleep 0.2
	[ -n "$drv" ] && for n in $(leftovers); do rm -f "/dev/shm/$n"; done
	rm -rf "$mark"
}
trap cleanup EXIT

"$bench" --transports ringcast-reliable --metrics fanout --subscribers 2 \
	--count 1000000000 --repetitions 1 --timeout 120 --plot "$mark" \
	>/dev/null 2>&1 &
drv=$!

i=0
until [ -n "$(leftovers)" ]; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 "$drv" 2>/dev/null; then
		echo "the run's ring never appeared in /dev/shm" >&2
		exit 1
	fi
	sleep 0.1
done

pids=$(ours)
echo "killing $(echo $pids | wc -w) processes: $(echo $pids)"
kill -TERM $pids 2>/dev/null || true
wait "$drv" 2>/dev/null || true

i=0
while [ -n "$(ours)" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "processes left: $(ours)" >&2
		exit 1
	fi
	sleep 0.1
done
left=$(leftovers)
if [ -n "$left" ]; then
	echo "left in /dev/shm: $left" >&2
	exit 1
fi
echo "nothing left in /dev/shm"
