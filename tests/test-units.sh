#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-units.sh - the systemd units (tools/systemd) as installed: meson
# install --destdir into a temporary tree, then `systemd-analyze verify`
# on each installed unit with the tree as its root, so that every
# ExecStart= must name a program installed there.  verify exits 0 on
# what it ignores (an unknown key, a bad value): any line it prints
# fails too.  Last, the installed bridge, run as systemd would run it
# (a $NOTIFY_SOCKET), says READY=1 once connected to a nats-server.
#
# Run by meson test (tests/meson.build sets the environment):
#   MESON       the meson command
#   BUILD_ROOT  the build directory
#   PREFIX BINDIR LIBEXECDIR  the build's install directories
#   UNITDIR     where the units are installed (absolute)
#   BRIDGE      1 where the bridge is built, else 0
#   NOTIFY      notify where built with libsystemd, else exec
# shellcheck disable=SC2153 # PREFIX...: set by meson, checked below
set -u

. "$(dirname "$0")/tap.sh"

for v in MESON BUILD_ROOT PREFIX BINDIR LIBEXECDIR UNITDIR BRIDGE NOTIFY; do
	if [ -z "${!v:-}" ]; then
		echo "Bail out! $v is not set: run me with meson test"
		exit 1
	fi
done
command -v systemd-analyze >/dev/null ||
	skip_all "systemd-analyze is missing (Debian: systemd)"

# The host's units: the targets the installed ones depend on.
host_units=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
for d in "$host_units" /lib/systemd/system /usr/lib/systemd/system; do
	if [ -n "$d" ] && [ -f "$d/sysinit.target" ]; then
		host_units=$d
		break
	fi
done
[ -f "$host_units/sysinit.target" ] ||
	skip_all "no systemd unit directory with sysinit.target"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-units.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
pids=()
cleanup()
{
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
destdir=$tmp/root

# in_dest DIR - DIR (absolute, or relative to the prefix) inside $destdir
in_dest()
{
	case $1 in
	/*) echo "$destdir$1" ;;
	*) echo "$destdir$PREFIX/$1" ;;
	esac
}

unitdir=$(in_dest "$UNITDIR")
libexecdir=$(in_dest "$LIBEXECDIR")

if ! out=$("$MESON" install -C "$BUILD_ROOT" --no-rebuild --quiet \
		--destdir "$destdir" 2>&1); then
	not_ok "meson install --destdir" "$out"
	echo "Bail out! nothing was installed"
	exit 1
fi
ok "meson install --destdir"

# The host's units beside the installed ones (never over them).
mkdir -p "$destdir/usr/lib/systemd/system"
cp -rn "$host_units/." "$destdir/usr/lib/systemd/system/"

# verify_unit NAME FILE [INSTANCE] - verify FILE under the root; print
# what systemd-analyze says, status 1 on an error or any message.
verify_unit()
{
	local file=$2 out rc

	if [ -n "${3:-}" ]; then
		# A template is verified through an instance of it.
		file=${file%@.service}@$3.service
	fi
	out=$(systemd-analyze verify --man=no --root="$destdir" "$file" 2>&1)
	rc=$?
	printf '%s' "$out"
	[ "$rc" -eq 0 ] && [ -z "$out" ]
}

# check_unit NAME [INSTANCE] - installed, and verify says nothing
check_unit()
{
	local u=$1 out

	if [ ! -f "$unitdir/$u" ]; then
		not_ok "$u installed in ${unitdir#"$destdir"}"
		return
	fi
	if out=$(verify_unit "$u" "$unitdir/$u" "${2:-}"); then
		ok "systemd-analyze verify $u"
	else
		not_ok "systemd-analyze verify $u" "$out"
	fi
}

check_unit ringcast-gc.service
check_unit ringcast-gc.timer
if [ "$BRIDGE" = 1 ]; then
	check_unit ringcast-bridge@.service telemetry-out
else
	skip "systemd-analyze verify ringcast-bridge@.service" \
		"the bridge is not built (libnats missing)"
fi
# The exporter's unit comes with the exporter.
if [ -x "$libexecdir/ringcast/ringcast-exporter" ]; then
	check_unit ringcast-exporter.service
elif [ -f "$unitdir/ringcast-exporter.service" ]; then
	not_ok "ringcast-exporter.service installed without the exporter"
else
	skip "systemd-analyze verify ringcast-exporter.service" \
		"the exporter is not built"
fi

# The units that notify are notify units exactly where the programs can.
for u in ringcast-bridge@.service ringcast-exporter.service; do
	[ -f "$unitdir/$u" ] || continue
	type=$(sed -n 's/^Type=//p' "$unitdir/$u")
	if [ "$type" = "$NOTIFY" ]; then
		ok "$u is Type=$NOTIFY"
	else
		not_ok "$u is Type=$NOTIFY" "found Type=$type"
	fi
done

# verify looks into the root: a unit whose program is not installed
# there fails (the check above can fail).
sed 's|^ExecStart=[^ ]*|ExecStart='"$PREFIX"'/no/such/program|' \
	"$unitdir/ringcast-gc.service" >"$unitdir/ringcast-nothere.service"
if out=$(verify_unit x "$unitdir/ringcast-nothere.service"); then
	not_ok "verify fails on a program missing from the root" "$out"
else
	ok "verify fails on a program missing from the root"
fi
rm -f "$unitdir/ringcast-nothere.service"

# The installed bridge tells systemd it is ready: a notify socket of
# our own, a nats-server of our own on a free port.
bridge=$libexecdir/ringcast/ringcast-bridge
if [ "$BRIDGE" != 1 ] || [ "$NOTIFY" != notify ]; then
	skip "the bridge says READY=1" "the bridge or libsystemd is missing"
elif ! command -v nats-server >/dev/null || ! command -v python3 >/dev/null
then
	skip "the bridge says READY=1" "nats-server or python3 is missing"
else
	ring=rc-units-$$
	out=$(timeout 20 python3 - "$bridge" "$ring" "$tmp" <<'PY' 2>&1
import os, socket, subprocess, sys

bridge, ring, tmp = sys.argv[1:4]
path = os.path.join(tmp, "notify")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(15)
# A free port: the kernel's choice, released for the server to take.
p = socket.socket()
p.bind(("127.0.0.1", 0))
port = p.getsockname()[1]
p.close()
nats = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", str(port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
env = dict(os.environ, NOTIFY_SOCKET=path)
b = subprocess.Popen([bridge, "in", ring, "--nats",
                      "nats://127.0.0.1:%d" % port], env=env,
                     stderr=subprocess.DEVNULL)
msgs = []
try:
    msgs.append(s.recv(4096).decode())
    b.terminate()
    msgs.append(s.recv(4096).decode())
finally:
    b.terminate()
    b.wait()
    nats.terminate()
    nats.wait()
print("|".join(msgs))
sys.exit(0 if msgs[0].startswith("READY=1") and msgs[1] == "STOPPING=1"
         and b.returncode == 0 else 1)
PY
)
	rc=$?
	rm -f "/dev/shm/ringcast.$ring" "/dev/shm/ringcast-lock.$ring"
	if [ "$rc" -eq 0 ]; then
		ok "the installed bridge says READY=1, then STOPPING=1"
	else
		not_ok "the installed bridge says READY=1, then STOPPING=1" \
			"$out"
	fi
fi

done_testing
