#!/usr/bin/env bash
# No credential is printed: push //:image to a registry that requires a login
# (Debian's docker-registry with htpasswd), at crane's most verbose level, once
# with the secret in the docker config's `auths` and once from a credential
# helper, and check that neither the secret nor its base64 form appears in
# anything the push printed or the registry logged.
set -euo pipefail
IMAGE=$1 PUSH=$2
WORK=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }

USER_NAME=pyimage
SECRET="s3cr3t-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
AUTH=$(printf '%s:%s' "$USER_NAME" "$SECRET" | base64 -w0)

htpasswd -Bbn "$USER_NAME" "$SECRET" >"$WORK/htpasswd"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log: {level: debug}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: 127.0.0.1:$PORT}
auth: {htpasswd: {realm: rules_pyimage-test, path: $WORK/htpasswd}}
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
trap 'kill $REGISTRY_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/")" = 401 ] && break
    sleep 0.1
done
# The registry must refuse what comes without the login, or the test proves nothing.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/")" = 401 ] ||
    fail "the registry does not ask for credentials"
REPO=127.0.0.1:$PORT/acme/app

no_secret_in() { # file...
    local f
    for f in "$@"; do
        ! grep -qF -- "$SECRET" "$f" || fail "$f holds the password: $(grep -nF -- "$SECRET" "$f" | head -n 3)"
        ! grep -qF -- "$AUTH" "$f" || fail "$f holds the base64 credentials: $(grep -nF -- "$AUTH" "$f" | head -n 3)"
    done
}

pushed_digest() {
    skopeo inspect --tls-verify=false --creds "$USER_NAME:$SECRET" "docker://$REPO:latest" 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["Digest"])'
}
built=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$IMAGE/index.json")

# Without credentials the push fails: the login below is what makes it work.
export DOCKER_CONFIG=$WORK/docker-none
mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
if "$PUSH" --repository "$REPO" >"$WORK/push-none.log" 2>&1; then
    fail "the push worked without credentials"
fi

# 1. The secret in the docker config (what `docker login` writes).
export DOCKER_CONFIG=$WORK/docker-auths
mkdir -p "$DOCKER_CONFIG"
printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$PORT" "$AUTH" >"$DOCKER_CONFIG/config.json"
"$PUSH" --repository "$REPO" -v >"$WORK/push-auths.log" 2>&1 || { cat "$WORK/push-auths.log"; fail "push with the docker config's auths failed"; }
grep -q "Authorization" "$WORK/push-auths.log" || fail "crane -v printed no request headers: the check below would prove nothing"
[ "$(pushed_digest)" = "$built" ] || fail "the registry holds $(pushed_digest), not the built $built"

# 2. The secret from a credential helper.
export DOCKER_CONFIG=$WORK/docker-helper
mkdir -p "$DOCKER_CONFIG" "$WORK/bin"
printf '{"credHelpers": {"127.0.0.1:%s": "pyimagetest"}}\n' "$PORT" >"$DOCKER_CONFIG/config.json"
cat >"$WORK/bin/docker-credential-pyimagetest" <<HELPER
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server
printf '{"ServerURL": "%s", "Username": "$USER_NAME", "Secret": "$SECRET"}\n' "\$server"
HELPER
chmod +x "$WORK/bin/docker-credential-pyimagetest"
PATH="$WORK/bin:$PATH" "$PUSH" --repository "$REPO" -v >"$WORK/push-helper.log" 2>&1 ||
    { cat "$WORK/push-helper.log"; fail "push with a credential helper failed"; }
grep -q "Authorization" "$WORK/push-helper.log" || fail "crane -v printed no request headers"

no_secret_in "$WORK/push-none.log" "$WORK/push-auths.log" "$WORK/push-helper.log" "$WORK/registry.log"
echo "PASS: pushed $built with a login from the docker config and from a credential helper; no log holds the secret"
