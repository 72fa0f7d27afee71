#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-build-defaults.sh - warnings are errors in the test command's trees,
# never in meson.build's defaults: packagers build with their own flags
# (and gcc at -O3 finds warnings that -O2 does not).
#
# Usage: test-build-defaults.sh SOURCE-ROOT
set -u

. "$(dirname "$0")/tap.sh"

if [ $# -ne 1 ]; then
	echo "Bail out! usage: $0 SOURCE-ROOT"
	exit 1
fi
src=$1


werror=$(cd "$src" && meson introspect --buildoptions meson.build |
	python3 -c 'import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == "werror"])')
if [ "$werror" = "[False]" ]; then
	ok "meson.build leaves werror off by default"
else
	not_ok "meson.build leaves werror off by default" "werror: $werror"
fi

# Every tree tools/test.sh sets up gets -Dwerror=true.
kinds=$(grep -c '^		setup_opts=(' "$src/tools/test.sh")
with=$(grep -c '^		setup_opts=(-Dwerror=true' "$src/tools/test.sh")
if [ "$kinds" -gt 0 ] && [ "$kinds" = "$with" ]; then
	ok "tools/test.sh passes -Dwerror=true to all $kinds trees"
else
	not_ok "tools/test.sh passes -Dwerror=true to every tree" \
		"$with of $kinds setups"
fi
done_testing
