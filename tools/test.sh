#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The test command: build ringcast three ways and run the tests.
#
#   build       normal build, warnings are errors; every suite but
#               'model-long' (Spin at larger sizes: minutes, on demand)
#   build-asan  AddressSanitizer + UBSan, no recovery; every suite but the
#               models and the benchmark smoke test
#   build-tsan  ThreadSanitizer; only the suite 'threads' (TSan sees one
#               process, so only the tests that race threads mean anything)
#   build-fuzz  clang, ASan + UBSan + libFuzzer coverage; only the suite
#               'fuzz': each harness (tests/fuzz) for FUZZ_SECONDS, 60 s
#   build-release, build-release-clang
#               --buildtype=release (-O3) with gcc and with clang, built
#               only: what packagers build, where -O3 finds warnings the
#               other trees do not; each counts as one test
#
# Usage: tools/test.sh [plain] [asan] [tsan] [fuzz] [release] [release-clang]
# (default: all six)
#
# Warnings are errors in every tree: -Dwerror=true is passed here, never
# a default of meson.build (packagers build with their own flags).  A
# build directory that exists is reconfigured with the same options, so a
# tree set up by hand or by an older test.sh gets them too; ninja (run by
# us, then by meson test) picks up any change, meson.build included.  Meson's own closing block counts test executables, not Check
# test cases, so the totals come from each run's testlog.junit.xml (one
# testcase per TAP line) plus testlog.json (an executable that crashed,
# timed out or failed after its last TAP line counts as one failure).  The
# last line of output is always "N passed, M failed[, K skipped]"; the exit
# status is non-zero when N is 0, M is not 0, or any build or run failed.
set -uo pipefail

cd "$(dirname "$(readlink -f "$0")")/.." || exit 1

tools/setup.sh || {
	echo "test.sh: tools/setup.sh failed" >&2
	echo "0 passed, 1 failed"
	exit 1
}

kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(plain asan tsan fuzz release release-clang)

jobs=2
# Check scales its own per-test timeouts (tcase_set_timeout) by this;
# meson scales the test() timeouts by --timeout-multiplier.
asan_mult=3
tsan_mult=5

status=0
summaries=()

# shm_snapshot - the names of the ringcast objects in /dev/shm, sorted
shm_snapshot()
{
	find /dev/shm -maxdepth 1 -name 'ringcast*' -printf '%f\n' 2>/dev/null |
		sort
}

# setup_dir DIR MESON-OPTIONS... - set DIR up, or reconfigure it with
# these options when it is set up already
setup_dir()
{
	local dir=$1
	shift

	if [ -f "$dir/meson-private/coredata.dat" ]; then
		echo "==> meson setup --reconfigure $dir $*"
		meson setup --reconfigure "$dir" "$@" >/dev/null && return 0
		echo "test.sh: reconfiguring $dir failed; setting it up anew" >&2
		rm -rf "$dir"
		echo "==> meson setup $dir $*"
		meson setup "$dir" "$@"
		return
	fi
	if [ -e "$dir" ]; then
		# A setup that failed half-way leaves a directory meson will
		# not set up again: remove it, but only if it is meson's.
		if [ -d "$dir/meson-logs" ] || [ -d "$dir/meson-private" ] ||
		   [ -z "$(ls -A "$dir" 2>/dev/null)" ]; then
			rm -rf "$dir"
		else
			echo "test.sh: $dir exists and is not a meson build" \
			     "directory" >&2
			return 1
		fi
	fi
	echo "==> meson setup $dir $*"
	meson setup "$dir" "$@"
}

# sum_logs DIR LABEL BUILD-STATUS TEST-STATUS - print one build's totals
# and append "passed failed skipped" to the file $totals
sum_logs()
{
	python3 - "$@" "$totals" <<'EOF'
import json
import os
import sys
import xml.etree.ElementTree as ET

d, label, build_rc, test_rc, totals = sys.argv[1:6]
build_rc, test_rc = int(build_rc), int(test_rc)
junit = os.path.join(d, 'meson-logs', 'testlog.junit.xml')
jlog = os.path.join(d, 'meson-logs', 'testlog.json')
passed = failed = skipped = 0
notes = []
failed_owners = set()   # junit suites / testcases holding a failure
owners = set()

if build_rc != 0:
	failed += 1
	notes.append('build failed')
elif os.path.exists(junit):
	root = ET.parse(junit).getroot()
	for suite in root.iter('testsuite'):
		sname = suite.get('name', '')
		for case in suite.iter('testcase'):
			cname = case.get('name', '')
			tags = {c.tag for c in case}
			# TAP tests: one suite per executable, named
			# "project.project:suite / test"; other tests (and
			# TAP ones with no subtest): a testcase each, named
			# "project:suite / test", in a suite "project".
			owner = sname if ' / ' in sname else cname
			owners.add(owner)
			if 'failure' in tags or 'error' in tags:
				failed += 1
				failed_owners.add(owner)
			elif 'skipped' in tags:
				skipped += 1
			else:
				passed += 1

bad = ('FAIL', 'ERROR', 'TIMEOUT', 'UNEXPECTEDPASS', 'INTERRUPT')
executables = 0
if build_rc == 0 and os.path.exists(jlog):
	with open(jlog) as f:
		for line in f:
			t = json.loads(line)
			executables += 1
			if t.get('result') not in bad:
				continue
			name = t['name']
			mine = [o for o in failed_owners
				if o == name or o.endswith('.' + name)]
			if not mine:
				# Crashed, timed out, exited non-zero after its
				# last TAP line, or bailed out: no testcase
				# says so, count the executable once.
				failed += 1
				rc = t.get('returncode')
				msg = '%s: %s (exit %s), no failed test case'
				notes.append(msg % (name, t['result'], rc))

if build_rc == 0 and test_rc != 0 and failed == 0:
	failed += 1
	notes.append('meson test exited %d' % test_rc)

line = '%s: %d passed, %d failed, %d skipped (%d test executables)' % (
	label, passed, failed, skipped, executables)
if build_rc == 0 and executables == 0 and passed + failed + skipped == 0:
	line = '%s: no tests run' % label
print(line)
for n in notes:
	print('  ' + n)
with open(totals, 'a') as f:
	f.write('%d %d %d\n' % (passed, failed, skipped))
EOF
}

