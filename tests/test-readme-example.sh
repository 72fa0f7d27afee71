#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-readme-example.sh - the TypeMux example in README.md is, verbatim,
# examples/typemux.c (which the test suite builds and runs): the fenced
# block that follows the line '<!-- examples/typemux.c -->'.
#
# Usage: test-readme-example.sh README.md examples/typemux.c
set -u

. "$(dirname "$0")/tap.sh"

readme=$1
example=$2
block=$(awk '
	/^<!-- examples\/typemux.c -->$/ { want = 1; next }
	want && /^```c$/ { inside = 1; next }
	inside && /^```$/ { exit }
	inside { print }
' "$readme")
if [ -z "$block" ]; then
	not_ok "README.md shows examples/typemux.c" "no block after the marker"
elif out=$(diff -u <(printf '%s\n' "$block") "$example"); then
	ok "README.md shows examples/typemux.c verbatim"
else
	not_ok "README.md shows examples/typemux.c verbatim" "$out"
fi
done_testing
