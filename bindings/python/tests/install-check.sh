#!/bin/bash
# SPDX-License-Identifier: MIT
#
# install-check.sh - pip install the Python package into a venv against
# an installed libringcast, as a user would: meson install --destdir into
# a temporary tree, pkg-config pointed there, then
#   /usr/bin/python3 -m venv --system-site-packages VENV
#   VENV/bin/pip install --no-index --no-build-isolation bindings/python
# and the installed package publishes and reads an event.  The package is
# copied first: pip's in-tree build writes nothing into the source tree.
#
# Run by meson test (bindings/python/meson.build sets the environment):
#   MESON BUILD_ROOT SOURCE_ROOT PYTHON
set -u

. "$SOURCE_ROOT/tests/tap.sh"

unset LD_LIBRARY_PATH RINGCAST_LIB PYTHONPATH
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-pyinstall.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
name=py-install-$$
trap 'rm -f /dev/shm/ringcast.$name /dev/shm/ringcast-lock.$name; rm -rf "$tmp"' EXIT
dest=$tmp/dest

if ! out=$("$MESON" install -C "$BUILD_ROOT" --no-rebuild --quiet \
		--destdir "$dest" 2>&1); then
	not_ok "meson install --destdir" "$out"
	echo "Bail out! nothing was installed"
	exit 1
fi
ok "meson install --destdir"

pc=$(find "$dest" -name ringcast.pc -print -quit)
sys_pc_path=$(pkg-config --variable pc_path pkg-config)
export PKG_CONFIG_LIBDIR=${pc%/*}${sys_pc_path:+:$sys_pc_path}
export PKG_CONFIG_PATH=
export PKG_CONFIG_SYSROOT_DIR=$dest

cp -r "$SOURCE_ROOT/bindings/python" "$tmp/src"
check "python3 -m venv --system-site-packages" \
	"$PYTHON" -m venv --system-site-packages "$tmp/venv"
check "pip install --no-index --no-build-isolation" \
	"$tmp/venv/bin/pip" install -q --no-index --no-build-isolation \
	"$tmp/src"

cd "$tmp" || exit 1
out=$("$tmp/venv/bin/python" - "$name" "$dest" <<'PY' 2>&1
import sys
import ringcast
name, dest = sys.argv[1], sys.argv[2]
assert ringcast.__file__.startswith(sys.prefix), ringcast.__file__
assert ringcast.library_path().startswith(dest), ringcast.library_path()
ringcast.create(name, exclusive=True)
try:
    sub = ringcast.Subscriber(name, start="oldest")
    with ringcast.Publisher(name) as p:
        p.publish(b"installed", type=1)
    print([(e.data, e.type) for e in sub])
    sub.close()
finally:
    ringcast.remove(name, force=True)
PY
)
if [ "$out" = "[(b'installed', 1)]" ]; then
	ok "the installed package loads the installed library and works"
else
	not_ok "the installed package loads the installed library and works" \
		"$out"
fi

check "nothing left in /dev/shm" test ! -e "/dev/shm/ringcast.$name"
done_testing
