#!/usr/bin/env bash
# TEST STAND-IN for rules_oci's oci_push: push an OCI layout with crane. Never shipped.
# Usage: bazel run :push [-- --repository REPO] [--tag TAG ...]
# Credentials come from the docker config (~/.docker/config.json, $DOCKER_CONFIG);
# nothing here prints them.
set -euo pipefail
RUNFILES=${RUNFILES_DIR:-$0.runfiles}
IMAGE="$RUNFILES/{{image}}"
REPOSITORY="{{repository}}"
REPOSITORY_FILE="{{repository_file}}"
TAGS_FILE="{{tags_file}}"
[ -n "$REPOSITORY_FILE" ] && REPOSITORY=$(tr -d '\n' <"$RUNFILES/$REPOSITORY_FILE")
TAGS=()
[ -n "$TAGS_FILE" ] && mapfile -t TAGS < <(grep -v '^$' "$RUNFILES/$TAGS_FILE")
while [ $# -gt 0 ]; do
    case "$1" in
    -r | --repository) REPOSITORY=$2; shift 2 ;;
    --repository=*) REPOSITORY=${1#*=}; shift ;;
    -t | --tag) TAGS+=("$2"); shift 2 ;;
    --tag=*) TAGS+=("${1#*=}"); shift ;;
    *) echo "error: unknown argument $1 (expected --repository or --tag)" >&2; exit 1 ;;
    esac
done
[ -n "$REPOSITORY" ] || { echo "error: no repository: set 'repository' or pass --repository" >&2; exit 1; }
FLAGS=()
case "$REPOSITORY" in localhost[:/]* | 127.0.0.1[:/]*) FLAGS+=(--insecure) ;; esac
DIGEST=$(crane push ${FLAGS[@]+"${FLAGS[@]}"} "$IMAGE" "$REPOSITORY") ||
    { echo "error: pushing to $REPOSITORY failed (see crane's message above)" >&2; exit 1; }
echo "pushed $DIGEST"
for tag in ${TAGS[@]+"${TAGS[@]}"}; do
    crane tag ${FLAGS[@]+"${FLAGS[@]}"} "$DIGEST" "$tag" >/dev/null
    echo "tagged $REPOSITORY:$tag"
done
