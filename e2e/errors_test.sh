#!/usr/bin/env bash
# Build-time errors that analysis tests cannot see: each build must fail, with
# a message that names the problem and the fix.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
status=0
expect_failure() { # target, expected message
    local out
    if out=$(./bazelw build "$1" 2>&1); then
        echo "FAIL: $1 built, but should have failed"
        status=1
    elif grep -qF -- "$2" <<<"$out"; then
        echo "PASS: $1 fails with: $(grep -F -- "$2" <<<"$out" | head -n1)"
    else
        echo "FAIL: $1 failed without the expected message '$2':"
        tail -n 20 <<<"$out"
        status=1
    fi
}
expect_failure //rules/tests:base_mismatch_layers "base of //rules/tests:base_mismatch_layers is arm64 but \`platform\` builds for amd64: use a base image for linux/amd64"
exit $status
