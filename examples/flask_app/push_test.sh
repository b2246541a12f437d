#!/usr/bin/env bash
# Registry round trip: push //:image with its push target to a real registry
# (Debian's docker-registry) on loopback, read it back with skopeo, and check
# that the manifest digest and every layer digest equal what was built.
set -euo pipefail
IMAGE=$1 PUSH=$2 PUSH_TAG=$3 RUN_IMAGE=$4
WORK=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log: {level: info}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: 127.0.0.1:$PORT}
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
trap 'kill $REGISTRY_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

REPO=127.0.0.1:$PORT/acme/app
"$PUSH" --repository "$REPO" | tee "$WORK/push.log"

# The built manifest digest, straight from the OCI layout.
built=$(jq -r '.manifests[0].digest' "$IMAGE/index.json")
pushed=$(skopeo inspect --tls-verify=false "docker://$REPO:latest" | jq -r .Digest)
[ "$built" = "$pushed" ] || fail "pushed manifest $pushed != built $built"

built_layers=$(jq -r '.layers[].digest' "$IMAGE/blobs/sha256/${built#sha256:}")
pulled_layers=$(skopeo inspect --tls-verify=false --raw "docker://$REPO:latest" | jq -r '.layers[].digest')
[ "$built_layers" = "$pulled_layers" ] || fail "layer digests differ: built [$built_layers] pulled [$pulled_layers]"

# Pull every blob back and check it hashes to its digest.
skopeo copy -q --src-tls-verify=false "docker://$REPO:latest" "oci:$WORK/pulled:latest"
for d in $pulled_layers; do
    [ "sha256:$(sha256sum "$WORK/pulled/blobs/sha256/${d#sha256:}" | cut -d' ' -f1)" = "$d" ] ||
        fail "pulled blob $d does not hash to its digest"
done

# The version push refuses to run without a version, and says how to set one.
if "$PUSH_TAG" --repository "$REPO" >"$WORK/tag.log" 2>&1; then
    fail "push without a version tag should have failed"
fi
grep -q -- "--define=VERSION=" "$WORK/tag.log" || fail "unhelpful error: $(cat "$WORK/tag.log")"

# The pulled image runs.
"$RUN_IMAGE" "$WORK/pulled" 4 python,deps,app "hello from rules_pyimage"

# Nothing printed may look like a credential.
! grep -qiE 'password|authorization|token' "$WORK/push.log" || fail "push output mentions credentials"
echo "PASS: pushed $built with $(wc -w <<<"$pulled_layers") layers and read it back"
