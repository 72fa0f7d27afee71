#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-top.sh - ringcast top in a terminal: a detached tmux session of
# 60x12 runs it on six rings (subscribers stopped at known lags, one
# reliable one holding its publisher back); keys are sent and the pane is
# captured: process names, the off-screen markers, sorting, scrolling, the
# help, the running blocked time, quitting.  Then --json read by python3,
# and a ring that does not exist (exit 1).
#
# Usage: test-top.sh RINGCAST
set -u

. "$(dirname "$0")/tap.sh"

if [ $# -ne 1 ]; then
	echo "Bail out! usage: $0 RINGCAST"
	exit 1
fi
tool=$1
command -v tmux >/dev/null || skip_all "tmux is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"

id="t-top-$$-$RANDOM"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-top.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
sock="$id"
pids=()
rings=()

cleanup()
{
	local p r i

	TMUX_TMPDIR=$tmp timeout 10 tmux -L "$sock" kill-server 2>/dev/null
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	# Bounded: a process that ignores SIGTERM is said and killed, so
	# that the rings are still removed (once a run hung here).
	for p in "${pids[@]}"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$p" 2>/dev/null; then
			echo "# cleanup: pid $p ($(ps -o comm= -p "$p")," \
			     "$(ps -o wchan= -p "$p")) ignored SIGTERM"
			kill -KILL "$p" 2>/dev/null
		fi
		wait "$p" 2>/dev/null
	done
	for r in "${rings[@]}"; do
		timeout 10 "$tool" rm --force "$r" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

tm()
{
	TMUX_TMPDIR=$tmp TERM=xterm tmux -L "$sock" -f /dev/null "$@"
}

# Poll until "$@" succeeds, for 10 s at most.
until_ok()
{
	local i

	for ((i = 0; i < 200; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

pane()
{
	tm capture-pane -p -t top
}

# The pane shows a line matching ERE $1 (within 10 s): ok NAME, or
# not_ok NAME with what it showed.
shows()
{
	local name=$1 re=$2

	if until_ok eval 'pane | grep -Eq -- "$re"'; then
		ok "$name"
	else
		not_ok "$name" "wanted: $re" "$(pane)"
	fi
}

# The pane's line number (1-based) of the first line matching ERE $1.
line_of()
{
	pane | grep -En -- "$1" | head -n 1 | cut -d: -f1
}

# A process named rcwatch (its /proc/PID/comm), whatever the tool's name.
ln -s "$(realpath "$tool")" "$tmp/rcwatch"

# Rings a to f; b: a lossy subscriber 3 behind; d: one 30 behind; f: a
# reliable one that reads nothing, its publisher blocked a ring ahead.
for r in a b c d e f; do
	rings+=("$id-$r")
done
for r in a b c e f; do
	"$tool" create "$id-$r" --slots 16 >/dev/null
done
"$tool" create "$id-d" --slots 64 >/dev/null

has_sub()
{
	"$tool" stat --json "$1" | grep -q '"subscribers":\[{'
}

lag_sub()
{
	local ring=$1 n=$2

	shift 2
	"$tmp/rcwatch" sub "$ring" "$@" >/dev/null 2>&1 &
	pids+=($!)
	until_ok has_sub "$ring" || return 1
	kill -STOP "${pids[-1]}"
	if [ "$n" -gt 0 ]; then
		seq "$n" | "$tool" pub "$ring" >/dev/null
	fi
}

blocked_now()
{
	"$tool" stat "$1" | grep -Eq '^blocked_since_ns: [1-9]'
}

lag_sub "$id-b" 3 || {
	echo "Bail out! no subscriber on $id-b"
	exit 1
}
lag_sub "$id-d" 30
lag_sub "$id-f" 0 --reliable
seq 40 | "$tool" pub "$id-f" >/dev/null 2>&1 &
pids+=($!)
check "the publisher of f blocks" until_ok blocked_now "$id-f"

# The terminal: 60x12, the rings by name.
tm new-session -d -s top -x 60 -y 12 \
	"exec '$tool' top --interval 0.2 ${rings[*]}"
shows "title, sorted by name" "^ringcast top .*6 rings, by name"
shows "the first ring at the top" "^$id-a: created"
shows "the process name of a subscriber" "^ +0 +[0-9]+ rcwatch +lossy"
shows "the off-screen marker below" \
	"^v [0-9]+ more lines below, [1-9] rings? not shown"

# Sorted by lag: d (30), then f (blocked), then b (3).
tm send-keys -t top l
shows "sorted by lag: the title" "by lag"
shows "sorted by lag: d first" "^$id-d: "
d=$(line_of "^$id-d: ")
f=$(line_of "^$id-f: ")
if [ -n "$d" ] && [ -n "$f" ] && [ "$d" -lt "$f" ]; then
	ok "sorted by lag: d above f"
else
	not_ok "sorted by lag: d above f" "$(pane)"
fi
shows "the running blocked time" "BLOCKED [0-9]+\.[0-9] s"

# Scrolling: three lines down, then the bottom, then the top.
tm send-keys -t top j j Down
shows "scrolled: the marker above" "^\^ 3 more lines above, 1 ring$"
tm send-keys -t top End
shows "the bottom: the last ring" "^$id-e: "
if until_ok eval '! pane | grep -q "more lines\? below"'; then
	ok "the bottom: nothing below"
else
	not_ok "the bottom: nothing below" "$(pane)"
fi
tm send-keys -t top g
shows "the top again" "^$id-d: "

# The help, and back.
tm send-keys -t top '?'
shows "? shows the help" "^Keys of ringcast top"
shows "the help lists the sort keys" "sort by name, lag, rate, loss"
tm send-keys -t top '?'
shows "? again: back to the rings" "^$id-d: "

tm send-keys -t top q
if until_ok eval '! tm has-session -t top'; then
	ok "q quits"
else
	not_ok "q quits" "$(pane)"
fi

# For scripts: one JSON document per snapshot.
"$tool" top --iterations 2 --interval 0.05 --json --sort lag \
	"${rings[@]}" >"$tmp/top.json" 2>"$tmp/top.err"
check "--json exits 0" test $? -eq 0
check "--json: two documents, sorted by lag" python3 - "$id" \
	"$tmp/top.json" <<'PY'
import json, sys

pfx, path = sys.argv[1], sys.argv[2]
docs = [json.loads(line) for line in open(path)]
assert len(docs) == 2, len(docs)
for n, doc in enumerate(docs):
    assert doc["sort"] == "lag", doc["sort"]
    names = [r["name"][len(pfx) + 1:] for r in doc["rings"]]
    assert names == ["d", "f", "b", "a", "c", "e"], names
    rings = {r["name"][len(pfx) + 1:]: r for r in doc["rings"]}
    assert rings["b"]["max_lag"] == 3, rings["b"]
    sub = rings["b"]["subscribers"][0]
    assert sub["comm"] == "rcwatch" and sub["mode"] == "lossy", sub
    assert sub["lag"] == 3, sub
    for r in doc["rings"]:
        # Created with the default data area: its size and largest event.
        assert r["data_size"] == 4194304 and r["max_event"] == 1048576, r
        assert r["data_written"] == 0, r
        assert (r["data_rate"] is None) == (n == 0), r
    f = rings["f"]
    assert f["blocked_since_ns"] > 0 and f["blocked_for_ns"] > 0, f
    assert f["subscribers"][0]["mode"] == "reliable", f
    # Rates need two snapshots.
    if n == 0:
        assert rings["d"]["rate"] is None, rings["d"]
    else:
        assert rings["d"]["rate"] == 0, rings["d"]
PY

# A ring that does not exist: exit 1, saying which.
"$tool" top --iterations 1 "$id-nosuch" >/dev/null 2>"$tmp/err"
check "top NOSUCHRING exits 1" test $? -eq 1
check "top NOSUCHRING names it" grep -q -- "$id-nosuch" "$tmp/err"

done_testing
