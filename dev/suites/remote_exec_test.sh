#!/usr/bin/env bash
# Remote execution on a real engine (dev/remote_exec/engine.sh: BuildGrid with
# PostgreSQL, one buildbox worker that sees neither the clients' checkouts nor
# Bazel's output root), all on loopback inside the test bed:
#   1. a clone builds //:image locally (the reference digest);
#   2. a second clone at another path builds it with --config=remote-exec:
#      Bazel's execution log (read with Python's json) shows every layer action
#      and the image step executed by the engine, no remote action names the
#      client's paths, and the digest equals the local one;
#   3. build without the bytes: the image of step 2 is pushed to a
#      docker-registry; a third, clean clone (its own output base) edits the app,
#      builds with --config=bwob (--remote_download_minimal) and runs the push
#      target. Bytes read from the CAS come from Bazel's own gRPC log
#      (dev/remote_exec/cas_traffic.py), bytes sent to the registry from the
#      registry's request log and its storage; the registry then holds the
#      edited image by digest.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"
# shellcheck source=dev/suites/lib.sh
. "$REPO/dev/suites/lib.sh"
# shellcheck source=dev/remote_exec/engine.sh
. "$REPO/dev/remote_exec/engine.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
# A build that waits on an engine that died would wait for ever.
BUILD_TIMEOUT=${PYIMAGE_REX_BUILD_TIMEOUT:-2400}

nice -n 19 "$REPO/dev/remote_exec/provision.sh"

mkdir -p "$TESTBED_CACHE/tmp"
WORK=$(mktemp -d "$TESTBED_CACHE/tmp/rex.XXXXXX")
CLIENTS=(local client bwob)
cleanup() {
    stop_engine "$WORK/engine"
    stop_registry "$WORK"
    local c base
    for c in "${CLIENTS[@]}"; do
        # the clones' output bases go with them: nothing reuses them
        [ -d "$WORK/$c" ] || continue
        base=$(cd "$WORK/$c" && ./bazelw info output_base 2>/dev/null) || base=
        (cd "$WORK/$c" && ./bazelw shutdown >/dev/null 2>&1) || true
        case "$base" in "$TESTBED_CACHE"/bazel/?*) chmod -R u+w "$base" 2>/dev/null; rm -rf "$base" ;; esac
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Clones of the committed tree, each at a path of its own (so an output base of its own).
for c in "${CLIENTS[@]}"; do git clone -q "$REPO" "$WORK/$c"; done
digest() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$1/bazel-bin/image/index.json"; }
bazel_in() { # clone, log file, bazel args...
    local clone=$1 log=$2
    shift 2
    (cd "$WORK/$clone" && timeout "$BUILD_TIMEOUT" nice -n 19 ./bazelw "$@") >"$log" 2>&1 || {
        tail -n 40 "$log"
        echo "worker log:" && tail -n 15 "$WORK/engine/logs/worker.log" 2>/dev/null | cut -c1-400
        fail "bazel $* in the $clone clone (exit status above; a 124 means it ran $BUILD_TIMEOUT s)"
    }
    grep -E '^INFO: ([0-9]+ processes|Elapsed time)' "$log" | sed "s/^/  [$clone] /"
}

start_engine "$WORK/engine" "${CLIENTS[@]/#/$WORK/}" "$REPO" || fail "the engine did not start"
REX=(--config=remote-exec "--remote_executor=grpc://127.0.0.1:$ENGINE_PORT")

echo "== local clone: //:image built here (the reference)"
bazel_in local "$WORK/local.log" build //:image
want=$(digest "$WORK/local")

echo "== remote clone: //:image with --config=remote-exec"
start=$SECONDS
bazel_in client "$WORK/client.log" build //:image "${REX[@]}" --execution_log_json_file="$WORK/client.exec.json"
echo "  remote build: $((SECONDS - start)) s wall"
client_base=$(cd "$WORK/client" && ./bazelw info output_base 2>/dev/null)
python3 "$REPO/dev/remote_exec/check_exec_log.py" "$WORK/client.exec.json" \
    --remote PyImageLayer=3 --remote OCIImage=1 \
    --forbid-path "$WORK/client" --forbid-path "$client_base" --forbid-path "$REPO" ||
    fail "the layer actions and the image step must all run on the engine, naming no path of the client"
got=$(digest "$WORK/client")
echo "  digest, local build:  $want"
echo "  digest, remote build: $got"
digest_differs=
if [ "$got" != "$want" ]; then
    # Name what differs: the config, and each layer's entries as Python's tarfile reads them.
    python3 "$REPO/dev/remote_exec/diff_layouts.py" "$WORK/local/bazel-bin/image" "$WORK/client/bazel-bin/image" || true
    echo "FAIL (at the end): the image built on the engine differs from the local one (differences above: local first, remote second); measuring build without the bytes anyway" >&2
    digest_differs=1
fi
# The worker's own count: buildbox-run-hosttools' exit for each action it ran.
ran=$(grep -c 'Runner exited with code 0' "$WORK/engine/logs/worker.log" || true)
echo "  worker log: $ran actions run to exit code 0"
[ "$ran" -ge 4 ] || fail "the worker's log shows $ran actions run; BuildGrid may have run them elsewhere"

echo "== the remote build's image into a docker-registry"
start_registry "$WORK" || fail "docker-registry did not start"
REF="127.0.0.1:$REGISTRY_PORT/rex/app"
bazel_in client "$WORK/push1.log" run //:push_dockerhub_latest "${REX[@]}" -- --repository "$REF"
uploads_before=$(grep -c '"PUT /v2/rex/app/blobs/uploads/' "$WORK/registry.log" || true)

