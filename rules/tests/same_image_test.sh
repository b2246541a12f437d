#!/usr/bin/env bash
# same_image_test.sh LAYOUT_A LAYOUT_B...: every pair of image layouts given has the
# same index.json, so the same manifest digest and, through it, the same config and
# layers. Prints the digests it compared.
set -euo pipefail
while [ $# -ge 2 ]; do
    a=$1 b=$2
    shift 2
    digest() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$1/index.json"; }
    if ! cmp -s "$a/index.json" "$b/index.json"; then
        echo "FAIL: $a ($(digest "$a")) and $b ($(digest "$b")) differ:" >&2
        diff "$a/index.json" "$b/index.json" >&2 || true
        exit 1
    fi
    echo "PASS: $a = $b ($(digest "$a"))"
done
