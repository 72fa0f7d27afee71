#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-install.sh - install the build into a temporary tree and use the
# installed copy as a user would: the compiler and linker flags come from
# `pkg-config --cflags --libs ringcast` alone.
#
# Run by meson test (tests/meson.build sets the environment):
#   MESON       the meson command
#   BUILD_ROOT  the build directory
#   PREFIX BINDIR LIBDIR INCLUDEDIR MANDIR LIBEXECDIR  the build's install
#               directories
#   CC          the C compiler command
#   SANITIZE    meson's b_sanitize ('none', 'address,undefined', 'thread')
#   VERSION     the project's version
#
# meson install --no-rebuild only copies files out of the build
# directory, so it is safe while other tests run.  The destination is a
# fresh temporary directory, removed at exit.
# shellcheck disable=SC2153 # BINDIR...: set by meson, checked below
set -u

. "$(dirname "$0")/tap.sh"

# meson test points LD_LIBRARY_PATH at the build's library: only the
# installed copy may be found here.
unset LD_LIBRARY_PATH

for v in MESON BUILD_ROOT PREFIX BINDIR LIBDIR INCLUDEDIR MANDIR LIBEXECDIR \
	 CC SANITIZE VERSION; do
	if [ -z "${!v:-}" ]; then
		echo "Bail out! $v is not set: run me with meson test"
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-install.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
trap 'rm -rf "$tmp"' EXIT
destdir=$tmp/dest

# in_dest DIR - DIR (absolute, or relative to the prefix) inside $destdir
in_dest()
{
	case $1 in
	/*) echo "$destdir$1" ;;
	*) echo "$destdir$PREFIX/$1" ;;
	esac
}

bindir=$(in_dest "$BINDIR")
libdir=$(in_dest "$LIBDIR")
includedir=$(in_dest "$INCLUDEDIR")
mandir=$(in_dest "$MANDIR")
libexecdir=$(in_dest "$LIBEXECDIR")
sover=${VERSION%%.*}

if ! out=$("$MESON" install -C "$BUILD_ROOT" --no-rebuild --quiet \
		--destdir "$destdir" 2>&1); then
	not_ok "meson install --destdir" "$out"
	echo "Bail out! nothing was installed"
	exit 1
fi
ok "meson install --destdir"

# The files, and the versioned shared library's names.
for f in "$includedir/ringcast.h" "$libdir/libringcast.a" \
	 "$libdir/libringcast.so.$VERSION" "$libdir/pkgconfig/ringcast.pc" \
	 "$mandir/man1/ringcast.1" "$mandir/man3/ringcast.3" \
	 "$mandir/man7/ringcast.7" "$mandir/man3/ringcast_strerror.3" \
	 "$mandir/man3/ringcast_errors.3" "$mandir/man3/ringcast_ring.3" \
	 "$mandir/man3/ringcast_pub.3" "$mandir/man3/ringcast_sub.3"; do
	check "installed ${f#"$destdir"}" test -f "$f"
done
check "installed ${bindir#"$destdir"}/ringcast" test -x "$bindir/ringcast"
check "installed ${libexecdir#"$destdir"}/ringcast/ringcast-bench" \
	test -x "$libexecdir/ringcast/ringcast-bench"

check "libringcast.so.$sover -> libringcast.so.$VERSION" \
	test "$(readlink "$libdir/libringcast.so.$sover")" = \
	"libringcast.so.$VERSION"
check "libringcast.so -> libringcast.so.$sover" \
	test "$(readlink "$libdir/libringcast.so")" = "libringcast.so.$sover"
soname=$(objdump -p "$libdir/libringcast.so.$VERSION" 2>&1 |
	 awk '$1 == "SONAME" { print $2 }')
if [ "$soname" = "libringcast.so.$sover" ]; then
	ok "soname is libringcast.so.$sover"
else
	not_ok "soname is libringcast.so.$sover" "found '$soname'"
fi

# Every man3 link (one per function of the header) leads to a page.
links=0 dangling=()
for l in "$mandir"/man3/*.3; do
	[ -L "$l" ] || continue
	links=$((links + 1))
	[ -f "$l" ] || dangling+=("${l##*/} -> $(readlink "$l")")
