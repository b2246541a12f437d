#!/usr/bin/env python3
"""What differs between two OCI image layouts of one image: config and layers.

    diff_layouts.py LAYOUT_A LAYOUT_B

Compares the first manifest of each index.json: the config's JSON, key by key, and
the layers position by position; for a layer whose digest differs, every tar entry
whose type, mode, owner, size, link target or content differs, as Python's tarfile
reads them. Exits 1 when anything differs.
"""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(layout, digest):
    return os.path.join(layout, "blobs", *digest.split(":"))


def manifest(layout):
    index = json.load(open(os.path.join(layout, "index.json")))
    return json.load(open(blob(layout, index["manifests"][0]["digest"])))


def entries(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar:
            content = hashlib.sha256(tar.extractfile(m).read()).hexdigest()[:12] if m.isfile() else ""
            out[m.name] = (m.type, oct(m.mode), m.uid, m.gid, m.size, m.linkname, content)
    return out


def main():
    a, b = sys.argv[1:3]
    ma, mb = manifest(a), manifest(b)
    differs = False
    if ma["config"]["digest"] != mb["config"]["digest"]:
        differs = True
        ca, cb = json.load(open(blob(a, ma["config"]["digest"]))), json.load(open(blob(b, mb["config"]["digest"])))
        for key in sorted(set(ca) | set(cb)):
            if ca.get(key) != cb.get(key):
                print("config %s:\n  %s\n  %s" % (key, json.dumps(ca.get(key))[:600], json.dumps(cb.get(key))[:600]))
    if len(ma["layers"]) != len(mb["layers"]):
        print("layers: %d and %d" % (len(ma["layers"]), len(mb["layers"])))
        return 1
    for i, (la, lb) in enumerate(zip(ma["layers"], mb["layers"])):
        if la["digest"] == lb["digest"]:
            print("layer %d: equal (%s, %d bytes)" % (i, la["digest"][:19], la["size"]))
            continue
        differs = True
        ea, eb = entries(blob(a, la["digest"])), entries(blob(b, lb["digest"]))
        diff = [n for n in sorted(set(ea) | set(eb)) if ea.get(n) != eb.get(n)]
        print("layer %d: %s (%d bytes) and %s (%d bytes), %d of %d entries differ:" % (
            i, la["digest"][:19], la["size"], lb["digest"][:19], lb["size"], len(diff), len(set(ea) | set(eb))))
        for n in diff[:20]:
            print("  %s\n    %s\n    %s" % (n, ea.get(n), eb.get(n)))
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
