#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-cli-dir.sh - rings outside /dev/shm, as issue 20 asks ("Done
# when"): with the ring directory set to a temporary directory on disk
# (RINGCAST_DIR, under the build tree), create, pub, sub, stat, ls, top,
# gc and rm work, and nothing of this test's rings appears in /dev/shm.
#
# 1. RINGCAST_DIR: create; 1000 lines through pub, read back by sub;
#    a reliable sub beside a pub --wait-subscribers 1; stat, ls, ls
#    --json, top --json; the objects are in the directory.
# 2. The same ring through --dir (before the command and among its
#    options) and as DIR/NAME without RINGCAST_DIR.
# 3. A publisher killed with SIGKILL: the ring on disk is found
#    abandoned and still readable (as after a reboot); gc removes it and
#    keeps the closed ring; rm removes that one.
# 4. Unsafe directories are refused, saying why: writable by others
#    without the sticky bit, a symbolic link.
# 5. hugetlbfs, where a mount with free huge pages exists (else skipped,
#    saying why): a ring made, written, read and removed there.
# 6. rm removes a durable bridge's state file beside the ring.
# /dev/shm is listed (this test's names only) before, while the rings
# exist, and at the end: the listings must be empty.
#
# Environment: RINGCAST_BIN (the tool), RINGCAST_TEST_DIR (where to make
# the temporary directory: a disk, not a tmpfs, when it can be).
set -u

. "$(dirname "$0")/tap.sh"

tool=${RINGCAST_BIN:-}
[ -x "$tool" ] || skip_all "RINGCAST_BIN is not set to the tool"

id="t-dir-$$-$RANDOM"
base=${RINGCAST_TEST_DIR:-${TMPDIR:-/tmp}}
tmp=$(mktemp -d "$base/ringcast-dir.XXXXXX") || {
	echo "Bail out! mktemp in $base failed"
	exit 1
}
chmod 700 "$tmp"
dir=$tmp/rings
mkdir -m 700 "$dir"
pids=()
huge=

cleanup()
{
	local p

	exec 3>&- 2>/dev/null
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
	[ -n "$huge" ] && rm -rf "$huge"
	# What a broken tool would have left there: this test's names only.
	find /dev/shm -maxdepth 1 -name "*$id*" -delete 2>/dev/null
}
trap cleanup EXIT

echo "# ring directory $dir on $(stat -f -c %T "$dir" 2>/dev/null)"

# This test's objects in /dev/shm: rings, lock objects, bridge status.
shm_mine()
{
	find /dev/shm -maxdepth 1 -name "*$id*" -printf '%f\n' 2>/dev/null |
		sort
}

# Wait up to 20 s until CMD... succeeds.
wait_until()
{
	local i

	for ((i = 0; i < 2000; i++)); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}

# The stat field $2 of ring $1 in the ring directory.
field()
{
	"$tool" stat "$1" 2>/dev/null | sed -n "s/^$2: //p"
}

field_is()
{
	[ "$(field "$1" "$2")" = "$3" ]
}

before=$(shm_mine)
check "nothing of this test in /dev/shm before" test -z "$before"

export RINGCAST_DIR=$dir
a=$id-a
b=$id-b
c=$id-c

# ---------------------------------------------------------------- 1
check "create in RINGCAST_DIR" "$tool" create "$a" --slots 64
check "the ring's objects are in the directory" \
	test -f "$dir/ringcast.$a" -a -f "$dir/ringcast-lock.$a"
seq 1 1000 >"$tmp/lines"
if "$tool" pub "$a" --slots 64 <"$tmp/lines" 2>"$tmp/err"; then
	ok "pub 1000 lines"
else
	not_ok "pub 1000 lines" "$(cat "$tmp/err")"
fi
"$tool" sub "$a" --from oldest --count 64 >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && seq 937 1000 | cmp -s - "$tmp/out"; then
	ok "sub reads what the ring retains"
else
	not_ok "sub reads what the ring retains" "$(head -3 "$tmp/out")" \
		"$(cat "$tmp/err")"
fi

"$tool" sub "$b" --wait --reliable >"$tmp/out-b" 2>"$tmp/err-b" &
sub_pid=$!
pids+=("$sub_pid")
if "$tool" pub "$b" --wait-subscribers 1 <"$tmp/lines" 2>"$tmp/err"; then
	ok "pub --wait-subscribers 1 into a ring in the directory"
