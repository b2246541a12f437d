#!/usr/bin/env bash
# Build-time behaviour that analysis tests cannot see: errors that must fail the
# build with a message naming the problem and the fix, and version stamping.
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

# The version tag of push_<registry>_tag: from --define, or from a workspace
# status key when stamping.
version_tag() { # bazel flags... -> content of the built tag file
    ./bazelw build //:image_version_tag "$@" >/dev/null 2>&1 || { echo "FAIL: version tag did not build ($*)"; status=1; return; }
    cat bazel-bin/image_version_tag.txt
}
expect_tag() { # expected, flags...
    local want=$1 got
    shift
    got=$(version_tag "$@")
    if [ "$got" = "$want" ]; then echo "PASS: version tag '$got' from $*"; else
        echo "FAIL: version tag '$got', expected '$want' from $*"
        status=1
    fi
}
STATUS_SCRIPT=$(mktemp "$PWD/.status.XXXXXX")
trap 'rm -f "$STATUS_SCRIPT"' EXIT
printf '#!/bin/sh\necho STABLE_VERSION v2.3.4\n' >"$STATUS_SCRIPT"
chmod +x "$STATUS_SCRIPT"
expect_tag v1.0.0 --define=VERSION=v1.0.0
expect_tag v2.3.4 --stamp --workspace_status_command="$STATUS_SCRIPT"
expect_tag "" # neither: empty, and the push target refuses to run (push_test)
exit $status
