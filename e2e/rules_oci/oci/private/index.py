#!/usr/bin/env python3
"""TEST STAND-IN for rules_oci: merge image layouts into an image index. Never shipped.

As rules_oci 2.x does: every manifest of every image's index.json goes into one
image index, with a `platform` taken from that image's config (os,
architecture, variant, os.version, os.features); the layout's index.json holds
a single descriptor of that index.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PLATFORM_KEYS = ("architecture", "os", "os.version", "os.features", "variant")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--output", required=True)
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
        for descriptor in read_json(os.path.join(image, "index.json"))["manifests"]:
            if descriptor.get("mediaType") != MANIFEST:
                sys.exit("error: %s holds a %s; oci_image_index takes single-platform oci_image targets"
                         % (image, descriptor.get("mediaType")))
            manifest = read_json(os.path.join(src, descriptor["digest"].split(":", 1)[1]))
            config = read_json(os.path.join(src, manifest["config"]["digest"].split(":", 1)[1]))
            platform = {k: config[k] for k in PLATFORM_KEYS if config.get(k)}
            manifests.append({k: descriptor[k] for k in ("mediaType", "digest", "size")} | {"platform": platform})
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}
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
            sort_keys=True,
        )


if __name__ == "__main__":
    main()
