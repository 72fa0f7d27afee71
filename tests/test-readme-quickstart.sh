#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-readme-quickstart.sh - the README's quick start runs as written.
#
# Usage: test-readme-quickstart.sh README.md RINGCAST
#
# A fenced shell block right after the line '<!-- test: quick-start -->'
# is run, in the order of the file, by bash -e -o pipefail in a scratch
# directory, with RINGCAST on the path as 'ringcast'.  Its rings are the
# words X, Y and Z: each is replaced by a name of this run's own, so the
# rings are fresh and no other ring is touched.  A fenced block right
# after '<!-- test: output -->' is what the block before it writes on
# standard output (compared line by line, sorted: background subscribers
# may print in either order).
#
# Each block must end its background processes itself (wait): whatever
# is left of its process group when it returns is a failure, and killed.
# Whatever happens, the run's rings are removed at exit.  The shell blocks
# left unmarked (commands a test cannot run, such as the test command or
# meson install) are listed as TAP comments.
set -u

. "$(dirname "$0")/tap.sh"

readme=$1
ringcast=$2
block_timeout=60

if [ ! -x "$ringcast" ]; then
	echo "Bail out! '$ringcast' is not an executable"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-quickstart.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
prefix=readme-$$-$RANDOM-
group=

cleanup()
{
	local r

	if [ -n "$group" ]; then
		kill -KILL -- "-$group" 2>/dev/null
	fi
	for r in X Y Z; do
		"$ringcast" rm --force "$prefix$r" >/dev/null 2>&1
	done
	rm -f /dev/shm/ringcast."$prefix"* /dev/shm/ringcast-lock."$prefix"*
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$tmp/bin" "$tmp/work" "$tmp/blocks"
ln -s "$(readlink -f "$ringcast")" "$tmp/bin/ringcast"

# Split the README into its fenced blocks: blocks/N holds block N's text,
# kind[N] is quick-start, output or empty, lang[N] its info string and
# line[N] the line of its opening fence.
kind=()
lang=()
line=()
n=0
mark=
inside=false
lineno=0
while IFS= read -r l; do
	lineno=$((lineno + 1))
	if $inside; then
		if [ "$l" = '```' ]; then
			inside=false
		else
			printf '%s\n' "$l" >>"$tmp/blocks/$n"
		fi
		continue
	fi
	case $l in
	'<!-- test: quick-start -->') mark=quick-start ;;
	'<!-- test: output -->') mark=output ;;
	'```'*)
		n=$((n + 1))
		kind[n]=$mark
		lang[n]=${l#'```'}
		line[n]=$lineno
		: >"$tmp/blocks/$n"
		mark=
		inside=true
		;;
	*) mark= ;; # a mark is for the fence on the next line only
	esac
done <"$readme"

# The unmarked shell blocks, for whoever reads the log.
for ((i = 1; i <= n; i++)); do
	case ${lang[i]} in
	sh | bash | shell) ;;
	*) continue ;;
	esac
	if [ -z "${kind[i]}" ]; then
		echo "# not run: the shell block at $readme:${line[i]}:" \
			"$(head -n 1 "$tmp/blocks/$i")"
	fi
done

# run_block I - run block I; its output in $tmp/out, $tmp/err
run_block()
{
	local script rc

	script=$(sed -E "s/\\<([XYZ])\\>/$prefix\\1/g" "$tmp/blocks/$1")
	(cd "$tmp/work" &&
		PATH=$tmp/bin:$PATH exec timeout -k 5 "$block_timeout" \
			bash -e -o pipefail -c "$script") \
		>"$tmp/out" 2>"$tmp/err" &
	group=$!
	wait "$group"
	rc=$?
	return $rc
}

runs=0
for ((i = 1; i <= n; i++)); do
	[ "${kind[i]}" = quick-start ] || continue
	runs=$((runs + 1))
	where="$readme:${line[i]}"
	if run_block "$i"; then
		ok "quick-start block at $where runs"
	else
		rc=$?
		not_ok "quick-start block at $where runs" "exit status $rc" \
			"$(cat "$tmp/blocks/$i")" "stdout:" "$(cat "$tmp/out")" \
			"stderr:" "$(cat "$tmp/err")"
	fi
	# timeout leads the block's process group: nothing may outlive it.
	if kill -0 -- "-$group" 2>/dev/null; then
		not_ok "quick-start block at $where leaves no process behind" \
			"$(pgrep -a -g "$group")"
		kill -KILL -- "-$group" 2>/dev/null
	else
		ok "quick-start block at $where leaves no process behind"
	fi
	group=
	cat "$tmp/err" >&2
	if [ $((i + 1)) -le "$n" ] && [ "${kind[i + 1]}" = output ]; then
		if out=$(diff -u <(sort "$tmp/blocks/$((i + 1))") \
			<(sort "$tmp/out")); then
			ok "quick-start block at $where prints what README shows"
		else
			not_ok "quick-start block at $where prints what README shows" \
				"$out"
		fi
	fi
done
if [ "$runs" -eq 0 ]; then
	not_ok "$readme has quick-start blocks" "no '<!-- test: quick-start -->'"
fi
for ((i = 1; i <= n; i++)); do
	if [ "${kind[i]}" = output ] &&
		{ [ "$i" -eq 1 ] || [ "${kind[i - 1]}" != quick-start ]; }; then
		not_ok "output block at $readme:${line[i]} follows a quick-start block"
	fi
done

# The blocks clean up after themselves, as a reader's would.
left=$(cd /dev/shm && ls -d ./*"$prefix"* 2>/dev/null)
if [ -z "$left" ]; then
	ok "the quick start leaves no ring behind"
else
	not_ok "the quick start leaves no ring behind" "$left"
fi
done_testing
