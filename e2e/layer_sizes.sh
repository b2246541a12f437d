#!/usr/bin/env bash
# Layer sizes before and after stripping, as a Markdown table (the figures in
# the examples' READMEs).
#
#   e2e/layer_sizes.sh UNSTRIPPED STRIPPED [BAZEL FLAGS...]
#   e2e/layer_sizes.sh //examples/pytorch:image_layers_unstripped //examples/pytorch:image_layers
#
# Both are py_image_layers targets with the same binary and groups, one with
# `strip = False`. Builds them and reads each layer's descriptor (entries,
# uncompressed and compressed bytes, as layer-splitter wrote them) and the
# strip report of the stripped one.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
[ $# -ge 2 ] || { echo "usage: $0 UNSTRIPPED_LAYERS STRIPPED_LAYERS [BAZEL FLAGS...]" >&2; exit 2; }
UNSTRIPPED=$1 STRIPPED=$2
shift 2

./bazelw build "$@" --output_groups=default,descriptors,report "$UNSTRIPPED" "$STRIPPED" >&2

paths() { # target group
    local target=$1 group=$2
    shift 2
    ./bazelw cquery "$@" "$target" --output=starlark \
        --starlark:expr="'\n'.join([f.path for f in providers(target)['OutputGroupInfo'].$group.to_list()])" 2>/dev/null
}
EXECROOT=$(./bazelw info "$@" execution_root 2>/dev/null)
python3 - "$EXECROOT" "$(paths "$UNSTRIPPED" descriptors "$@")" "$(paths "$STRIPPED" descriptors "$@")" \
    "$(paths "$STRIPPED" report "$@")" "$UNSTRIPPED" "$STRIPPED" <<'PY'
import json
import os
import sys

execroot, before, after, report, unstripped, stripped = sys.argv[1:]


def layers(paths):
    out = {}
    for p in paths.split():
        with open(os.path.join(execroot, p)) as f:
            out[os.path.basename(p)[: -len(".json")]] = json.load(f)
    return out


def mb(n):
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} KB"


b, a = layers(before), layers(after)
print(f"before: `{unstripped}`, after: `{stripped}`\n")
print("| layer | entries before | entries after | uncompressed before | uncompressed after | gzip before | gzip after | gzip saved |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
tot = [0, 0, 0, 0]
for name in b:
    x, y = b[name], a.get(name)
    if y is None:
        sys.exit(f"error: layer {name} of {unstripped} is missing from {stripped}: give both the same binary and groups")
    saved = x["size"] - y["size"]
    print(f"| {name} | {x['entries']:,} | {y['entries']:,} | {mb(x['uncompressedSize'])} | {mb(y['uncompressedSize'])} "
          f"| {mb(x['size'])} | {mb(y['size'])} | {100 * saved / x['size']:.1f}% |")
    for i, v in enumerate([x["uncompressedSize"], y["uncompressedSize"], x["size"], y["size"]]):
        tot[i] += v
print(f"| **total** | | | {mb(tot[0])} | {mb(tot[1])} | {mb(tot[2])} | {mb(tot[3])} | {100 * (tot[2] - tot[3]) / tot[2]:.1f}% |")
print()
print("Strip report of the stripped layers (layer-splitter --report):\n")
print("```")
with open(os.path.join(execroot, report.split()[0])) as f:
    print(f.read().strip())
print("```")
PY
