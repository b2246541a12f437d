#!/usr/bin/env bash
# An example image runs: unpack it with umoci, start it with runc, ask the
# service over loopback, check the answer. Also checks the layer structure with
# skopeo and GNU tar rather than with rules_pyimage's own code.
#
#   run_image.sh IMAGE_LAYOUT EXPECTED_LAYER_COUNT OUR_LAYERS EXPECTED_TEXT...
# OUR_LAYERS names the top layers, e.g. "python,deps,app" or "deps,app" when
# the base provides Python; every EXPECTED_TEXT must appear in the service's
# answer to GET /.
set -euo pipefail
IMAGE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
WANT_LAYERS=$2
IFS=, read -r -a OURS <<<"$3"
shift 3
WORK=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }

skopeo copy -q "oci:$IMAGE" "oci:$WORK/layout:test"
inspect=$(skopeo inspect "oci:$WORK/layout:test")
layers=$(jq '.Layers | length' <<<"$inspect")
[ "$layers" = "$WANT_LAYERS" ] || fail "expected $WANT_LAYERS layers, got $layers"

# No file may appear in two of our layers; _repo_mapping must be in the app layer.
blobs=$(jq -r --argjson n "${#OURS[@]}" '.Layers[-$n:][]' <<<"$inspect")
: >"$WORK/all.txt"
i=0
for digest in $blobs; do
    tar -tzf "$IMAGE/blobs/sha256/${digest#sha256:}" | grep -v '/$' | sort >"$WORK/${OURS[$i]}.txt"
    cat "$WORK/${OURS[$i]}.txt" >>"$WORK/all.txt"
    i=$((i + 1))
done
dups=$(sort "$WORK/all.txt" | uniq -d | head -5)
[ -z "$dups" ] || fail "files in more than one layer: $dups"
grep -q '\.runfiles/_repo_mapping$' "$WORK/app.txt" || fail "_repo_mapping missing from the app layer"
# EXPECT_IN_DEPS: a file the deps layer must hold (default: Flask's).
deps_marker=${EXPECT_IN_DEPS:-site-packages/flask/__init__.py}
grep -q "$deps_marker\$" "$WORK/deps.txt" || fail "$deps_marker missing from the deps layer"
if [ -f "$WORK/python.txt" ]; then
    grep -q '/bin/python3$' "$WORK/python.txt" || fail "interpreter missing from the python layer"
else
    ! grep -q '/bin/python3$' "$WORK/all.txt" || fail "an interpreter was layered although the base provides one"
fi
! grep -q '__pycache__' "$WORK/all.txt" || fail "__pycache__ left in a layer"

umoci unpack --image "$WORK/layout:test" "$WORK/bundle" >/dev/null
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Share the host's network namespace so the test reaches the service on loopback.
jq --arg port "PORT=$PORT" '
    .process.terminal = false
    | .process.env += [$port, "HOST=127.0.0.1"]
    | .linux.namespaces |= map(select(.type != "network"))
' "$WORK/bundle/config.json" >"$WORK/config.json"
mv "$WORK/config.json" "$WORK/bundle/config.json"
if [ -f "$WORK/python.txt" ]; then
    [ ! -e "$WORK/bundle/rootfs/usr/bin/python3" ] || fail "the base must not have python3; the image brings its own"
fi

id="pyimage-test-$$"
runc run -d -b "$WORK/bundle" "$id" >"$WORK/container.log" 2>&1 </dev/null || { cat "$WORK/container.log"; fail "runc run failed"; }
trap 'runc kill "$id" KILL 2>/dev/null; sleep 0.5; runc delete -f "$id" 2>/dev/null' EXIT
# ANSWER_TIMEOUT: seconds to wait for the first answer (torch takes a while to import).
for _ in $(seq 1 $((${ANSWER_TIMEOUT:-20} * 5))); do
    if answer=$(curl -fsS "http://127.0.0.1:$PORT/" 2>/dev/null); then break; fi
    sleep 0.2
done
[ -n "${answer:-}" ] || { cat "$WORK/container.log"; fail "no answer on port $PORT"; }
echo "answer: $answer"
for text in "$@"; do
    grep -qF -- "$text" <<<"$answer" || fail "'$text' not in the answer"
done
echo "PASS: image runs under runc and answers on loopback"
