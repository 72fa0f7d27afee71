# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tap.sh - TAP output for the shell tests, sourced by tests/test-*.sh.
#
#   ok NAME / not_ok NAME [DETAIL...]   one test line (details as comments)
#   check NAME CMD...                   ok when CMD succeeds; CMD's output
#                                       is kept as comments when it fails
#   skip NAME REASON                    one test line, skipped
#   skip_all REASON                     "1..0 # SKIP REASON", exit 0
#   done_testing                        the plan; exit status 1 on a failure
#
# Everything else the scripts print goes to standard error, never to the
# TAP stream.

tap_n=0
tap_failed=0

ok()
{
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

not_ok()
{
	local name=$1

	shift
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $name"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" | sed 's/^/# /'
	fi
}

check()
{
	local name=$1 out

	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name" "$out"
	fi
}

skip()
{
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

skip_all()
{
	echo "1..0 # SKIP $1"
	exit 0
}

done_testing()
{
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
