#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Run one libFuzzer harness for a bounded time, starting from its seed
# corpus, without writing into the repository: new inputs go to a
# temporary corpus, crashes to ARTIFACTS (kept for inspection), and the
# rings the harness made are removed afterwards, also when it crashed.
#
# Usage: run-fuzz.sh HARNESS SEED-CORPUS SECONDS ARTIFACTS [LIBFUZZER-ARGS...]
# (FUZZ_SECONDS in the environment overrides SECONDS)
#
# Exit status: libFuzzer's (0 when it found nothing).  The last lines of
# its output say how many executions it ran (stat::number_of_executed_units).
set -u

exe=$1 seeds=$2 secs=${FUZZ_SECONDS:-$3} artifacts=$4
shift 4

work=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-fuzz.XXXXXX") || exit 1
mkdir -p "$artifacts"
trap 'rm -rf "$work"' EXIT

# -error_exitcode: libFuzzer's default, 77, is what meson takes for a
# skipped test: a crash must fail.
"$exe" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
	-error_exitcode=1 \
	-print_final_stats=1 -artifact_prefix="$artifacts/" \
	"$@" "$work" "$seeds" &
pid=$!
wait "$pid"
rc=$?

# Whatever a crashed run left in /dev/shm under this harness's names.
rm -f /dev/shm/ringcast.fz-"$pid"-* /dev/shm/ringcast-lock.fz-"$pid"-*
exit "$rc"
