#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-errors-agree.sh - the header and the man pages list the same error
# codes for every function: the -EXXX of the "Return:" paragraph of its
# kernel-doc comment in ringcast.h, and those of the "Returns" paragraph
# of its section (.SS FUNCTION()) in the page its man3 link points to.
# That paragraph closes the section: from the first line that starts with
# "Returns" to the next .SS or .SH.  A function that returns int must list
# at least one code on both sides.
#
# Usage: test-errors-agree.sh MAN-DIR RINGCAST.H
# MAN-DIR holds the built pages and man-pages.list (see test-man.sh).
set -u

. "$(dirname "$0")/tap.sh"

if [ $# -ne 2 ]; then
	echo "Bail out! usage: $0 MAN-DIR RINGCAST.H"
	exit 1
fi
mandir=$1
header=$2
list=$mandir/man-pages.list

if [ ! -f "$list" ] || [ ! -f "$header" ]; then
	echo "Bail out! no $list or no $header"
	exit 1
fi
declare -A link_to=()
while read -r kind name target; do
	[ "$kind" = link ] && link_to[$name]=$target
done <"$list"

# FUNCTION TYPE CODES... per line: each RINGCAST_API declaration with the
# codes of the Return: paragraph of the comment that ends on the line
# before it ("-" when there is no such comment, TYPE "int" or "other").
header_codes()
{
	awk '
	/^\/\*\*/ { doc = ""; indoc = 1; inret = 0 }
	indoc && /^ \* Return:/ { inret = 1 }
	indoc && inret { doc = doc " " $0 }
	indoc && /\*\// { indoc = 0; ended = NR; next }
	/^RINGCAST_API/ {
		line = $0
		sub(/\(.*/, "", line)
		n = split(line, w, /[ *]+/)
		fn = w[n]
		type = ($0 ~ /^RINGCAST_API int /) ? "int" : "other"
		if (ended != NR - 1) {
			print fn, type, "-"
			next
		}
		codes = ""
		s = doc
		while (match(s, /-E[A-Z0-9]+/)) {
			c = substr(s, RSTART, RLENGTH)
			if (!(c in seen)) codes = codes " " c
			seen[c] = 1
			s = substr(s, RSTART + RLENGTH)
		}
		delete seen
		print fn, type, codes
		doc = ""
	}' "$header"
}

# man_codes FUNCTION PAGE - the codes of FUNCTION's Returns paragraph in
# PAGE, one per line; exit status 2 when PAGE has no section for it, 3
# when the section has no Returns paragraph.
man_codes()
{
	awk -v fn="$1" '
	$0 == ".SS " fn "()" { in_s = 1; found = 1; next }
	in_s && /^\.S[SH] / { in_s = 0 }
	in_s && /^Returns/ { in_r = 1; has_r = 1 }
	in_s && in_r {
		s = $0
		while (match(s, /\\-E[A-Z0-9]+/)) {
			print substr(s, RSTART + 1, RLENGTH - 1)
			s = substr(s, RSTART + RLENGTH)
		}
	}
	in_r && !in_s { in_r = 0 }
	END { exit !found ? 2 : !has_r ? 3 : 0 }' "$mandir/$2" | sort -u
	return "${PIPESTATUS[0]}"
}

n=0
while read -r fn type codes; do
	n=$((n + 1))
	page=${link_to[$fn.3]:-}
	name="$fn: ringcast.h and ${page:-its page} list the same error codes"
	if [ "$codes" = "-" ]; then
		not_ok "$name" "no kernel-doc comment right above its declaration"
		continue
	fi
	if [ -z "$page" ] || [ ! -f "$mandir/$page" ]; then
		not_ok "$name" "no man3 link to a built page"
		continue
	fi
	in_man=$(man_codes "$fn" "$page")
	rc=$?
	if [ $rc -eq 2 ]; then
		not_ok "$name" "no '.SS $fn()' in $page"
		continue
	fi
	read -ra list_h <<<"$codes"
	in_header=$(printf '%s\n' "${list_h[@]}" | sort -u)
	if [ "$type" = int ] && [ $rc -eq 3 ]; then
		not_ok "$name" "no Returns paragraph in its section of $page"
		continue
	fi
	if [ "$type" = int ] && [ -z "$in_header" ]; then
		not_ok "$name" "its Return: in ringcast.h lists no error code"
		continue
	fi
	only_h=$(comm -23 <(echo "$in_header") <(echo "$in_man") | xargs)
	only_m=$(comm -13 <(echo "$in_header") <(echo "$in_man") | xargs)
	if [ -z "$only_h$only_m" ]; then
		ok "$name"
	else
		not_ok "$name" \
			"only in ringcast.h: ${only_h:-none}" \
			"only in $page: ${only_m:-none}"
	fi
done < <(header_codes)

if [ "$n" -eq 0 ]; then
	not_ok "ringcast.h declares functions" "no RINGCAST_API line found"
fi

done_testing
