#!/usr/bin/env python3
"""TEST STAND-IN for rules_oci's descriptor.sh (v2.2.6 oci/private/descriptor.sh). Never shipped.

One action per layer, cached by Bazel: the layer's digest and size, and its
diff_id by decompressing it (gzip by magic bytes, zstd by a frame check, else
uncompressed), written as the partial descriptor image.py reads. Usage:
descriptor.py LAYER OUTPUT LABEL
"""

import gzip
import hashlib
import json
import os
import subprocess
import sys

CHUNK = 1 << 20


def sha256(stream):
    h = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        h.update(chunk)
    return "sha256:" + h.hexdigest()


def is_zstd(path):
    # descriptor.sh: `zstd -t <"$archive"` (a complete, valid zstd stream).
    with open(path, "rb") as f:
        return subprocess.run(["zstd", "-t"], stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def main():
    archive, output, label = sys.argv[1:4]
    with open(archive, "rb") as f:
        digest = sha256(f)
        f.seek(0)
        magic = f.read(2)
    diffid, compression = digest, ""
    if magic == b"\x1f\x8b":
        compression = "gzip"
        with gzip.open(archive, "rb") as f:
            diffid = sha256(f)
    elif is_zstd(archive):
        compression = "zstd"
        with open(archive, "rb") as f:
            proc = subprocess.Popen(["zstd", "--decompress", "--format=zstd"], stdin=f, stdout=subprocess.PIPE)
            diffid = sha256(proc.stdout)
            if proc.wait() != 0:
                sys.exit("error: zstd could not decompress %s" % archive)
    descriptor = {
        "digest": digest,
        "diffid": diffid,
        "compression": compression,
        "size": os.path.getsize(archive),
        "history": {"created": "1970-01-01T00:00:00Z", "created_by": "bazel build %s" % label},
    }
    with open(output, "w") as f:
        f.write(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
