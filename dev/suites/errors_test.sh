#!/usr/bin/env bash
# Build-time behaviour that analysis tests cannot see: errors that must fail the
# build with a message naming the problem and the fix, and version stamping.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
status=0
expect_failure() { # target, expected message, bazel flags...
    local out
    if out=$(./bazelw build "$1" "${@:3}" 2>&1); then
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
expect_failure //rules/tests:repository_from_define "--define=PYIMAGE_TEST_REPOSITORY=registry.example.com/app:v1: give a repository such as registry.example.com:5000/team/app, without a tag or digest" \
    --define=PYIMAGE_TEST_REPOSITORY=registry.example.com/app:v1

# The macros' own checks fail while the BUILD file loads, so each case is a
# package of its own, written here and removed on exit.
MACRO_PKG=.errors_macro
trap 'rm -rf "$MACRO_PKG"' EXIT
expect_macro_failure() { # BUILD file body, expected message
    rm -rf "$MACRO_PKG" && mkdir -p "$MACRO_PKG"
    printf 'load("//rules:defs.bzl", "py_image", "py_image_index")\n%s\n' "$1" >"$MACRO_PKG/BUILD.bazel"
    expect_failure "//$MACRO_PKG:all" "$2"
}
expect_macro_failure 'py_image_index(name = "index", binary = "//examples/flask_app:app", platforms = {})' \
    "py_image_index index: \`platforms\` is empty; give a dict of platform -> base image"
expect_macro_failure 'py_image_index(name = "index", binary = "//examples/flask_app:app", platforms = {"//platforms:linux_amd64": None}, base = "//examples/base:debian")' \
    "py_image_index index: \`base\` is not an argument here; give each platform's base as \`platforms = {platform: base}\`"
expect_macro_failure 'py_image_index(name = "index", binary = "//examples/flask_app:app", platforms = {"//platforms:linux_amd64": None, "//rules/tests:linux_amd64": None})' \
    "py_image_index index: platforms "
expect_macro_failure 'py_image(name = "image", binary = "//examples/flask_app:app", registries = {"hub": "docker.io/acme/app"}, registry_defines = {"hub": "REGISTRY"})' \
    "image: registry 'hub' is in both \`registries\` and \`registry_defines\`; give one of them another name"

expect_failure //rules/tests:deep_base_layers "//rules/tests:deep_base_layers would have 128 layers, 125 of its base and 3 on top, and Docker and containerd refuse images of more than 127 layers"
expect_failure //rules/tests:base_mismatch_layers "base of //rules/tests:base_mismatch_layers is arm64 but \`platform\` builds for amd64: use a base image for linux/amd64"

# The stock-Bazel path: without the test bed's flag the examples' base is the
# image MODULE.bazel pulls by digest, which the offline stand-in refuses to fetch.
expect_failure //:image "would pull docker.io/library/debian@sha256:" --@rules_pyimage//dev/testbed:rootfs_base=false
# examples/base_python's base, whose Python runs the app: python:3.14-slim-trixie by digest.
expect_failure //examples/base_python:image "would pull docker.io/library/python@sha256:" --@rules_pyimage//dev/testbed:rootfs_base=false
# No digest of nvidia/cuda is recorded anywhere we trust: asking for the CUDA base
# fails with how to pin one, instead of pulling a tag.
expect_failure //examples/pytorch:base "//examples/pytorch:cuda_base_unpinned: no digest of nvidia/cuda is pinned in this repository. Get the one of the tag you mean, once: \`crane digest --platform linux/amd64 docker.io/nvidia/cuda:" \
    --//examples/pytorch:cuda_base
# A consumer's module graph: rules_pyimage (not the root there, so only its
# non-dev part) uses no test-bed extension and pulls no image.
if graph=$(cd e2e/smoke_testbed && ../../bazelw mod graph --extension_info=usages --output=json 2>/dev/null); then
    if python3 -c '
import json, sys
node = next(n for n in json.load(sys.stdin)["dependencies"] if n["name"] == "rules_pyimage")
used = [u["key"] for u in node["extensionUsages"]]
bad = [u for u in used if "/dev/testbed" in u or u.endswith("oci:extensions.bzl%oci")]
print("rules_pyimage uses", ", ".join(used))
sys.exit(1 if bad or not used else 0)' <<<"$graph"; then
        echo "PASS: rules_pyimage's non-dev part loads no test-bed extension and pulls no image"
    else
        echo "FAIL: rules_pyimage's non-dev part uses a test-bed extension or oci.pull"
        status=1
    fi
else
    echo "FAIL: bazel mod graph failed in e2e/smoke_testbed"
    status=1
fi

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
trap 'rm -rf "$STATUS_SCRIPT" "$MACRO_PKG"' EXIT
printf '#!/bin/sh\necho STABLE_VERSION v2.3.4\n' >"$STATUS_SCRIPT"
chmod +x "$STATUS_SCRIPT"
expect_tag v1.0.0 --define=VERSION=v1.0.0
expect_tag v2.3.4 --stamp --workspace_status_command="$STATUS_SCRIPT"
expect_tag "" # neither: empty, and the push target refuses to run (push_test)
# A version that is not an OCI tag fails the build, from either source.
expect_failure //:image_version_tag '--define=VERSION=v1 beta: "v1 beta" is not an OCI tag' "--define=VERSION=v1 beta"
printf '#!/bin/sh\necho STABLE_VERSION v2+build\n' >"$STATUS_SCRIPT"
expect_failure //:image_version_tag 'the value of STABLE_VERSION, "v2+build", is not an OCI tag' --stamp --workspace_status_command="$STATUS_SCRIPT"
exit $status
