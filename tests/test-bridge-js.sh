#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-bridge-js.sh - the durable bridge (JetStream) under chaos: every
# event of the origin ring reaches the receiving ring's reliable
# subscriber exactly once, in order, while the five processes on the way
# are killed with SIGKILL at random moments and restarted:
#
#   ringcast pub A -> bridge out A --jetstream S --hold forever
#     -> nats-server -js (file storage in a temporary directory)
#     -> bridge in B --durable D --stream S --ack-wait 1
#     -> ringcast sub B --follow --reliable
#
# A sixth process, never killed, records what ring A really got (each
# publisher's lines are its own: "RUN-N"), the truth the other end is
# checked against.  The chaos loop kills each of the five once, then
# at random; victims and moments come from a fixed seed
# (RINGCAST_JS_CHAOS_SEED, default 24).  It runs for
# RINGCAST_JS_CHAOS_SECONDS (default 60, at most 180; 0: no chaos); then
# the publisher's input ends, and everything must arrive within 90 s.
# Before that end, bridge out is killed and stays dead until the
# publisher is held a whole ring past its hold, which outlives it.
#
# Run by meson test (plain build): RINGCAST_BIN, RINGCAST_BRIDGE.  Skips,
# saying why, without nats-server or the bridge.
set -u

. "$(dirname "$0")/tap.sh"

rc=${RINGCAST_BIN:-}
bridge=${RINGCAST_BRIDGE:-}
secs=${RINGCAST_JS_CHAOS_SECONDS:-60}
seed=${RINGCAST_JS_CHAOS_SEED:-24}

[ -n "$rc" ] || skip_all "RINGCAST_BIN is not set: run me with meson test"
[ -n "$bridge" ] ||
	skip_all "ringcast-bridge was not built (libnats-dev is not installed)"
command -v nats-server >/dev/null || skip_all "nats-server is not installed"
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -le 180 ] ||
	skip_all "RINGCAST_JS_CHAOS_SECONDS must be 0 to 180"

a=t-$$-jsa
b=t-$$-jsb
stream=S$$
durable=D$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-js.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
RANDOM=$seed

# The processes, by role: pid and how many times each was killed.
declare -A pid kills
roles=(pub out nats in sub)
gen_pid=
rec_pid=
runs=0
port=

