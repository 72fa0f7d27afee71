#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-readme-example.sh - the examples that README.md and docs/ show are,
# verbatim, the files in examples/ (which the test suite builds and runs):
# for each DOC:EXAMPLE, the fenced block of DOC that follows the line
# '<!-- EXAMPLE -->'.
#
# Usage: test-readme-example.sh SRCROOT DOC:EXAMPLE...
#   e.g. test-readme-example.sh . README.md:examples/publisher.c
set -u

. "$(dirname "$0")/tap.sh"

root=$1
shift
for pair in "$@"; do
	doc=${pair%%:*}
	example=${pair#*:}
	block=$(awk -v mark="<!-- $example -->" '
		$0 == mark { want = 1; next }
		want && /^```c$/ { inside = 1; next }
		inside && /^```$/ { exit }
		inside { print }
	' "$root/$doc")
	if [ -z "$block" ]; then
		not_ok "$doc shows $example" "no block after '<!-- $example -->'"
	elif out=$(diff -u <(printf '%s\n' "$block") "$root/$example"); then
		ok "$doc shows $example verbatim"
	else
		not_ok "$doc shows $example verbatim" "$out"
	fi
done
done_testing
