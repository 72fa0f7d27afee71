#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-readme-pubsub.sh - the README's smallest subscriber and publisher
# (examples/subscriber.c, examples/publisher.c) run as it shows them: the
# subscriber started first, in the background, gets the publisher's three
# events and ends at the end of the stream; started after the stream
# ended, another one reads the same events.
#
# Usage: test-readme-pubsub.sh PUBLISHER SUBSCRIBER
set -u

. "$(dirname "$0")/tap.sh"

publisher=$1
subscriber=$2
ring=readme-pubsub-$$-$RANDOM
expect=$'0: hello\n1: from\n2: ringcast'
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-pubsub.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
sub_pid=

cleanup()
{
	if [ -n "$sub_pid" ]; then
		kill -KILL "$sub_pid" 2>/dev/null
		wait "$sub_pid" 2>/dev/null
	fi
	rm -f "/dev/shm/ringcast.$ring" "/dev/shm/ringcast-lock.$ring"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The subscriber waits for ever: the publisher's close ends it, and a
# timeout ends a subscriber that the close did not reach.
timeout 60 "$subscriber" "$ring" >"$tmp/first" 2>"$tmp/first.err" &
sub_pid=$!
check "the publisher publishes and closes" "$publisher" "$ring"
wait "$sub_pid"
rc=$?
sub_pid=
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/first")" = "$expect" ]; then
	ok "a subscriber started first gets every event, then the end"
else
	not_ok "a subscriber started first gets every event, then the end" \
		"exit status $rc" "$(cat "$tmp/first" "$tmp/first.err")"
fi
if out=$(timeout 60 "$subscriber" "$ring" 2>&1) && [ "$out" = "$expect" ]; then
	ok "a subscriber started after the end reads what is retained"
else
	not_ok "a subscriber started after the end reads what is retained" "$out"
fi
if out=$("$publisher" "$ring" 2>&1); then
	not_ok "a second publisher is refused: the ring is closed" "$out"
else
	ok "a second publisher is refused: the ring is closed"
fi
done_testing
