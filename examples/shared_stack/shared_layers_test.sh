#!/usr/bin/env bash
# Two images on one py_shared_layers target: the same python, web and deps
# blobs, different app layers, no path of a shared layer naming a binary, and
# both run under runc.
#   shared_layers_test.sh RUN_IMAGE_SH ORDERS_LAYOUT BILLING_LAYOUT
set -euo pipefail
RUN_IMAGE=$1 ORDERS=$2 BILLING=$3
WORK=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }

layers() { # layout -> layer digests, one per line, base first
    local manifest
    manifest=$(jq -r '.manifests[0].digest' "$1/index.json")
    jq -r '.layers[].digest' "$1/blobs/sha256/${manifest#sha256:}"
}
mapfile -t orders < <(layers "$ORDERS")
mapfile -t billing < <(layers "$BILLING")
[ "${#orders[@]}" = 5 ] && [ "${#billing[@]}" = 5 ] ||
    fail "expected base, python, web, deps and app layers, got ${#orders[@]} and ${#billing[@]}"
names=(base python web deps app)
for i in 1 2 3; do
    [ "${orders[$i]}" = "${billing[$i]}" ] ||
        fail "the ${names[$i]} layer differs between the images: ${orders[$i]} vs ${billing[$i]}"
    tar -tzf "$ORDERS/blobs/sha256/${orders[$i]#sha256:}" >"$WORK/${names[$i]}.txt"
    ! grep -E 'orders|billing|\.runfiles' "$WORK/${names[$i]}.txt" | head -3 | grep . ||
        fail "the shared ${names[$i]} layer names a binary or its runfiles directory (above)"
    grep -q '^app/external/' "$WORK/${names[$i]}.txt" || fail "the ${names[$i]} layer is not below /app/external"
done
grep -q 'site-packages/werkzeug/__init__.py$' "$WORK/web.txt" || fail "werkzeug is not in the web layer"
[ "${orders[4]}" != "${billing[4]}" ] || fail "the two app layers are equal"
echo "PASS: python, web and deps layers are the same blobs in both images (${orders[1]:7:12}, ${orders[2]:7:12}, ${orders[3]:7:12})"

mkdir -p "$WORK/orders" "$WORK/billing"
TEST_TMPDIR=$WORK/orders "$RUN_IMAGE" "$ORDERS" 5 python,web,deps,app \
    "hello from orders" "/app/examples/shared_stack/orders/service.runfiles/_main/examples/shared_stack/orders/service.py"
TEST_TMPDIR=$WORK/billing "$RUN_IMAGE" "$BILLING" 5 python,web,deps,app "hello from billing"
