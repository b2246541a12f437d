#!/usr/bin/env bash
# TEST STAND-IN for rules_oci's oci_load runner (v2.2.6 oci/private/load.sh.tpl). Never shipped.
# Writes the tarball at run time (not at build time) and pipes it to the loader.
set -o pipefail -o errexit -o nounset
RUNFILES_DIR=${RUNFILES_DIR:-$0.runfiles}
LOADER="{{loader}}"
if [ -n "$LOADER" ] && [ -f "$RUNFILES_DIR/$LOADER" ]; then
    CONTAINER_CLI="$RUNFILES_DIR/$LOADER"
elif command -v docker &>/dev/null; then
    CONTAINER_CLI="docker"
elif command -v podman &>/dev/null; then
    CONTAINER_CLI="podman"
else
    echo >&2 "Neither docker or podman could be found."
    echo >&2 "To use a different container runtime, pass an executable to the 'loader' attribute of oci_tarball."
    exit 1
fi
"$CONTAINER_CLI" load --input <(
    python3 "$RUNFILES_DIR/{{tarball_py}}" "{{format}}" "$RUNFILES_DIR/{{image}}" "$RUNFILES_DIR/{{tags}}" -
)
