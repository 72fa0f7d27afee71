#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Check one Promela model exhaustively with Spin, as one TAP test.
#
#   run-model.sh MODEL.pml pass|fail [-DNAME[=VALUE] ...]
#
# Generates pan.c with the given defines (a model's sizes, or the mutation
# of a mutant), compiles it with -DSAFETY (every property is an assertion or
# an invalid end state) and -DCOLLAPSE, and runs a full search.  "pass"
# wants no error and a complete search; "fail" wants Spin to find an error,
# whose trail is replayed into the log.  Prints the state counts.
# Environment: SPIN, CC (defaults spin, cc), PAN_FLAGS (extra pan flags).
set -u

model=$1
expect=$2
shift 2
name="$(basename "$model" .pml)${*:+ $*}"
SPIN=${SPIN:-spin}
CC=${CC:-cc}

echo "1..1"
if ! command -v "$SPIN" >/dev/null 2>&1; then
	echo "ok 1 - $name # SKIP spin not installed"
	exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/rc-model.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cp "$model" "$dir/model.pml"
cd "$dir" || exit 1

start=$(date +%s%N)
if ! "$SPIN" "$@" -a model.pml >spin.log 2>&1; then
	sed 's/^/# /' spin.log
	echo "not ok 1 - $name # spin -a failed"
	exit 1
fi
# -w24: a 16 M-slot hash table; the models stay far below it.
# A mutant is searched breadth-first: its trail is then a shortest one.
mode=-DCOLLAPSE
[ "$expect" = fail ] && mode=-DBFS
if ! "$CC" -O2 -w -DSAFETY $mode -DVECTORSZ=4096 -o pan pan.c \
	>cc.log 2>&1; then
	sed 's/^/# /' cc.log
	echo "not ok 1 - $name # pan.c does not compile"
	exit 1
fi
./pan -m1000000 -w24 -n ${PAN_FLAGS:-} >pan.out 2>&1
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
secs="$((ms / 1000)).$(printf %03d $((ms % 1000)))"

errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out | head -n1)
stored=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.out | head -n1)
trans=$(sed -n 's/^ *\([0-9.e+]*\) transitions.*/\1/p' pan.out | head -n1)
depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.out | head -n1)
summary="states stored ${stored:-?}, transitions ${trans:-?}, depth ${depth:-?}, ${secs}s"
grep -v '^$' pan.out | sed 's/^/# /'

if [ -z "$errors" ]; then
	echo "not ok 1 - $name # pan did not finish"
	exit 1
fi
case $expect in
pass)
	if [ "$errors" -eq 0 ] && ! grep -q 'max search depth too small' pan.out; then
		echo "ok 1 - $name: no error; $summary"
		exit 0
	fi
	if [ "$errors" -ne 0 ]; then
		"$SPIN" "$@" -t -B model.pml 2>&1 | tail -n 60 | sed 's/^/# /'
	fi
	echo "not ok 1 - $name: $errors error(s) or incomplete search; $summary"
	exit 1
	;;
fail)
	if [ "$errors" -gt 0 ]; then
		"$SPIN" "$@" -t -B model.pml 2>&1 | tail -n 60 | sed 's/^/# /'
		echo "ok 1 - $name: violation found as it must be; $summary"
		exit 0
	fi
	echo "not ok 1 - $name: the mutant passed, the model cannot fail; $summary"
	exit 1
	;;
esac
echo "not ok 1 - $name: expect pass or fail, not '$expect'"
exit 1
