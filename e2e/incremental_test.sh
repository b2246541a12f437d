#!/usr/bin/env bash
# Incremental rebuilds: after an edit, only the layer that holds the edited
# file is written again. Checked from Bazel's own execution log.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
# shellcheck source=e2e/testbed/common.sh
. "$REPO/e2e/testbed/common.sh"
WORK=$(mktemp -d "$REPO/.incremental.XXXXXX")
restore=()
cleanup() {
    local f
    for f in ${restore[@]+"${restore[@]}"}; do cp "$WORK/${f//\//_}" "$f"; done
    [ -f "$WORK/registry.pid" ] && testbed_exec "kill $(cat "$WORK/registry.pid")" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

layers_rerun() { # target -> names of the layer blobs written by the build
    ./bazelw build "$1" --execution_log_json_file="$WORK/exec.json" >"$WORK/build.log" 2>&1 ||
        { cat "$WORK/build.log"; exit 1; }
    jq -rs '[.[] | select(.mnemonic == "PyImageLayer" and .cacheHit != true)
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

# A real registry, to see what a push after an app edit uploads.
PORT=$(free_port)
printf 'version: 0.1\nlog: {level: info}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$WORK/registry" "$PORT" >"$WORK/registry.yml"
testbed_exec "docker-registry serve $WORK/registry.yml >$WORK/registry.log 2>&1 & echo \$! > $WORK/registry.pid"
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
push() { ./bazelw run //:push_dockerhub_latest -- --repository "127.0.0.1:$PORT/incremental/app" >"$WORK/push.log" 2>&1 ||
    { cat "$WORK/push.log"; exit 1; }; }
uploads() { grep -c 'PUT /v2/incremental/app/blobs/uploads/' "$WORK/registry.log" || true; }

push
before=$(uploads)
[ "$before" -ge 5 ] || { echo "FAIL: the first push should upload every layer and the config, log shows $before"; exit 1; }
check //:image examples/flask_app/app.py "# edited" "app.tar.gz"
push
after=$(uploads)
echo "blobs uploaded (registry log): first push $before, push after the app edit $((after - before))"
[ $((after - before)) = 2 ] || { echo "FAIL: expected 2 uploads (app layer + config), got $((after - before))"; exit 1; }
check //examples/ca_service:image examples/ca_service/service.py "# edited" "app.tar.gz"
check //examples/ca_service:image examples/ca_service/internal_ca.pem "# rotated" "ca_layer.tar.gz"
echo "PASS: each edit re-runs only the layer that holds the edited file"