else
	not_ok "pub --wait-subscribers 1 into a ring in the directory" \
		"$(cat "$tmp/err")"
fi
wait "$sub_pid"
st=$?
if [ $st -eq 0 ] && cmp -s "$tmp/lines" "$tmp/out-b"; then
	ok "a reliable sub gets every line"
else
	not_ok "a reliable sub gets every line" "status $st" \
		"$(cat "$tmp/err-b")"
fi

check "stat: closed, head 1000" field_is "$a" head 1000
check "stat: state closed" field_is "$a" state closed
"$tool" ls >"$tmp/ls" 2>&1
if printf '%s\n%s\n' "$a" "$b" | cmp -s - "$tmp/ls"; then
	ok "ls lists the directory's rings"
else
	not_ok "ls lists the directory's rings" "$(cat "$tmp/ls")"
fi
if "$tool" ls --json | grep -q "\"name\":\"$a\",\"state\":\"closed\""; then
	ok "ls --json"
else
	not_ok "ls --json" "$("$tool" ls --json 2>&1 | head -c 300)"
fi
if "$tool" top --json --iterations 1 "$a" 2>&1 | grep -q "\"$a\""; then
	ok "top --json shows the ring"
else
	not_ok "top --json shows the ring" \
		"$("$tool" top --json --iterations 1 "$a" 2>&1 | head -c 300)"
fi
during=$(shm_mine)
check "nothing in /dev/shm while the rings exist" test -z "$during"
check "no ring of that name in /dev/shm" \
	test ! -e "/dev/shm/ringcast.$a" -a ! -e "/dev/shm/ringcast-lock.$a"

# ---------------------------------------------------------------- 2
unset RINGCAST_DIR
if "$tool" stat "$a" >/dev/null 2>&1; then
	not_ok "without the directory, no such ring"
else
	ok "without the directory, no such ring"
fi
check "--dir DIR before the command" "$tool" --dir "$dir" stat "$a"
check "--dir=DIR before the command" "$tool" --dir="$dir" stat "$a"
check "--dir DIR among the options" "$tool" stat "$a" --dir "$dir"
check "DIR/NAME" "$tool" stat "$dir/$a"
check "ls --dir" sh -c "'$tool' ls --dir '$dir' | grep -qx '$a'"
export RINGCAST_DIR=$dir

# ---------------------------------------------------------------- 3
mkfifo "$tmp/fifo"
"$tool" pub "$c" --slots 64 <"$tmp/fifo" 2>/dev/null &
pub_pid=$!
pids+=("$pub_pid")
exec 3>"$tmp/fifo"
printf 'one\ntwo\nthree\n' >&3
if wait_until field_is "$c" head 3; then
	ok "a live publisher in the directory"
else
	not_ok "a live publisher in the directory" "$("$tool" stat "$c" 2>&1)"
fi
if "$tool" gc --dry-run | grep -q "$c"; then
	not_ok "gc keeps a live ring"
else
	ok "gc keeps a live ring"
fi
kill -9 "$pub_pid"
wait "$pub_pid" 2>/dev/null
exec 3>&-
check "the killed publisher's ring is abandoned" \
	wait_until field_is "$c" state abandoned
"$tool" sub "$c" --from oldest >"$tmp/out-c" 2>"$tmp/err-c"
st=$?
if [ $st -eq 1 ] && printf 'one\ntwo\nthree\n' | cmp -s - "$tmp/out-c"; then
	ok "an abandoned ring on disk is readable"
else
	not_ok "an abandoned ring on disk is readable" "status $st" \
		"$(cat "$tmp/out-c" "$tmp/err-c")"
fi
"$tool" gc >"$tmp/gc" 2>&1
if grep -q "^removed $c " "$tmp/gc" && ! grep -q "$a" "$tmp/gc" &&
	test ! -e "$dir/ringcast.$c" -a ! -e "$dir/ringcast-lock.$c" &&
	test -e "$dir/ringcast.$a"; then
	ok "gc removes the abandoned ring, keeps the closed ones"
else
	not_ok "gc removes the abandoned ring, keeps the closed ones" \
		"$(cat "$tmp/gc")"
