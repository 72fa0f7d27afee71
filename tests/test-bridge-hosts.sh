#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-bridge-hosts.sh - the NATS bridge between two "hosts" on one
# machine: two network namespaces joined by a veth pair, and for the
# second one a private /dev/shm (a mount namespace with its own tmpfs),
# since network namespaces alone still share the rings.  Both hosts use
# the same ring name: each has its own.
#
#   host A (10.77.0.1): nats-server, the ring, ringcast pub, bridge out
#   host B (10.77.0.2): bridge in, ringcast sub, in /dev/shm of its own
#
# Run by meson test: RINGCAST_BIN is the tool, RINGCAST_BRIDGE the bridge.
# Skips, saying why, without root, ip, unshare, nats-server or the bridge.
set -u

. "$(dirname "$0")/tap.sh"

rc=${RINGCAST_BIN:-}
bridge=${RINGCAST_BRIDGE:-}
n=2000

[ -n "$rc" ] || skip_all "RINGCAST_BIN is not set: run me with meson test"
[ -n "$bridge" ] ||
	skip_all "ringcast-bridge was not built (libnats-dev is not installed)"
command -v nats-server >/dev/null || skip_all "nats-server is not installed"
[ "$(id -u)" -eq 0 ] || skip_all "not root: namespaces need CAP_SYS_ADMIN"
command -v ip >/dev/null || skip_all "ip (iproute2) is not installed"
command -v unshare >/dev/null || skip_all "unshare is not installed"

tag=rcb$$
ns_a=${tag}a
ns_b=${tag}b
name=t-$$-hosts
dname=t-$$-hostsd
url=nats://10.77.0.1:4222
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-hosts.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
pids=()

