#!/usr/bin/env bash
# TEST STAND-IN for rules_oci's oci_load: convert with skopeo, pipe to a loader. Never shipped.
set -euo pipefail
RUNFILES=${RUNFILES_DIR:-$0.runfiles}
IMAGE="$RUNFILES/{{image}}"
mapfile -t TAGS < <(grep -v '^$' "$RUNFILES/{{tags_file}}")
LOADER="{{loader}}"
[ -n "$LOADER" ] && LOADER="$RUNFILES/$LOADER"
if [ -z "$LOADER" ]; then
    for l in docker podman nerdctl; do command -v "$l" >/dev/null && { LOADER=$l; break; }; done
fi
[ -n "$LOADER" ] || { echo "error: no docker, podman or nerdctl on PATH; set 'loader'" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
skopeo copy -q "oci:$IMAGE" "docker-archive:$TMP/image.tar:${TAGS[0]}" \
    $(for t in "${TAGS[@]:1}"; do printf -- '--additional-tag %s ' "$t"; done)
"$LOADER" load -i "$TMP/image.tar"
