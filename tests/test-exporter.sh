#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-exporter.sh - ringcast-exporter end to end: its output passes
# `promtool check metrics` for a ring with a reliable, a lossy and a
# demoted subscriber and a NATS bridge out (`ringcast bridge out`, to a
# nats-server started here on a free loopback port), whose count of
# events sent is what was published while it ran; OpenMetrics on
# request; a real Prometheus server,
# started here on loopback with a scrape configuration pointing at the
# exporter (it asks for OpenMetrics), reports through its HTTP API the
# count of events published;
# a port in use is a clear error, exit 1.  Skipped, saying why, where
# the exporter (libmicrohttpd), curl, promtool or prometheus is missing;
# the bridge's part alone where nats-server or the bridge is missing.
#
# Environment: RINGCAST_BIN (the tool), RINGCAST_EXPORTER (the exporter;
# empty when it was not built), RINGCAST_BRIDGE (the NATS bridge, which
# `ringcast bridge` runs; empty when it was not built).
set -u

. "$(dirname "$0")/tap.sh"

tool=${RINGCAST_BIN:-}
exporter=${RINGCAST_EXPORTER:-}
bridge=${RINGCAST_BRIDGE:-}
[ -x "$tool" ] || skip_all "RINGCAST_BIN is not set to the tool"
[ -n "$exporter" ] && [ -x "$exporter" ] ||
	skip_all "ringcast-exporter not built (libmicrohttpd-dev missing)"
command -v curl >/dev/null || skip_all "curl missing"
command -v python3 >/dev/null || skip_all "python3 missing"

ring=t-exporter-$$
bad=t-exporter-bad-$$
late=t-exporter-late-$$
tmp=$(mktemp -d)
pids=()
bridge_pid=
nats_pid=

cleanup()
{
	local p

	exec 3>&- 2>/dev/null
	# The bridge before its server, so that it need not wait to flush.
	if [ -n "$bridge_pid" ]; then
		kill "$bridge_pid" 2>/dev/null
		wait "$bridge_pid" 2>/dev/null
	fi
	if [ -n "$nats_pid" ]; then
		kill "$nats_pid" 2>/dev/null
		wait "$nats_pid" 2>/dev/null
	fi
	rm -rf "$tmp/nats"
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	"$tool" rm --force "$ring" >/dev/null 2>&1
	"$tool" rm --force "$late" >/dev/null 2>&1
	rm -f "/dev/shm/ringcast.$bad" "/dev/shm/ringcast-lock.$bad"
	# Left behind only by a bridge that could not clean up.
	rm -f "/dev/shm/ringcast-bridge.out.$ring"
	rm -rf "$tmp"
}
trap cleanup EXIT

# free_port - a TCP port nobody listens on now, on 127.0.0.1
free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_for DESCRIPTION TRIES CMD... - run CMD every 0.1 s until it succeeds
wait_for()
{
	local what=$1 tries=$2

	shift 2
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	echo "timed out waiting for $what" >&2
	return 1
}

subscribers()
{
	"$tool" stat "$ring" --json | python3 -c \
		'import json, sys; print(json.load(sys.stdin)["subscribers"].__len__())'
}

has_subscribers()
{
	[ "$(subscribers)" = "$1" ]
}

demoted()
{
	"$tool" stat "$ring" --json | grep -q '"mode":"demoted"'
}

# ------------------------------------------------------------------ ring
# A ring of 16 slots, demoting a reliable subscriber stuck for 50 ms:
# a reliable reader stopped by SIGSTOP is demoted once the publisher has
# published a ring ahead of it; a lossy and a reliable one keep reading.
"$tool" create "$ring" --slots 16 --demote-after 0.05 >&2 ||
	skip_all "cannot create a ring"
"$tool" sub "$ring" --reliable >/dev/null 2>&1 &
stuck=$!
pids+=("$stuck")
"$tool" sub "$ring" >/dev/null 2>&1 &
pids+=($!)
"$tool" sub "$ring" --reliable >/dev/null 2>&1 &
pids+=($!)
wait_for "three subscribers" 100 has_subscribers 3
kill -STOP "$stuck"

# The publisher stays attached (its input stays open) while we look.
mkfifo "$tmp/in"
"$tool" pub "$ring" <"$tmp/in" >/dev/null 2>&1 &
pids+=($!)
exec 3>"$tmp/in"
published=100
seq 1 "$published" >&3
wait_for "the demotion" 100 demoted
wait_for "the events" 100 sh -c \
	"'$tool' stat '$ring' | grep -qx 'published: $published'"