cleanup()
{
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	"$rc" rm "$name" >/dev/null 2>&1
	"$rc" rm "$dname" >/dev/null 2>&1
	rm -f "/dev/shm/ringcast-bridge.out.$name" \
		"/dev/shm/ringcast-bridge.in.$name" \
		"/dev/shm/ringcast-bridge.out.$dname"
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

if ! ip netns add "$ns_a" 2>"$tmp/err" || ! ip netns add "$ns_b" 2>>"$tmp/err"; then
	skip_all "cannot make network namespaces here: $(head -1 "$tmp/err")"
fi
if ! unshare -m true 2>"$tmp/err"; then
	skip_all "cannot make mount namespaces here: $(head -1 "$tmp/err")"
fi

# The wire.
if ip link add "$ns_a" type veth peer name "$ns_b" &&
	ip link set "$ns_a" netns "$ns_a" &&
	ip link set "$ns_b" netns "$ns_b" &&
	ip -n "$ns_a" addr add 10.77.0.1/24 dev "$ns_a" &&
	ip -n "$ns_b" addr add 10.77.0.2/24 dev "$ns_b" &&
	ip -n "$ns_a" link set "$ns_a" up && ip -n "$ns_a" link set lo up &&
	ip -n "$ns_b" link set "$ns_b" up && ip -n "$ns_b" link set lo up; then
	ok "two network namespaces over a veth pair"
else
	not_ok "two network namespaces over a veth pair"
	echo "Bail out! no network"
	exit 1
fi

# Host A: the server, the ring and its bridge out.
ip netns exec "$ns_a" nats-server -a 10.77.0.1 -p 4222 -js -sd "$tmp/js" \
	>"$tmp/nats.log" 2>&1 &
pids+=($!)
if until_ok 30 ip netns exec "$ns_b" bash -c 'exec 3<>/dev/tcp/10.77.0.1/4222'; then
	ok "host B reaches nats-server on host A"
else
	not_ok "host B reaches nats-server on host A" "$(cat "$tmp/nats.log")"
	echo "Bail out! no server"
	exit 1
fi

# Host B, in its own /dev/shm: bridge in, then a subscriber of the ring.
cat >"$tmp/host-b.sh" <<EOF
set -u
mount -t tmpfs -o size=64m,mode=1777 tmpfs /dev/shm || exit 3
[ ! -e /dev/shm/ringcast.$name ] || exit 4
"$bridge" in "$name" --nats "$url" --host hostB 2>"$tmp/in.log" &
b=\$!
end=\$((SECONDS + 30))
until "$bridge" stat "$name" 2>/dev/null | grep -qx 'ready 1'; do
	[ "\$SECONDS" -lt "\$end" ] || { kill \$b; exit 5; }
	sleep 0.05
done
: >"$tmp/b-ready"
"$rc" sub "$name" --from oldest --count $n --format json --timeout 30 \
	>"$tmp/got.json" 2>"$tmp/sub.log"
st=\$?
until grep -qx 'published $n' <("$bridge" stat "$name" 2>/dev/null); do
	[ "\$SECONDS" -lt "\$end" ] || break
	sleep 0.05
done
"$bridge" stat "$name" >"$tmp/stat-b"
kill \$b
wait \$b
echo \$? >"$tmp/b-status"
exit \$st
EOF
ip netns exec "$ns_b" unshare -m bash "$tmp/host-b.sh" &
host_b=$!
pids+=($host_b)

if until_ok 30 test -e "$tmp/b-ready"; then
	ok "bridge in ready on host B, whose /dev/shm is its own"
else
	not_ok "bridge in ready on host B" "$(cat "$tmp/in.log" 2>/dev/null)"
	echo "Bail out! no bridge in"
	exit 1
fi

"$rc" create "$name" >/dev/null
ip netns exec "$ns_a" "$bridge" out "$name" --nats "$url" --host hostA \
	2>"$tmp/out.log" &
out=$!
pids+=($out)
until_ok 30 grep -qx 'connected 1' "/dev/shm/ringcast-bridge.out.$name"

for ((i = 0; i < n; i++)); do
	echo "$((i % 3)) event $i on host A"
done >"$tmp/sent.txt"
if ip netns exec "$ns_a" "$rc" pub "$name" --typed --wait-subscribers 1 \
	--timeout 30 <"$tmp/sent.txt" 2>"$tmp/pub.log"; then
	ok "published $n events on host A"
else
	not_ok "published $n events on host A" "$(cat "$tmp/pub.log")"
fi

if timeout 60 tail --pid="$host_b" -f /dev/null && wait "$host_b"; then
	ok "host B's subscriber read $n events"
else
	not_ok "host B's subscriber read $n events" \
		"$(cat "$tmp/sub.log" "$tmp/in.log" 2>/dev/null)"
fi

sed 's/^{"seq":[0-9]*,"type":\([0-9]*\),.*"data":"\(.*\)"}$/\1 \2/' \
	"$tmp/got.json" >"$tmp/got.txt"
if cmp -s "$tmp/sent.txt" "$tmp/got.txt"; then
	ok "every event in order, with its type and bytes"
else
	not_ok "every event in order, with its type and bytes" \
		"$(diff "$tmp/sent.txt" "$tmp/got.txt" | head -5)"
fi

if grep -qx "published $n" "$tmp/stat-b" && grep -qx 'lost 0' "$tmp/stat-b" &&
	[ "$(cat "$tmp/b-status" 2>/dev/null)" = 0 ]; then
	ok "bridge in on host B: $n published, none lost, exit 0"
else
	not_ok "bridge in on host B: $n published, none lost, exit 0" \
		"$(cat "$tmp/stat-b" "$tmp/in.log" 2>/dev/null)"
fi

# The publisher closed the ring: bridge out flushes and exits 0.
if timeout 30 tail --pid="$out" -f /dev/null && wait "$out"; then
	ok "bridge out on host A exits 0 at the end of stream"
else
	not_ok "bridge out on host A exits 0 at the end of stream" \
		"$(cat "$tmp/out.log")"
fi

# Host A's ring is the only one here: host B's went with its tmpfs.
info=$("$rc" stat "$name" --json 2>&1)
if grep -q "\"head\": *$n\b" <<<"$info" &&
	grep -q '"state": *"closed"' <<<"$info"; then
	ok "host A's ring in /dev/shm: $n events, closed"
else
	not_ok "host A's ring in /dev/shm: $n events, closed" "$info"
fi

# The durable mode: host A's events go into stream S$$ while host B has
# no bridge; the out bridge exits 0 once the stream stored them all.
"$rc" create "$dname" >/dev/null
ip netns exec "$ns_a" "$bridge" out "$dname" --nats "$url" --host hostA \
	--jetstream "S$$" --hold forever --from oldest 2>"$tmp/js-out.log" &
jsout=$!
pids+=($jsout)
until_ok 30 grep -qx 'synced 1' "/dev/shm/ringcast-bridge.out.$dname"
if ip netns exec "$ns_a" "$rc" pub "$dname" --typed <"$tmp/sent.txt" \
	2>"$tmp/js-pub.log" &&
	timeout 60 tail --pid="$jsout" -f /dev/null && wait "$jsout"; then
	ok "durable: $n events into stream S$$ on host A, all acknowledged"
else
	not_ok "durable: $n events into stream S$$ on host A, all acknowledged" \
		"$(cat "$tmp/js-pub.log" "$tmp/js-out.log")"
fi

# Host B, a /dev/shm of its own again: only now a bridge, durable.
cat >"$tmp/host-b-js.sh" <<EOF
set -u
mount -t tmpfs -o size=64m,mode=1777 tmpfs /dev/shm || exit 3
"$bridge" in "$dname" --nats "$url" --host hostB --durable D$$ \\
	--stream "S$$" 2>"$tmp/js-in.log" &
b=\$!
"$rc" sub "$dname" --wait --from oldest --count $n --format json \\
	--timeout 30 >"$tmp/got-js.json" 2>"$tmp/js-sub.log"
st=\$?
end=\$((SECONDS + 30))
until grep -qx 'published $n' <("$bridge" stat "$dname" 2>/dev/null); do
	[ "\$SECONDS" -lt "\$end" ] || break
	sleep 0.05
done
"$bridge" stat "$dname" >"$tmp/stat-js"
kill \$b
wait \$b
echo \$? >"$tmp/js-b-status"
exit \$st
EOF
ip netns exec "$ns_b" unshare -m bash "$tmp/host-b-js.sh" &
host_b=$!
pids+=($host_b)
if timeout 60 tail --pid="$host_b" -f /dev/null && wait "$host_b"; then
	ok "durable: host B's subscriber read $n events from the stream"
else
	not_ok "durable: host B's subscriber read $n events from the stream" \
		"$(cat "$tmp/js-sub.log" "$tmp/js-in.log" 2>/dev/null)"
fi
sed 's/^{"seq":[0-9]*,"type":\([0-9]*\),.*"data":"\(.*\)"}$/\1 \2/' \
	"$tmp/got-js.json" >"$tmp/got-js.txt"
if cmp -s "$tmp/sent.txt" "$tmp/got-js.txt" &&
	grep -qx "published $n" "$tmp/stat-js" &&
	grep -qx 'duplicates 0' "$tmp/stat-js" &&
	grep -qx 'lost 0' "$tmp/stat-js" &&
	[ "$(cat "$tmp/js-b-status" 2>/dev/null)" = 0 ]; then
	ok "durable: every event in order, with its type and bytes, once"
else
	not_ok "durable: every event in order, with its type and bytes, once" \
		"$(diff "$tmp/sent.txt" "$tmp/got-js.txt" | head -5)
$(cat "$tmp/stat-js" "$tmp/js-in.log" 2>/dev/null)"
fi

"$rc" rm "$name" >/dev/null 2>&1
"$rc" rm "$dname" >/dev/null 2>&1
left=$(ls /dev/shm | grep -F -e "$name" -e "$dname")

if [ -z "$left" ]; then
	ok "nothing left in /dev/shm"
else
	not_ok "nothing left in /dev/shm" "$left"
fi

done_testing
