#!/usr/bin/env bash
# Incremental rebuilds: after an edit to one app source file, only the app
# layer's action runs again. Checked from Bazel's own execution log.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
SRC=examples/flask_app/app.py
LOG_DIR=$(mktemp -d "$REPO/.incremental.XXXXXX")
cp "$SRC" "$LOG_DIR/app.py.orig"
trap 'cp "$LOG_DIR/app.py.orig" "$SRC"; rm -rf "$LOG_DIR"' EXIT

./bazelw build //:image >/dev/null 2>&1 || { ./bazelw build //:image; exit 1; }
printf '\n# edited by e2e/incremental_test.sh at %s\n' "$(date +%s%N)" >>"$SRC"
./bazelw build //:image --execution_log_json_file="$LOG_DIR/exec.json" >/dev/null 2>&1

layers=$(python3 - "$LOG_DIR/exec.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec, pos, ran = json.JSONDecoder(), 0, []
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    spawn, pos = dec.raw_decode(text, pos)
    if spawn.get("mnemonic") == "PyImageLayer" and not spawn.get("cacheHit"):
        ran += [o["path"].rsplit("/", 1)[-1] for o in spawn.get("actualOutputs", []) if o["path"].endswith((".tar.gz", ".tar", ".tar.zst"))]
print(" ".join(sorted(ran)))
PY
)
echo "layer actions re-run after editing $SRC: ${layers:-none}"
[ "$layers" = "app.tar.gz" ] || { echo "FAIL: expected only app.tar.gz to be rebuilt"; exit 1; }
echo "PASS: an app edit re-runs only the app layer action"
