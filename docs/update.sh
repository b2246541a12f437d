#!/usr/bin/env bash
# Copy freshly generated docs over docs/*.md (run with `bazel run //docs:update`).
set -euo pipefail
for generated in "$@"; do
    name=$(basename "$generated" .md.generated)
    cp "$generated" "$BUILD_WORKSPACE_DIRECTORY/docs/$name.md"
    chmod 644 "$BUILD_WORKSPACE_DIRECTORY/docs/$name.md"
    echo "updated docs/$name.md"
done
