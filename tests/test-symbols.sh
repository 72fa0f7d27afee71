#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-symbols.sh - the exported surface is exactly the public API.
#
# Usage: test-symbols.sh LIBRINGCAST.SO LIBRINGCAST.A RINGCAST.H
#
# - every dynamic symbol libringcast.so defines is a function declared
#   with RINGCAST_API in ringcast.h, and every such function is exported,
#   each in a RINGCAST_ version node (src/libringcast.sym);
# - the static library's global symbols are ringcast_* (the API) or rc_*
#   (internal, kept out of the user's namespace by the prefix).
set -u

. "$(dirname "$0")/tap.sh"

if [ $# -ne 3 ]; then
	echo "Bail out! usage: $0 LIBRINGCAST.SO LIBRINGCAST.A RINGCAST.H"
	exit 1
fi
so=$1
ar=$2
header=$3

command -v nm >/dev/null || skip_all "no nm (binutils)"

# The functions the header declares: the name before the first '(' of
# each line that starts with RINGCAST_API.
declared=$(sed -n \
	's/^RINGCAST_API[^(]*[ *]\(ringcast_[A-Za-z0-9_]*\)(.*/\1/p' \
	"$header" | sort)
n=$(echo "$declared" | grep -c .)
if [ "$n" -gt 0 ]; then
	ok "ringcast.h declares $n functions"
else
	not_ok "ringcast.h declares functions" "none found in $header"
fi

# nm -D: "ADDR TYPE NAME@@VERSION"; the version node itself shows as an
# absolute symbol (type A).
if ! dyn=$(nm -D --defined-only "$so" 2>&1); then
	not_ok "nm -D $so" "$dyn"
	done_testing
	exit
fi
exported=$(echo "$dyn" | awk '$2 != "A" { print $3 }')
names=$(echo "$exported" | sed 's/@.*//' | sort)

leaked=$(echo "$names" | grep -v '^ringcast_')
if [ -z "$leaked" ]; then
	ok "every exported symbol starts with ringcast_"
else
	not_ok "every exported symbol starts with ringcast_" "$leaked"
fi

unversioned=$(echo "$exported" | grep -v '@@RINGCAST_')
if [ -z "$unversioned" ]; then
	ok "every exported symbol has a RINGCAST_ version"
else
	not_ok "every exported symbol has a RINGCAST_ version" "$unversioned"
fi

extra=$(comm -13 <(echo "$declared") <(echo "$names"))
if [ -z "$extra" ]; then
	ok "every exported symbol is declared in ringcast.h"
else
	not_ok "every exported symbol is declared in ringcast.h" "$extra"
fi

missing=$(comm -23 <(echo "$declared") <(echo "$names"))
if [ -z "$missing" ]; then
	ok "every function of ringcast.h is exported"
else
	not_ok "every function of ringcast.h is exported" "$missing"
fi

# Sanitizers add their own globals (__asan_*, __odr_asan_*, ...): only
# names of ours are checked.
if ! globals=$(nm -g --defined-only "$ar" 2>&1); then
	not_ok "nm -g $ar" "$globals"
else
	bad=$(echo "$globals" | awk 'NF == 3 { print $3 }' |
	      grep -v -e '^ringcast_' -e '^rc_' -e '^__' -e '^\.' | sort -u)
	if [ -z "$bad" ]; then
		ok "libringcast.a defines only ringcast_* and rc_* globals"
	else
		not_ok "libringcast.a defines only ringcast_* and rc_* globals" \
			"$bad"
	fi
fi

done_testing
