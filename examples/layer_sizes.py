#!/usr/bin/env python3
"""Per-layer sizes of py_image_layers targets side by side, as a Markdown table.

    examples/layer_sizes.py TARGET... [-- BAZEL FLAGS...]
    examples/layer_sizes.py //examples/pytorch:image_layers_unstripped //examples/pytorch:image_layers

Give the same binary and groups in each target with different strip settings
(e.g. `strip = False`, the default, `strip_debug = True`): each cell reads
`first → second → ...`, and the last column what the last target saves in
compressed bytes against the first. Figures come from each layer's descriptor
(entries, uncompressed and compressed bytes, as layer-splitter wrote them); the
strip report of the last target follows the table.
"""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAZEL = os.path.join(REPO, "bazelw")


def bazel(*args):
    return subprocess.run([BAZEL, *args], cwd=REPO, check=True, stdout=subprocess.PIPE, text=True).stdout


def output_group(target, group, flags):
    expr = f"'\\n'.join([f.path for f in providers(target)['OutputGroupInfo'].{group}.to_list()])"
    out = bazel("cquery", *flags, target, "--output=starlark", f"--starlark:expr={expr}")
    return [line for line in out.split("\n") if line]


def size(n):
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} KB"


def main(argv):
    targets, flags = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    if not targets:
        sys.exit(__doc__)
    bazel("build", *flags, "--output_groups=default,descriptors,report", *targets)
    execroot = bazel("info", *flags, "execution_root").strip()
    variants = []
    for target in targets:
        layers = {}
        for path in output_group(target, "descriptors", flags):
            with open(os.path.join(execroot, path)) as f:
                layers[os.path.basename(path)[: -len(".json")]] = json.load(f)
        variants.append(layers)
    names = list(variants[0])
    for target, layers in zip(targets, variants):
        if list(layers) != names:
            sys.exit(f"error: {target} has layers {list(layers)}, {targets[0]} has {names}: give every target the same binary and groups")

    arrow = " → ".join
    print(" vs ".join(f"`{t}`" for t in targets) + "\n")
    print("| layer | entries | uncompressed | compressed | compressed saved |")
    print("| --- | ---: | ---: | ---: | ---: |")
    totals = [[0, 0] for _ in variants]
    for name in names:
        row = [layers[name] for layers in variants]
        for total, d in zip(totals, row):
            total[0] += d["uncompressedSize"]
            total[1] += d["size"]
        saved = 1 - row[-1]["size"] / row[0]["size"] if row[0]["size"] else 0
        print(f"| {name} | {arrow(format(d['entries'], ',') for d in row)} | {arrow(size(d['uncompressedSize']) for d in row)} "
              f"| {arrow(size(d['size']) for d in row)} | {100 * saved:.1f}% |")
    saved = 1 - totals[-1][1] / totals[0][1] if totals[0][1] else 0
    print(f"| **total** | | {arrow(size(t[0]) for t in totals)} | {arrow(size(t[1]) for t in totals)} | {100 * saved:.1f}% |")
    reports = output_group(targets[-1], "report", flags)
    if reports:
        print(f"\nStrip report of `{targets[-1]}` (layer-splitter --report):\n\n```")
        with open(os.path.join(execroot, reports[0])) as f:
            print(f.read().strip())
        print("```")


if __name__ == "__main__":
    main(sys.argv[1:])
