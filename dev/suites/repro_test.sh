#!/usr/bin/env bash
# Reproducibility and remote caching, checked with real components:
#   1. two clones at different paths (so different output bases) build //:image;
#      the second executes the layer and image actions itself: same digest;
#   2. nginx (WebDAV) on loopback is the --remote_cache; after the second
#      clone's output base is wiped, every layer action is a remote cache hit.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Below the test bed's cache directory, which the chroot sees at the same path.
mkdir -p "$TESTBED_CACHE/tmp"
WORK=$(mktemp -d "$TESTBED_CACHE/tmp/repro.XXXXXX")
PORT=$(free_port)
mkdir -p "$WORK/cache" "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
# Workers as root: the cache lives in this test's private temporary directory.
user root;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events {}
http {
    access_log $WORK/nginx/access.log;
    client_body_temp_path $WORK/nginx/body;
    server {
        listen 127.0.0.1:$PORT;
        root $WORK/cache;
        location / {
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
        }
    }
}
EOF
testbed_mount
testbed_exec "nginx -c $WORK/nginx/nginx.conf"
cleanup() {
    testbed_exec "kill \$(cat $WORK/nginx/nginx.pid) 2>/dev/null" || true
    local c base
    for c in a b; do
        # the clones' output bases go with them: they hold GBs nothing reuses
        base=$(cd "$WORK/$c" 2>/dev/null && ./bazelw info output_base 2>/dev/null) || base=
        (cd "$WORK/$c" 2>/dev/null && ./bazelw shutdown >/dev/null 2>&1) || true
        case "$base" in "$TESTBED_CACHE"/bazel/?*) rm -rf "$base" ;; esac
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
# Without the test bed's shared disk cache: only nginx may serve (and, for
# clone a, receive) results here.
CACHE=(--remote_cache="http://127.0.0.1:$PORT" --disk_cache=)

# Clones of the committed tree at two different paths.
git clone -q "$REPO" "$WORK/a"
git clone -q "$REPO" "$WORK/b-at-another-path"
mv "$WORK/b-at-another-path" "$WORK/b"
digest() { jq -r '.manifests[0].digest' "$1/bazel-bin/image/index.json"; }

echo "== clone a: build, upload to the remote cache"
(cd "$WORK/a" && ./bazelw build //:image "${CACHE[@]}" 2>&1 | tail -n 3)
da=$(digest "$WORK/a")

echo "== clone b: build; layer and image actions run here, never from the cache"
(cd "$WORK/b" && ./bazelw build //:image "${CACHE[@]}" \
    --modify_execution_info=PyImageLayer=+no-remote-cache,OCIImage=+no-remote-cache \
    --execution_log_json_file="$WORK/b1.json" 2>&1 | tail -n 3)
db=$(digest "$WORK/b")
echo "digest a: $da"
echo "digest b: $db"
[ "$da" = "$db" ] || fail "the two clones built different images"

count() { # exec log, jq filter -> number of PyImageLayer spawns matching it
    jq -s "[.[] | select(.mnemonic == \"PyImageLayer\") | select($2)] | length" "$1"
}
ran=$(count "$WORK/b1.json" '.cacheHit != true')
[ "$ran" -ge 3 ] || fail "clone b should have run its layer actions itself (ran $ran)"

echo "== clone b: wipe the output base, build again from the remote cache"
(cd "$WORK/b" && ./bazelw clean --expunge >/dev/null 2>&1)
(cd "$WORK/b" && ./bazelw build //:image "${CACHE[@]}" \
    --execution_log_json_file="$WORK/b2.json" 2>&1 | tail -n 3)
hits=$(count "$WORK/b2.json" '.runner == "remote cache hit"')
total=$(count "$WORK/b2.json" 'true')
echo "layer actions served by the remote cache: $hits of $total"
echo "all actions served by the remote cache: $(jq -s '[.[] | select(.runner == "remote cache hit")] | length' "$WORK/b2.json") of $(jq -s 'length' "$WORK/b2.json")"
[ "$total" -ge 3 ] && [ "$hits" = "$total" ] || fail "expected every layer action to be a remote cache hit"
[ "$(digest "$WORK/b")" = "$da" ] || fail "image from the remote cache differs"
echo "PASS: same digest $da from two paths; $hits/$total layer actions from the remote cache"