stop_pid()
{
	local p=$1

	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null
	timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

cleanup()
{
	local r

	for r in "${roles[@]}"; do
		stop_pid "${pid[$r]:-}"
	done
	stop_pid "$gen_pid"
	stop_pid "$rec_pid"
	"$rc" rm "$a" >/dev/null 2>&1
	"$rc" rm "$b" >/dev/null 2>&1
	rm -f "/dev/shm/ringcast-bridge.out.$a" "/dev/shm/ringcast-bridge.in.$b" \
		"/dev/shm/ringcast-bridge.durable.$b"
	rm -rf "$tmp"
}
trap cleanup EXIT

# until_ok SECONDS CMD... - run CMD every 50 ms until it succeeds
until_ok()
{
	local end=$((SECONDS + $1))

	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

start_nats()
{
	nats-server -js -sd "$tmp/js" -a 127.0.0.1 -p "$port" \
		>>"$tmp/nats.log" 2>&1 &
	pid[nats]=$!
}

start_out()
{
	"$bridge" out "$a" --nats "nats://127.0.0.1:$port" \
		--jetstream "$stream" --hold forever --from oldest \
		--max-backoff 0.2 2>>"$tmp/out.log" &
	pid[out]=$!
}

start_in()
{
	"$bridge" in "$b" --nats "nats://127.0.0.1:$port" \
		--durable "$durable" --stream "$stream" --ack-wait 1 \
		--slots 65536 --max-backoff 0.2 2>>"$tmp/in.log" &
	pid[in]=$!
}

# The publisher: a generator of lines "RUN-N", paced (about 5000 a
# second), that ends once $tmp/stop exists; ringcast pub reads them
# through a FIFO, so that each is a process of its own.
start_pub()
{
	local fifo=$tmp/fifo.$runs

	runs=$((runs + 1))
	mkfifo "$fifo"
	(
		i=0
		while :; do
			for ((j = 0; j < 50; j++, i++)); do
				echo "$runs-$i" || exit 0
			done
			[ ! -e "$tmp/stop" ] || exit 0
			sleep 0.01
		done
	) >"$fifo" &
	gen_pid=$!
	"$rc" pub "$a" <"$fifo" 2>>"$tmp/pub.log" &
	pid[pub]=$!
}

# The receiving side's subscriber, from the sequence after the last line
# it wrote whole (a SIGKILL may cut the last one).
got_lines()
{
	cat "$tmp"/recv.* 2>/dev/null | grep -a '^{.*}$'
}

start_sub()
{
	local last from=0

	last=$(got_lines | tail -n 1 | sed -n 's/^{"seq":\([0-9]*\),.*/\1/p')
	[ -z "$last" ] || from=$((last + 1))
	"$rc" sub "$b" --follow --reliable --from "$from" --format json \
		>"$tmp/recv.$(printf %05d "$runs")" 2>>"$tmp/sub.log" &
	pid[sub]=$!
	runs=$((runs + 1))
}

kill_role()
{
	local r=$1

	kill -9 "${pid[$r]}" 2>/dev/null
	wait "${pid[$r]}" 2>/dev/null
	if [ "$r" = pub ]; then
		kill -9 "$gen_pid" 2>/dev/null
		wait "$gen_pid" 2>/dev/null
	fi
	kills[$r]=$((${kills[$r]:-0} + 1))
}

# The server on a free port: a few tries.
for try in 1 2 3 4 5; do
	port=$((20000 + (RANDOM + $$) % 40000))
	: >"$tmp/nats.log"
	start_nats
	if until_ok 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"; then
		break
	fi
	stop_pid "${pid[nats]}"
	pid[nats]=
done
if [ -n "${pid[nats]}" ] && grep -q JetStream "$tmp/nats.log"; then
	ok "nats-server with JetStream, file storage in $tmp/js"
else
	not_ok "nats-server with JetStream" "$(cat "$tmp/nats.log")"
	echo "Bail out! no server"
	exit 1
fi

# Small enough that a publisher of 5000 events a second fills it while
# bridge out is dead, as the chaos may leave it for a while.
slots=4096
if ! "$rc" create "$a" --slots "$slots" >"$tmp/err" 2>&1; then
	not_ok "ring A created" "$(cat "$tmp/err")"
	echo "Bail out! no ring"
	exit 1
fi
# The truth: what ring A got, by a reliable subscriber never killed.
"$rc" sub "$a" --follow --reliable --from 0 --format json \
	>"$tmp/origin.json" 2>"$tmp/rec.log" &
rec_pid=$!
start_out
start_in
start_sub
until_ok 30 test -e "/dev/shm/ringcast.$b"
start_pub

# The chaos: each of the five once first, in an order of the seed, then
# at random.
order=("${roles[@]}")
for ((i = 4; i > 0; i--)); do
	j=$((RANDOM % (i + 1)))
	t=${order[i]}
	order[i]=${order[j]}
	order[j]=$t
done
end=$((SECONDS + secs))
rounds=0
while [ "$SECONDS" -lt "$end" ] || [ "$rounds" -lt 5 -a "$secs" -gt 0 ]; do
	sleep "0.$((RANDOM % 9 + 1))"
	if [ "$rounds" -lt 5 ]; then
		r=${order[rounds]}
	else
		r=${roles[RANDOM % 5]}
	fi
	kill_role "$r"
	# Down for a while sometimes (up to 0.5 s): acks time out, the
	# publisher waits for the out bridge, the subscriber falls behind.
	[ $((RANDOM % 2)) -eq 0 ] || sleep "0.$((RANDOM % 5))"
	"start_$r"
	rounds=$((rounds + 1))
done
summary=""
all=1
for r in "${roles[@]}"; do
	summary+=" $r ${kills[$r]:-0}"
	[ "${kills[$r]:-0}" -gt 0 ] || all=0
done
if [ "$secs" -eq 0 ] || [ "$all" = 1 ]; then
	ok "$rounds SIGKILLs in ${secs}s (seed $seed):$summary"
else
	not_ok "each of the five processes was killed" "$summary"
fi

# Bridge out dead for longer than the publisher takes to fill ring A: its
# hold is durable, so the entry stays and the publisher waits a ring past
# it (give or take a batch of 'ringcast pub'); the bridge restarted
# adopts it and sends on from there.
kill_role out
held()
{
	"$rc" stat "$a" | awk -v s="$slots" '
		$3 == "no" && $4 == "durable" && $7 >= s - 64 { f = 1 }
		END { exit !f }'
}
if until_ok 30 held; then
	ok "bridge out dead: its durable hold keeps the publisher a ring behind"
else
	not_ok "bridge out dead: its durable hold keeps the publisher a ring behind" \
		"$("$rc" stat "$a" 2>&1 | tail -4)"
fi
start_out

# The end: the publisher's input ends, it closes ring A; bridge out
# stops once the stream has everything.
: >"$tmp/stop"
if timeout 30 tail --pid="${pid[pub]}" -f /dev/null && wait "${pid[pub]}"; then
	ok "the last publisher published its input and closed ring A"
else
	not_ok "the last publisher published its input and closed ring A" \
		"$(tail -5 "$tmp/pub.log")"
fi
wait "$gen_pid" 2>/dev/null
gen_pid=
timeout 30 tail --pid="$rec_pid" -f /dev/null
wait "$rec_pid"
rec_pid=
if timeout 90 tail --pid="${pid[out]}" -f /dev/null && wait "${pid[out]}"; then
	ok "bridge out: the stream stored everything, exit 0"
else
	not_ok "bridge out: the stream stored everything, exit 0" \
		"$(tail -5 "$tmp/out.log")"
fi
pid[out]=

sed -n 's/^{"seq":[0-9]*,.*"data":"\(.*\)"}$/\1/p' "$tmp/origin.json" \
	>"$tmp/sent.txt"
n=$(wc -l <"$tmp/sent.txt")
have()
{
	[ "$(got_lines | wc -l)" -ge "$n" ]
}
until_ok 90 have
stop_pid "${pid[in]}" # closes ring B: the subscriber ends
pid[in]=
timeout 30 tail --pid="${pid[sub]}" -f /dev/null
wait "${pid[sub]}"
pid[sub]=

got_lines >"$tmp/got.json"
sed -n 's/^{"seq":[0-9]*,.*"data":"\(.*\)"}$/\1/p' "$tmp/got.json" \
	>"$tmp/got.txt"
if [ "$n" -gt 0 ] && cmp -s "$tmp/sent.txt" "$tmp/got.txt"; then
	ok "all $n events of ring A reached ring B's subscriber once, in order"
else
	not_ok "all $n events of ring A reached ring B's subscriber once, in order" \
		"$(diff "$tmp/sent.txt" "$tmp/got.txt" | head -8)
$(diff "$tmp/sent.txt" "$tmp/got.txt" | grep -c '^[<>]') lines differ
in: $(tail -3 "$tmp/in.log")
sub: $(tail -3 "$tmp/sub.log")"
fi
bad=$(awk -F'[:,]' '$2 != NR - 1 { print NR ": " $0; exit }
	END { if (NR != '"$n"') print NR " lines" }' "$tmp/got.json")
if [ -z "$bad" ]; then
	ok "ring B's sequences 0 to $((n - 1)), each once"
else
	not_ok "ring B's sequences 0 to $((n - 1)), each once" "$bad"
fi
loss='gap of \|lost [1-9][0-9]* events'
if ! grep -q "$loss" "$tmp/out.log" "$tmp/in.log" "$tmp/sub.log"; then
	ok "no gap or loss reported on the way"
else
	not_ok "no gap or loss reported on the way" \
		"$(grep -h "$loss" "$tmp/out.log" "$tmp/in.log" "$tmp/sub.log" | head -5)"
fi

stop_pid "${pid[nats]}"
pid[nats]=
"$rc" rm "$a" >/dev/null 2>&1
"$rc" rm "$b" >/dev/null 2>&1
rm -f "/dev/shm/ringcast-bridge.durable.$b"
left=$(ls /dev/shm | grep -F -e "$a" -e "$b")
if [ -z "$left" ]; then
	ok "nothing left in /dev/shm"
else
	not_ok "nothing left in /dev/shm" "$left"
fi

done_testing
