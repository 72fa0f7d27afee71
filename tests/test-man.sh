#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-man.sh - the man pages are clean roff, render without warnings, and
# cover what they document: ringcast(1) every subcommand and option the
# tool's --help prints; every function of ringcast.h is in the synopsis of
# ringcast(3), the overview, and has a synopsis line and a heading in the
# page of its group that its man3 link points to.
#
# Usage: test-man.sh MAN-DIR RINGCAST-TOOL RINGCAST.H
# MAN-DIR holds the built pages (tools/man in the build directory), the
# very files meson install installs, and man-pages.list, what it installs
# (tools/man/meson.build writes it): 'page NAME' per page, 'link NAME
# TARGET' per man3 link.
set -u

. "$(dirname "$0")/tap.sh"

if [ $# -ne 3 ]; then
	echo "Bail out! usage: $0 MAN-DIR RINGCAST-TOOL RINGCAST.H"
	exit 1
fi
mandir=$1
tool=$2
header=$3
list=$mandir/man-pages.list

if [ ! -f "$list" ]; then
	echo "Bail out! no $list"
	exit 1
fi
mapfile -t pages < <(awk '$1 == "page" { print $2 }' "$list")
declare -A link_to=()
while read -r kind name target; do
	[ "$kind" = link ] && link_to[$name]=$target
done <"$list"
for p in ringcast.1 ringcast.3 ringcast.7; do
	case " ${pages[*]} " in
	*" $p "*) ;;
	*) not_ok "$p is installed" "not in $list" ;;
	esac
done

export LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat

have_groff=false
command -v groff >/dev/null && have_groff=true
have_man=false
command -v man >/dev/null && have_man=true

for p in "${pages[@]}"; do
	f=$mandir/$p
	if [ ! -f "$f" ]; then
		not_ok "$p exists" "no $f"
		continue
	fi
	if $have_groff; then
		# -ww: every warning; -z: no output; -t: tbl.
		out=$(groff -ww -z -t -man "$f" 2>&1)
		if [ -z "$out" ]; then
			ok "groff -ww -z $p: no warnings"
		else
			not_ok "groff -ww -z $p: no warnings" "$out"
		fi
	else
		skip "groff -ww -z $p" "no groff (groff-base)"
	fi
	if $have_man; then
		err=$(man --warnings -l "$f" 2>&1 >/dev/null)
		lines=$(man -l "$f" 2>/dev/null | grep -c .)
		if [ -z "$err" ] && [ "$lines" -gt 10 ]; then
			ok "man -l $p renders without warnings"
		else
			not_ok "man -l $p renders without warnings" "$err" \
				"($lines lines of output)"
		fi
	else
		skip "man -l $p" "no man (man-db)"
	fi
done

# ringcast(1): a .SS per subcommand, each --option of its --help.
if ! usage=$("$tool" --help 2>&1); then
	not_ok "ringcast --help" "$usage"
	done_testing
	exit
fi
cmds=$(echo "$usage" | awk '/^Commands:/ { on = 1; next }
	on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
if [ -z "$cmds" ]; then
	not_ok "ringcast --help lists the commands" "$usage"
fi
for c in $cmds; do
	if ! grep -q "^\.SS ringcast $c\b" "$mandir/ringcast.1"; then
		not_ok "ringcast(1) documents 'ringcast $c'" \
			"no '.SS ringcast $c' heading"
		continue
	fi
	opts=$("$tool" "$c" --help 2>/dev/null |
	       grep -o -- '--[a-z][a-z-]*' | sort -u)
	missing=()
	for o in $opts; do
		roff=${o//-/\\-}
		grep -qF -- "$roff" "$mandir/ringcast.1" || missing+=("$o")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		ok "ringcast(1) documents 'ringcast $c' and its options"
	else
		not_ok "ringcast(1) documents 'ringcast $c' and its options" \
			"missing: ${missing[*]}"
	fi
done

# Each function of the header: in the synopsis of the overview
# ringcast(3); its man3 link points to an installed page, which has it in
# its synopsis and under a heading of its own.
functions=$(sed -n \
	's/^RINGCAST_API[^(]*[ *]\(ringcast_[A-Za-z0-9_]*\)(.*/\1/p' \
	"$header")
# has_synopsis FN PAGE - PAGE's synopsis has a line declaring FN
has_synopsis()
{
	grep -q "^\.BI\? \"\?[^\"]*[ *]$1(" "$mandir/$2"
}
missing=()
for fn in $functions; do
	has_synopsis "$fn" ringcast.3 || missing+=("$fn")
done
if [ -n "$functions" ] && [ ${#missing[@]} -eq 0 ]; then
	ok "ringcast(3) has the $(echo "$functions" | wc -w) functions of ringcast.h in its synopsis"
else
	not_ok "ringcast(3) has every function of ringcast.h in its synopsis" \
		"missing: ${missing[*]}"
fi
missing=()
for fn in $functions; do
	target=${link_to[$fn.3]:-}
	if [ -z "$target" ]; then
		missing+=("$fn (no man3 link)")
	elif [ ! -f "$mandir/$target" ]; then
		missing+=("$fn (its link points to $target, not a built page)")
	elif ! grep -q "^\.SS $fn()$" "$mandir/$target" ||
	     ! has_synopsis "$fn" "$target"; then
		missing+=("$fn (in $target)")
	fi
done
if [ -n "$functions" ] && [ ${#missing[@]} -eq 0 ]; then
	ok "the $(echo "$functions" | wc -w) functions of ringcast.h are documented in the pages their links point to"
else
	not_ok "every function of ringcast.h is documented in the page its link points to" \
		"missing: ${missing[*]}"
fi

# The overview names every other page of section 3 in SEE ALSO.
see_also=$(sed -n '/^\.SH SEE ALSO/,/^\.SH/p' "$mandir/ringcast.3")
missing=()
for p in "${pages[@]}"; do
	case $p in
	ringcast.3 | *[!3]) continue ;;
	esac
	echo "$see_also" | grep -q "^\.BR ${p%.3} (3)" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	ok "ringcast(3) names the pages of the groups in SEE ALSO"
else
	not_ok "ringcast(3) names the pages of the groups in SEE ALSO" \
		"missing: ${missing[*]}"
fi

done_testing