# ------------------------------------------------------------------ exporter
port=$(free_port)
"$tool" create "$bad" --slots 16 >&2
"$exporter" --listen "127.0.0.1:$port" "$ring" "$bad" "$late" \
	2>"$tmp/exporter.err" &
exp_pid=$!
pids+=("$exp_pid")
url=http://127.0.0.1:$port/metrics
wait_for "the exporter" 100 curl -sf "$url"

# ------------------------------------------------------------------ bridge
# A NATS bridge out of the ring, through a nats-server of its own on a
# free loopback port, so that its counters are in what promtool checks
# below; it reads from the newest event on, so it sends exactly what is
# published after it is up.

# bridge_metric NAME - the value of NAME{ring="$ring",direction="out"}
bridge_metric()
{
	curl -sf "$url" |
		sed -n "s/^$1{ring=\"$ring\",direction=\"out\"} //p"
}

bridge_connected()
{
	[ "$(bridge_metric ringcast_bridge_up)" = 1 ] &&
		[ "$(bridge_metric ringcast_bridge_connected)" = 1 ]
}

bridge_caught_up()
{
	local sent

	sent=$(bridge_metric ringcast_bridge_sent_total)
	[ -n "$sent" ] && [ "$sent" -ge "$1" ]
}

nats_listening()
{
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$1"
}

bridge_why=
if [ -z "$bridge" ] || [ ! -x "$bridge" ]; then
	bridge_why="ringcast-bridge not built (libnats-dev missing)"
elif ! command -v nats-server >/dev/null; then
	bridge_why="nats-server missing (Debian: nats-server)"
fi
with_bridge=
if [ -n "$bridge_why" ]; then
	skip "a NATS bridge of the ring is exported" "$bridge_why"
	skip "the bridge's events sent are those published" "$bridge_why"
else
	nats_port=$(free_port)
	mkdir "$tmp/nats"
	nats-server -a 127.0.0.1 -p "$nats_port" \
		-P "$tmp/nats/nats.pid" >"$tmp/nats/nats.log" 2>&1 &
	nats_pid=$!
	wait_for "nats-server" 100 nats_listening "$nats_port"
	"$tool" bridge out "$ring" --nats "nats://127.0.0.1:$nats_port" \
		--max-backoff 0.2 2>"$tmp/bridge.err" &
	bridge_pid=$!
	if wait_for "the bridge in the exporter's output" 100 \
		bridge_connected; then
		ok "a NATS bridge of the ring is exported"
		with_bridge=", with a bridge"
		more=50
		seq 1 "$more" >&3
		published=$((published + more))
		wait_for "the bridge's events" 100 bridge_caught_up "$more"
		sent=$(bridge_metric ringcast_bridge_sent_total)
		nread=$(bridge_metric ringcast_bridge_read_total)
		dropped=$(bridge_metric ringcast_bridge_dropped_total)
		if [ "$sent" = "$more" ] && [ "$nread" = "$more" ] &&
			[ "$dropped" = 0 ]; then
			ok "the bridge's events sent are those published"
		else
			not_ok "the bridge's events sent are those published" \
				"published $more; read '$nread'," \
				"sent '$sent', dropped '$dropped'"
		fi
	else
		not_ok "a NATS bridge of the ring is exported" \
			"$(curl -sf "$url" | grep ringcast_bridge)" \
			"$(cat "$tmp/bridge.err" "$tmp/nats/nats.log")"
		skip "the bridge's events sent are those published" \
			"no bridge"
	fi
fi

curl -sf "$url" >"$tmp/metrics.txt"
for mode in reliable lossy demoted; do
	if grep -q "^ringcast_subscriber_lag{ring=\"$ring\",.*mode=\"$mode\"}" \
		"$tmp/metrics.txt"; then
		ok "a $mode subscriber is exported"
	else
		not_ok "a $mode subscriber is exported" \
			"$(grep ringcast_subscriber_lag "$tmp/metrics.txt")"
	fi
done
if grep -qx "ringcast_ring_published_total{ring=\"$ring\"} $published" \
	"$tmp/metrics.txt"; then
	ok "ringcast_ring_published_total is what was published"
else
	not_ok "ringcast_ring_published_total is what was published" \
		"$(grep published "$tmp/metrics.txt")"
fi
# The data area of a ring created with no --data-size: 4 MiB, events up
# to 1 MiB, and what was written into it (a counter).
if grep -qx "ringcast_ring_data_size_bytes{ring=\"$ring\"} 4194304" \
	"$tmp/metrics.txt" &&
	grep -qx "ringcast_ring_max_event_bytes{ring=\"$ring\"} 1048576" \
		"$tmp/metrics.txt" &&
	grep -q "^ringcast_ring_data_written_bytes_total{ring=\"$ring\"} " \
		"$tmp/metrics.txt"; then
	ok "the data area's size, use and largest event are exported"
