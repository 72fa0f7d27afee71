#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-header.sh - include/ringcast.h compiles on its own as pedantic C11
# and as pedantic C++, and a C++ program links against the library.
#
# Usage: test-header.sh INCLUDE-DIR LIBRINGCAST.SO
# Environment (tests/meson.build): CC, CXX (empty when there is none),
# SANITIZE (meson's b_sanitize).
set -u

. "$(dirname "$0")/tap.sh"

if [ $# -ne 2 ]; then
	echo "Bail out! usage: $0 INCLUDE-DIR LIBRINGCAST.SO"
	exit 1
fi
incdir=$1
so=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-header.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
trap 'rm -rf "$tmp"' EXIT

# The header first, alone, twice (the include guard), then a use of each
# kind of thing it declares.
cat >"$tmp/use.c" <<'SRC'
#include <ringcast.h>
#include <ringcast.h>

int use_ringcast(void);

int use_ringcast(void)
{
	struct ringcast_ring_opts opts = { RINGCAST_DEFAULT_SLOTS,
					   RINGCAST_DEFAULT_SLOT_SIZE,
					   RINGCAST_DEFAULT_MAX_SUBSCRIBERS, 0, 0,
					   RINGCAST_DEFAULT_DATA_SIZE };
	struct ringcast_event ev;
	struct ringcast_sub_opts sopts;
	enum ringcast_state st = RINGCAST_STATE_LIVE;
	const char *(*fn)(int) = ringcast_strerror;

	(void)ev;
	(void)sopts;
	(void)fn;
	return (int)opts.slots + (int)st + (int)RINGCAST_MAX_TYPES;
}
SRC
cp "$tmp/use.c" "$tmp/use.cpp"
cat >"$tmp/main.cpp" <<'SRC'
#include <ringcast.h>
#include <cerrno>
#include <cstdio>

int main()
{
	std::printf("%s\n", ringcast_strerror(-EPIPE));
	return 0;
}
SRC

c_flags=(-std=c11 -pedantic -Werror -Wall -Wextra -Wstrict-prototypes
	 -Wmissing-prototypes -Wundef -Wshadow)
# shellcheck disable=SC2086 # CC is a command line
check "C11: ${c_flags[*]}" \
	$CC "${c_flags[@]}" -I"$incdir" -c -o "$tmp/use-c.o" "$tmp/use.c"
# shellcheck disable=SC2086
check "C99 -pedantic -Werror" \
	$CC -std=c99 -pedantic -Werror -Wall -Wextra -I"$incdir" -c \
	-o "$tmp/use-c99.o" "$tmp/use.c"

if [ -z "${CXX:-}" ]; then
	skip "C++11 -pedantic -Werror" "no C++ compiler (g++)"
	skip "C++17 -pedantic -Werror" "no C++ compiler (g++)"
	skip "a C++ program links" "no C++ compiler (g++)"
	done_testing
	exit
fi

# Not -Wshadow: in C++ the function ringcast_sub_get_stats() hides the
# implicit constructor of struct ringcast_sub_stats, which g++ reports
# under -Wshadow; renaming either would change the API.
cxx_flags=(-std=c++11 -pedantic -Werror -Wall -Wextra -Wundef)
# shellcheck disable=SC2086
check "C++11: ${cxx_flags[*]}" \
	$CXX "${cxx_flags[@]}" -I"$incdir" -c -o "$tmp/use-cxx.o" \
	"$tmp/use.cpp"
# shellcheck disable=SC2086
check "C++17 -pedantic -Werror" \
	$CXX -std=c++17 -pedantic -Werror -Wall -Wextra -I"$incdir" -c \
	-o "$tmp/use-cxx17.o" "$tmp/use.cpp"

san=()
[ "${SANITIZE:-none}" != none ] && san=("-fsanitize=$SANITIZE")
# shellcheck disable=SC2086
if out=$($CXX "${san[@]}" -std=c++11 -pedantic -Werror -I"$incdir" \
	-o "$tmp/main" "$tmp/main.cpp" "$so" \
	-Wl,-rpath,"$(dirname "$so")" 2>&1) &&
   out=$("$tmp/main" 2>&1) && [ "$out" = "the ring is closed" ]; then
	ok "a C++ program links and calls ringcast_strerror()"
else
	not_ok "a C++ program links and calls ringcast_strerror()" "$out"
fi

done_testing
