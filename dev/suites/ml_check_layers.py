#!/usr/bin/env python3
"""Check an image's layer split by reading its OCI layout with Python's tarfile and json.

    ml_check_layers.py IMAGE_LAYOUT base,python,nvidia,torch,deps,app \
        --layer 'nvidia=pypi_torch_(nvidia|cuda)_' --layer 'torch=pypi_torch_(torch|torchvision|triton)$' \
        --max-bytes app=65536 --min-bytes nvidia=500000000

Every regular file and symlink of the image's layers (all but the first, the
base) belongs to the repository named by the path component after
`app/external/` (external repositories) or `.runfiles/` (the main one). Checks that no path is in two layers, that each repository sits
in one layer only, that the repositories of a `--layer NAME=REGEX` layer all
match REGEX and no other layer holds one that does, and the compressed size
bounds; prints a table of the layers. Exits 1 with the reasons on failure.
"""

import argparse
import json
import os
import re
import sys
import tarfile


def blob(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])


def read_manifest(layout):
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    with open(blob(layout, index["manifests"][0]["digest"])) as f:
        manifest = json.load(f)
    with open(blob(layout, manifest["config"]["digest"])) as f:
        config = json.load(f)
    return manifest, config


def repo_of(member):
    """The repository a layer entry belongs to: the component after `external/`
    (where the image keeps each external repository) or after `.runfiles/` (the
    main repository, and the runfiles directory's links to the external ones)."""
    path = member.name
    head, sep, rest = path.partition(".runfiles/")
    if sep:
        repo = rest.split("/", 1)[0]
        if member.issym() and "/" not in rest:
            return "(links)"  # <binary>.runfiles/<repository> -> .../external/<repository>
        return repo
    if path.startswith("app/external/"):
        return path.split("/", 3)[2]
    return "(launcher)"


def pairs(values, convert):
    out = {}
    for v in values:
        name, _, value = v.partition("=")
        out[name] = convert(value)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("layout")
    parser.add_argument("names", help="comma-separated layer names, base first")
    parser.add_argument("--layer", action="append", default=[], help="NAME=REGEX over repository names")
    parser.add_argument("--max-bytes", action="append", default=[], help="NAME=BYTES, compressed")
    parser.add_argument("--min-bytes", action="append", default=[], help="NAME=BYTES, compressed")
    args = parser.parse_args()

    names = args.names.split(",")
    manifest, _ = read_manifest(args.layout)
    layers = manifest["layers"]
    errors = []
    if len(layers) != len(names):
        sys.exit(f"FAIL: {len(layers)} layers in {args.layout}, expected {len(names)} ({args.names})")

    seen = {}  # path -> layer
    repos = {}  # repo -> set of layers
    sizes = {}
    print(f"| layer | files | repositories | uncompressed | compressed |")
    print(f"| --- | ---: | ---: | ---: | ---: |")
    for name, desc in zip(names[1:], layers[1:]):
        files = 0
        size = 0
        layer_repos = set()
        with tarfile.open(blob(args.layout, desc["digest"]), "r|*") as tar:
            for member in tar:
                if member.isdir():
                    continue
                files += 1
                size += member.size
                if member.name in seen:
                    errors.append(f"{member.name} is in layers {seen[member.name]} and {name}")
                seen[member.name] = name
                repo = repo_of(member)
                if name == "app" and member.isfile() and member.size == 0 and member.name.endswith("/__init__.py"):
                    repo = "__init__.py"  # made by Bazel for this binary (legacy_create_init)
                layer_repos.add(repo)
                repos.setdefault(repo, set()).add(name)
        sizes[name] = desc["size"]
        print(f"| {name} | {files:,} | {len(layer_repos)} | {size / 1e6:,.1f} MB | {desc['size'] / 1e6:,.3f} MB |")

    for repo, where in sorted(repos.items()):
        if len(where) > 1:
            errors.append(f"repository {repo} is split over layers {sorted(where)}")
    for name, pattern in pairs(args.layer, re.compile).items():
        inside = {r for r, w in repos.items() if name in w}
        if not inside:
            errors.append(f"layer {name} holds no repository")
        for repo in sorted(inside):
            if not pattern.search(repo):
                errors.append(f"layer {name} holds {repo}, which does not match {pattern.pattern}")
        for repo, where in sorted(repos.items()):
            if pattern.search(repo) and name not in where:
                errors.append(f"{repo} matches {pattern.pattern} but is in layer {sorted(where)}, not {name}")
    for name, limit in pairs(args.max_bytes, int).items():
        if sizes.get(name, 0) > limit:
            errors.append(f"layer {name} is {sizes[name]} bytes compressed, more than {limit}")
    for name, limit in pairs(args.min_bytes, int).items():
        if sizes.get(name, 0) < limit:
            errors.append(f"layer {name} is {sizes.get(name, 0)} bytes compressed, less than {limit}")
    if errors:
        print("FAIL:\n  " + "\n  ".join(errors[:20]), file=sys.stderr)
        sys.exit(1)
    print(f"PASS: {args.layout}: {len(seen):,} files in {len(names) - 1} layers, each repository in one layer")


if __name__ == "__main__":
    main()
