#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-version.sh - one version everywhere: meson.build's project version,
# the header's macros, ringcast --version, the shared library's file name
# and the man pages.
#
# Usage: test-version.sh PRINT-VERSION RINGCAST-TOOL LIBRINGCAST.SO MAN-DIR
# Environment (tests/meson.build): VERSION, the project's version.
set -u

. "$(dirname "$0")/tap.sh"

if [ $# -ne 4 ] || [ -z "${VERSION:-}" ]; then
	echo "Bail out! usage: VERSION=X $0 PRINT-VERSION TOOL LIB MAN-DIR"
	exit 1
fi
print_version=$1
tool=$2
so=$3
mandir=$4

# same NAME GOT - ok when GOT is the project's version
same()
{
	if [ "$2" = "$VERSION" ]; then
		ok "$1 is $VERSION"
	else
		not_ok "$1 is $VERSION" "got '$2'"
	fi
}

macros=$("$print_version" 2>&1)
same RINGCAST_VERSION "$(echo "$macros" | sed -n 1p)"
same "RINGCAST_VERSION_MAJOR.MINOR.PATCH" "$(echo "$macros" | sed -n 2p)"

out=$("$tool" --version 2>&1)
same "ringcast --version" "${out#ringcast }"
[ "${out%% *}" = ringcast ] || not_ok "ringcast --version says 'ringcast'" "$out"

same "the shared library's file name" "${so##*/libringcast.so.}"

for p in ringcast.1 ringcast.3 ringcast.7; do
	th=$(sed -n 's/^\.TH .* "ringcast \([^"]*\)".*/\1/p' "$mandir/$p")
	same "the .TH line of $p" "$th"
done

done_testing