else
	not_ok "the data area's size, use and largest event are exported" \
		"$(grep -E 'data|max_event' "$tmp/metrics.txt")"
fi
curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' \
	-D "$tmp/om.headers" "$url" >"$tmp/metrics.om"
if grep -qi '^content-type: application/openmetrics-text' \
	"$tmp/om.headers" && [ "$(tail -n 1 "$tmp/metrics.om")" = "# EOF" ]; then
	ok "OpenMetrics on request, ending with # EOF"
else
	not_ok "OpenMetrics on request, ending with # EOF" \
		"$(cat "$tmp/om.headers")" "$(tail -n 2 "$tmp/metrics.om")"
fi

if command -v promtool >/dev/null; then
	# promtool reads the text format only; Prometheus itself asks for
	# OpenMetrics first, so the scrape below parses that.
	check "promtool check metrics passes on the text format$with_bridge" \
		promtool check metrics <"$tmp/metrics.txt"
else
	skip "promtool check metrics" "promtool missing (Debian: prometheus)"
fi

# metric NAME RING - the value of the series NAME{ring="RING"}
metric()
{
	curl -sf "$url" | sed -n "s/^$1{ring=\"$2\"} //p"
}

# A ring corrupted while the exporter keeps it mapped, one that appears
# and vanishes between scrapes.
if [ "$(metric ringcast_ring_corrupted "$bad")" = 0 ] &&
	[ "$(metric ringcast_ring_up "$late")" = 0 ]; then
	ok "a ring mapped is sound, one not there yet is down"
else
	not_ok "a ring mapped is sound, one not there yet is down" \
		"$(grep -E 'ring_(up|corrupted)' "$tmp/metrics.txt")"
fi
printf '\xff' | dd of="/dev/shm/ringcast.$bad" bs=1 seek=100 conv=notrunc \
	status=none
"$tool" create "$late" --slots 16 >&2
c=$(metric ringcast_ring_corrupted "$bad")
u=$(metric ringcast_ring_up "$bad")
l=$(metric ringcast_ring_up "$late")
if [ "$c" = 1 ] && [ "$u" = 0 ] && [ "$l" = 1 ]; then
	ok "a corrupted ring is reported, a new one opened"
else
	not_ok "a corrupted ring is reported, a new one opened" \
		"corrupted $c, up $u, new ring up $l"
fi
"$tool" rm "$late" >&2
l=$(metric ringcast_ring_up "$late")
if [ "$l" = 0 ] && kill -0 "$exp_pid"; then
	ok "a removed ring is down, the exporter runs on"
else
	not_ok "a removed ring is down, the exporter runs on" "up $l"
fi

# ------------------------------------------------------------------ port in use
out=$("$exporter" --listen "127.0.0.1:$port" "$ring" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [[ $out == *"in use"* ]]; then
	ok "a port in use: exit 1 with a message"
else
	not_ok "a port in use: exit 1 with a message" "exit $rc: $out"
fi
out=$("$exporter" --listen "no-such-address:$port" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [[ $out == *"--listen"* ]]; then
	ok "a bad listen address: exit 1 with a message"
else
	not_ok "a bad listen address: exit 1 with a message" "exit $rc: $out"
fi

# ------------------------------------------------------------------ Prometheus
query_value()
{
	curl -sf --get "http://127.0.0.1:$prom_port/api/v1/query" \
		--data-urlencode "query=ringcast_ring_published_total{ring=\"$ring\"}" |
		python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}

scraped()
{
	[ -n "$(query_value)" ]
}

if command -v prometheus >/dev/null; then
	prom_port=$(free_port)
	cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ringcast
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
	prometheus --config.file="$tmp/prometheus.yml" \
		--storage.tsdb.path="$tmp/tsdb" \
		--web.listen-address="127.0.0.1:$prom_port" \
		>"$tmp/prometheus.log" 2>&1 &
	pids+=($!)
	if wait_for "Prometheus's first scrape" 200 scraped; then
		v=$(query_value)
		if [ "$v" = "$published" ]; then
			ok "Prometheus's API reports the events published"
		else
			not_ok "Prometheus's API reports the events published" \
				"got '$v', expected $published"
		fi
	else
		not_ok "Prometheus's API reports the events published" \
			"no scrape; its log:" "$(tail -n 20 "$tmp/prometheus.log")"
	fi
else
	skip "Prometheus's API reports the events published" \
		"prometheus missing (Debian: prometheus)"
fi

done_testing
