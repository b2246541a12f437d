#!/usr/bin/env bash
# An image's entrypoint + cmd runs to completion under runc and prints the
# expected text. Unpacked with umoci, not with rules_pyimage's code.
#
#   run_command.sh IMAGE_LAYOUT EXPECTED_TEXT
set -euo pipefail
IMAGE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
WANT=$2
WORK=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }

skopeo copy -q "oci:$IMAGE" "oci:$WORK/layout:test"
umoci unpack --image "$WORK/layout:test" "$WORK/bundle" >/dev/null
jq '.process.terminal = false' "$WORK/bundle/config.json" >"$WORK/config.json"
mv "$WORK/config.json" "$WORK/bundle/config.json"
echo "running: $(jq -c '.process.args' "$WORK/bundle/config.json")"
status=0
output=$(runc run -b "$WORK/bundle" "pyimage-cmd-$$" 2>&1 </dev/null) || status=$?
echo "$output"
[ "$status" = 0 ] || fail "the container exited with $status"
grep -qF -- "$WANT" <<<"$output" || fail "'$WANT' not in the output"
echo "PASS: the image's command runs under runc"