echo "== bwob clone: app edit, --config=bwob build and push, nothing local"
printf '# edited for the remote-execution suite %s\n' "$(date +%s%N)" >>"$WORK/bwob/examples/flask_app/app.py"
log_from=$(wc -l <"$WORK/registry.log")
bazel_in bwob "$WORK/bwob.log" build //:image --config=bwob "--remote_executor=grpc://127.0.0.1:$ENGINE_PORT" \
    --execution_log_json_file="$WORK/bwob.exec.json" --experimental_remote_grpc_log="$WORK/bwob.build.grpc"
python3 "$REPO/dev/remote_exec/check_exec_log.py" "$WORK/bwob.exec.json" \
    --remote PyImageLayer=1 --remote OCIImage=1 --runner remote --runner "remote cache hit" ||
    fail "the bwob client's layer actions and image step must come from the engine"
bwob_base=$(cd "$WORK/bwob" && ./bazelw info output_base 2>/dev/null)
bazel_in bwob "$WORK/bwob.push.log" run //:push_dockerhub_latest --config=bwob "--remote_executor=grpc://127.0.0.1:$ENGINE_PORT" \
    --experimental_remote_grpc_log="$WORK/bwob.push.grpc" -- --repository "$REF"
python3 "$REPO/dev/remote_exec/cas_traffic.py" --json "$WORK/bwob.build.grpc" >"$WORK/bwob.build.traffic.json"
python3 "$REPO/dev/remote_exec/cas_traffic.py" --json "$WORK/bwob.push.grpc" >"$WORK/bwob.push.traffic.json"
tail -n +"$((log_from + 1))" "$WORK/registry.log" >"$WORK/registry.bwob.log"

python3 - "$WORK" "$REF" <<'EOF' || fail "build without the bytes"
import glob, json, os, re, sys

work, ref = sys.argv[1:]
build = json.load(open(os.path.join(work, "bwob.build.traffic.json")))
push = json.load(open(os.path.join(work, "bwob.push.traffic.json")))
# What the image is made of, from the layout the push read (its runfiles, now local).
layout = os.path.join(work, "bwob", "bazel-bin", "image")
index = json.load(open(os.path.join(layout, "index.json")))
manifest_digest = index["manifests"][0]["digest"]
def blob(digest):
    return os.path.join(layout, "blobs", *digest.split(":"))
manifest = json.load(open(blob(manifest_digest)))
layers = manifest["layers"]
image_bytes = sum(l["size"] for l in layers) + manifest["config"]["size"] + index["manifests"][0]["size"]

# Blobs the registry received after the edit: each completed upload names its
# digest; its size is the registry's own stored copy.
storage = os.path.join(work, "registry", "docker", "registry", "v2", "blobs", "sha256")
uploaded = []
for line in open(os.path.join(work, "registry.bwob.log"), encoding="utf-8", errors="replace"):
    m = re.search(r'"PUT /v2/rex/app/blobs/uploads/[^"?]*\?[^"]*digest=sha256(?::|%3A)([0-9a-f]{64})', line)
    if m:
        data = os.path.join(storage, m.group(1)[:2], m.group(1), "data")
        uploaded.append((m.group(1), os.path.getsize(data)))
manifests_put = [l for l in open(os.path.join(work, "registry.bwob.log"), errors="replace") if re.search(r'"PUT /v2/rex/app/manifests/', l)]

mb = lambda n: "%.2f MB" % (n / 1e6)
print("  image: %d layers above nothing, %s of blobs (layers + config + manifest)" % (len(layers), mb(image_bytes)))
print("  CAS -> client, bwob build (ByteStream.Read): %d calls, %d bytes" % (build["read_calls"], build["read_bytes"]))
print("  CAS -> client, bwob push (bazel run, ByteStream.Read): %d calls, %d bytes (%s)" % (push["read_calls"], push["read_bytes"], mb(push["read_bytes"])))
print("  client -> CAS, bwob build: %d bytes, push: %d bytes" % (build["write_bytes"], push["write_bytes"]))
print("  registry <- push after the edit: %d blobs, %d bytes %s, %d manifest PUTs" % (
    len(uploaded), sum(s for _, s in uploaded), [d[:12] for d, _ in uploaded], len(manifests_put)))
errors = []
if build["read_bytes"] > 1_000_000:
    errors.append("the --remote_download_minimal build read %d bytes from the CAS; it should need none of the layers" % build["read_bytes"])
if len(uploaded) != 2:
    errors.append("expected the push after an app edit to upload 2 blobs (app layer + config), the registry log shows %d" % len(uploaded))
for e in errors:
    print("FAIL: " + e, file=sys.stderr)
json.dump({"image_bytes": image_bytes, "build_read_bytes": build["read_bytes"], "push_read_bytes": push["read_bytes"],
           "registry_upload_bytes": sum(s for _, s in uploaded), "registry_uploads": len(uploaded), "manifest": manifest_digest},
          open(os.path.join(work, "bwob.summary.json"), "w"))
sys.exit(1 if errors else 0)
EOF
pushed=$(testbed_exec "crane digest $REF:latest")
built=$(digest "$WORK/bwob")
[ "$pushed" = "$built" ] || fail "the registry has $pushed as latest, the bwob clone built $built"
[ "$built" != "$got" ] || fail "the app edit did not change the image digest"
[ -z "$digest_differs" ] || fail "the image built on the engine ($got) differs from the local one ($want); see the differences printed above"
echo "PASS: layer actions and image step executed by BuildGrid's worker, digest equal to the local build ($want); bwob build and push after an app edit: registry has $built"
