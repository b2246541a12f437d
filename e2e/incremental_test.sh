#!/usr/bin/env bash
# Incremental rebuilds: after an edit, only the layer that holds the edited
# file is written again. Checked from Bazel's own execution log.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
WORK=$(mktemp -d "$REPO/.incremental.XXXXXX")
restore=()
cleanup() {
    local f
    for f in ${restore[@]+"${restore[@]}"}; do cp "$WORK/${f//\//_}" "$f"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

layers_rerun() { # target -> names of the layer blobs written by the build
    ./bazelw build "$1" --execution_log_json_file="$WORK/exec.json" >"$WORK/build.log" 2>&1 ||
        { cat "$WORK/build.log"; exit 1; }
    jq -rs '[.[] | select(.mnemonic == "PyImageLayer" and .remoteCacheHit != true)
             | .actualOutputs[].path | select(test("\\.tar(\\.gz|\\.zst)?$")) | split("/")[-1]]
            | sort | join(" ")' "$WORK/exec.json"
}

check() { # target, file to edit, text to append, expected rebuilt layers
    local target=$1 file=$2 text=$3 want=$4 got
    ./bazelw build "$target" >/dev/null 2>&1
    cp "$file" "$WORK/${file//\//_}"
    restore+=("$file")
    printf '%s %s\n' "$text" "$(date +%s%N)" >>"$file"
    got=$(layers_rerun "$target")
    printf '%-34s %-36s -> re-run: %s\n' "$target" "edit $file" "${got:-none}"
    [ "$got" = "$want" ] || { echo "FAIL: expected only '$want' to be written again"; exit 1; }
}

check //:image examples/flask_app/app.py "# edited" "app.tar.gz"
check //examples/ca_service:image examples/ca_service/service.py "# edited" "app.tar.gz"
check //examples/ca_service:image examples/ca_service/internal_ca.pem "# rotated" "ca_layer.tar.gz"
echo "PASS: each edit re-runs only the layer that holds the edited file"
