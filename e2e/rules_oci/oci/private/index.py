#!/usr/bin/env python3
"""TEST STAND-IN for rules_oci: merge image layouts into an image index. Never shipped."""

import argparse
import hashlib
import json
import os
import shutil

INDEX = "application/vnd.oci.image.index.v1+json"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--output", required=True)
    p.add_argument("--annotations")
    p.add_argument("images", nargs="+")
    a = p.parse_args()
    blobs = os.path.join(a.output, "blobs", "sha256")
    os.makedirs(blobs)
    manifests = []
    for image in a.images:
        src = os.path.join(image, "blobs", "sha256")
        for name in sorted(os.listdir(src)):
            if not os.path.exists(os.path.join(blobs, name)):
                shutil.copyfile(os.path.join(src, name), os.path.join(blobs, name))
        with open(os.path.join(image, "index.json")) as f:
            manifests.extend(json.load(f)["manifests"])
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}
    if a.annotations:
        with open(a.annotations) as f:
            index["annotations"] = dict(line.split("=", 1) for line in f.read().splitlines() if line)
    data = json.dumps(index, separators=(",", ":"), sort_keys=True).encode()
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    with open(os.path.join(a.output, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(a.output, "index.json"), "w") as f:
        json.dump(
            {
                "schemaVersion": 2,
                "mediaType": INDEX,
                "manifests": [{"mediaType": INDEX, "digest": "sha256:" + digest, "size": len(data)}],
            },
            f,
        )


if __name__ == "__main__":
    main()