# run_kind KIND - set up, build and test one build directory
run_kind()
{
	local kind=$1 dir label ck_mult=${CK_TIMEOUT_MULTIPLIER:-} setup_cc=
	local -a setup_opts test_opts env_opts=()
	local build_only=false

	case $kind in
	plain)
		dir=build
		setup_opts=(-Dwerror=true)
		# model-long: minutes per model, on demand (docs/operations.md).
		test_opts=(--no-suite model-long)
		# The no-lost-wake-up stress at the size the design asks
		# for (10^5 sparse publishes, about 10 s); smaller elsewhere.
		env_opts=("RINGCAST_STRESS_EVENTS=${RINGCAST_STRESS_EVENTS:-100000}")
		;;
	asan)
		dir=build-asan
		setup_opts=(-Dwerror=true
			    '-Db_sanitize=address,undefined' -Db_lundef=false
			    -Dc_args=-fno-sanitize-recover=all
			    -Dc_link_args=-fno-sanitize-recover=all)
		# The Spin models and the benchmark smoke test run no
		# library code that a sanitizer could check: once is enough.
		test_opts=(--timeout-multiplier "$asan_mult" --no-suite model
			   --no-suite model-long --no-suite bench)
		env_opts=("CK_TIMEOUT_MULTIPLIER=${ck_mult:-$asan_mult}")
		;;
	tsan)
		dir=build-tsan
		setup_opts=(-Dwerror=true -Db_sanitize=thread -Db_lundef=false)
		test_opts=(--timeout-multiplier "$tsan_mult" --suite threads)
		env_opts=("CK_TIMEOUT_MULTIPLIER=${ck_mult:-$tsan_mult}")
		;;
	fuzz)
		dir=build-fuzz
		setup_cc=clang
		setup_opts=(-Dwerror=true
			    '-Db_sanitize=address,undefined' -Db_lundef=false
			    '-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all'
			    -Dc_link_args=-fno-sanitize-recover=all)
		test_opts=(--suite fuzz)
		;;
	release)
		dir=build-release
		setup_opts=(-Dwerror=true --buildtype=release)
		build_only=true
		;;
	release-clang)
		dir=build-release-clang
		setup_cc=clang
		setup_opts=(-Dwerror=true --buildtype=release)
		build_only=true
		;;
	*)
		echo "test.sh: unknown build kind '$kind'" \
		     "(plain, asan, tsan, fuzz)" >&2
		status=1
		echo "0 1 0" >>"$totals"
		summaries+=("$kind: unknown build kind")
		return
		;;
	esac
	label=$dir

	local build_rc=0 test_rc=0
	if ! (if [ -n "$setup_cc" ]; then export CC=$setup_cc; fi
	      setup_dir "$dir" "${setup_opts[@]}"); then
		build_rc=1
	else
		echo "==> ninja -C $dir"
		ninja -C "$dir" || build_rc=$?
	fi

	if $build_only; then
		local what="release build ($dir)"
		if [ "$build_rc" -eq 0 ]; then
			summaries+=("$label: 1 passed, 0 failed: $what")
			echo "1 0 0" >>"$totals"
		else
			status=1
			summaries+=("$label: 0 passed, 1 failed: $what failed")
			echo "0 1 0" >>"$totals"
		fi
		return
	fi

	if [ "$build_rc" -eq 0 ]; then
		# "No suitable tests defined" leaves the previous run's
		# logs in place: never sum stale ones.
		rm -f "$dir"/meson-logs/testlog.json \
		      "$dir"/meson-logs/testlog.junit.xml \
		      "$dir"/meson-logs/testlog.txt
		echo "==> meson test -C $dir ${test_opts[*]}"
		env "${env_opts[@]}" meson test -C "$dir" --print-errorlogs \
			--num-processes "$jobs" "${test_opts[@]}" ||
			test_rc=$?
	fi
	if [ "$build_rc" -ne 0 ] || [ "$test_rc" -ne 0 ]; then
		status=1
	fi

	summaries+=("$(sum_logs "$dir" "$label" "$build_rc" "$test_rc")") ||
		status=1
}

totals=$(mktemp "${TMPDIR:-/tmp}/ringcast-test.XXXXXX") || exit 1
trap 'rm -f "$totals"' EXIT

shm_before=$(shm_snapshot)
start=$SECONDS
for kind in "${kinds[@]}"; do
	run_kind "$kind"
done
shm_after=$(shm_snapshot)

echo
echo "==> summary ($((SECONDS - start)) s)"
for s in "${summaries[@]}"; do
	echo "$s"
done

leaked=$(comm -13 <(echo "$shm_before") <(echo "$shm_after") | grep -v '^$')
if [ -n "$leaked" ]; then
	echo "warning: objects left in /dev/shm by the run:" \
	     "${leaked//$'\n'/ }"
fi

read -r passed failed skipped < <(awk '
	{ p += $1; f += $2; s += $3 }
	END { printf "%d %d %d\n", p, f, s }' "$totals")
[ "$passed" -eq 0 ] && status=1
[ "$failed" -ne 0 ] && status=1

if [ "$skipped" -ne 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
exit "$status"