fi
check "rm" "$tool" rm "$a"
check "rm --dir" "$tool" rm --dir "$dir" "$b"
check "rm removes the objects" \
	test ! -e "$dir/ringcast.$a" -a ! -e "$dir/ringcast-lock.$a"
if [ -z "$(ls -A "$dir")" ]; then
	ok "the directory is empty again"
else
	not_ok "the directory is empty again" "$(ls -A "$dir")"
fi

# ---------------------------------------------------------------- 4
chmod 777 "$dir"
"$tool" create "$a" >/dev/null 2>"$tmp/err"
st=$?
if [ $st -eq 1 ] && grep -q "sticky" "$tmp/err" && [ -z "$(ls -A "$dir")" ]; then
	ok "a world-writable directory without the sticky bit is refused"
else
	not_ok "a world-writable directory without the sticky bit is refused" \
		"status $st" "$(cat "$tmp/err")"
fi
"$tool" ls >/dev/null 2>"$tmp/err"
st=$?
if [ $st -eq 1 ] && grep -q "sticky" "$tmp/err"; then
	ok "ls refuses it too"
else
	not_ok "ls refuses it too" "status $st" "$(cat "$tmp/err")"
fi
chmod 1777 "$dir"
check "with the sticky bit it is used" "$tool" create "$a"
check "and rm" "$tool" rm "$a"
chmod 700 "$dir"
ln -s "$dir" "$tmp/link"
"$tool" --dir "$tmp/link" create "$a" >/dev/null 2>"$tmp/err"
st=$?
if [ $st -eq 1 ] && grep -q "symbolic link" "$tmp/err"; then
	ok "a link as the directory is refused"
else
	not_ok "a link as the directory is refused" "status $st" \
		"$(cat "$tmp/err")"
fi

# ---------------------------------------------------------------- 5
hugemnt=$(awk '$3 == "hugetlbfs" { print $2; exit }' /proc/mounts)
hugefree=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
if [ -z "$hugemnt" ]; then
	skip "hugetlbfs" "no hugetlbfs mount"
elif [ "${hugefree:-0}" -lt 1 ]; then
	skip "hugetlbfs" "no free huge pages (HugePages_Free 0)"
elif ! huge=$(mktemp -d "$hugemnt/ringcast-dir.XXXXXX" 2>/dev/null); then
	huge=
	skip "hugetlbfs" "cannot make a directory in $hugemnt"
else
	chmod 700 "$huge"
	if "$tool" --dir "$huge" create "$a" --slots 64 --data-size 0 \
		2>"$tmp/err" &&
		seq 1 10 | "$tool" --dir "$huge" pub "$a" 2>>"$tmp/err" &&
		"$tool" --dir "$huge" sub "$a" --from oldest >"$tmp/out" \
			2>>"$tmp/err" &&
		seq 1 10 | cmp -s - "$tmp/out" &&
		"$tool" --dir "$huge" rm "$a" 2>>"$tmp/err"; then
		ok "hugetlbfs: create, pub, sub, rm"
	else
		not_ok "hugetlbfs: create, pub, sub, rm" "$(cat "$tmp/err")"
	fi
fi

# 6. rm takes a durable bridge's state beside the ring with it, in the
#    directory and in /dev/shm.
r=$id-state
"$tool" --dir "$dir" create "$r" --slots 64 >/dev/null 2>&1
: >"$dir/ringcast-bridge.durable.$r"
"$tool" --dir "$dir" rm "$r" 2>"$tmp/err"
check "rm removes the bridge state beside a ring in the directory" \
	test ! -e "$dir/ringcast-bridge.durable.$r" -a ! -e "$dir/ringcast.$r"
env -u RINGCAST_DIR "$tool" create "$r" --slots 64 >/dev/null 2>&1
: >"/dev/shm/ringcast-bridge.durable.$r"
env -u RINGCAST_DIR "$tool" rm "$r" 2>"$tmp/err"
check "rm removes the bridge state beside a ring in /dev/shm" \
	test ! -e "/dev/shm/ringcast-bridge.durable.$r" -a \
	! -e "/dev/shm/ringcast.$r"

after=$(shm_mine)
check "nothing of this test in /dev/shm after" test -z "$after"
check "/dev/shm the same before and after" test "$before" = "$after"

done_testing