done
if [ "$links" -gt 0 ] && [ ${#dangling[@]} -eq 0 ]; then
	ok "the $links man3 links lead to installed pages"
else
	not_ok "the man3 links lead to installed pages" \
		"$links links; dangling: ${dangling[*]}"
fi

# pkg-config sees the installed tree first, then the system's .pc files
# (ringcast.pc requires liburcu-bp privately); the sysroot maps the .pc
# file's prefix into it.
sys_pc_path=$(pkg-config --variable pc_path pkg-config)
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig${sys_pc_path:+:$sys_pc_path}
export PKG_CONFIG_PATH=
export PKG_CONFIG_SYSROOT_DIR=$destdir
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
export PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
modversion=$(pkg-config --modversion ringcast 2>&1)
if [ "$modversion" = "$VERSION" ]; then
	ok "pkg-config --modversion ringcast is $VERSION"
else
	not_ok "pkg-config --modversion ringcast is $VERSION" "$modversion"
fi

cat >"$tmp/prog.c" <<'PROG'
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ringcast.h>

int main(void)
{
	const char *s = ringcast_strerror(-EOVERFLOW);

	printf("%s\n%s\n", RINGCAST_VERSION, s);
	return strstr(s, "lapped") ? 0 : 1;
}
PROG

# A sanitizer build's library needs the sanitizer's runtime in the
# program that loads it.
san=()
[ "$SANITIZE" != none ] && san=("-fsanitize=$SANITIZE")

cflags=$(pkg-config --cflags ringcast)
libs=$(pkg-config --libs ringcast)
# shellcheck disable=SC2086 # the flags are words
check "cc prog.c \$(pkg-config --cflags --libs ringcast)" \
	$CC "${san[@]}" -o "$tmp/prog" "$tmp/prog.c" $cflags $libs

expected=$(printf '%s\n%s' "$VERSION" \
	"events were lost: the subscriber was lapped")
libpath=
for w in $(pkg-config --libs-only-L ringcast); do
	libpath=${libpath:+$libpath:}${w#-L}
done
out=$(LD_LIBRARY_PATH=$libpath "$tmp/prog" 2>&1)
if [ "$out" = "$expected" ]; then
	ok "the program runs and calls ringcast_strerror()"
else
	not_ok "the program runs and calls ringcast_strerror()" "$out"
fi

# It loaded the installed library, not some other copy.
loaded=$(LD_LIBRARY_PATH=$libpath ldd "$tmp/prog" 2>&1 |
	 awk '$1 ~ /^libringcast/ { print $3 }')
case $loaded in
"$libdir"/*) ok "it loads the installed libringcast.so.$sover" ;;
*) not_ok "it loads the installed libringcast.so.$sover" "ldd: '$loaded'" ;;
esac

# The static library, with pkg-config --static for its dependencies.
static_libs=$(pkg-config --static --libs ringcast |
	      sed 's/-lringcast\b/-l:libringcast.a/')
# shellcheck disable=SC2086
check "cc prog.c with libringcast.a (pkg-config --static)" \
	$CC "${san[@]}" -o "$tmp/prog-static" "$tmp/prog.c" $cflags \
	$static_libs
out=$("$tmp/prog-static" 2>&1)
if [ "$out" = "$expected" ] &&
   ! ldd "$tmp/prog-static" 2>&1 | grep -q libringcast; then
	ok "the statically linked program runs"
else
	not_ok "the statically linked program runs" "$out"
fi

out=$(LD_LIBRARY_PATH=$libpath "$bindir/ringcast" --version 2>&1)
if [ "$out" = "ringcast $VERSION" ]; then
	ok "installed ringcast --version"
else
	not_ok "installed ringcast --version" "$out"
fi

done_testing
