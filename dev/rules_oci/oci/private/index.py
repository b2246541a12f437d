#!/usr/bin/env python3
"""TEST STAND-IN for rules_oci's image_index.sh.tpl (v2.2.6 oci/private/image_index.sh.tpl). Never shipped.

  --output=DIR, then per image: --image=LAYOUT followed by --blob=blobs/sha256/<hex>...

Every blob of every image is copied (not linked), each image's manifest goes
into one image index with a `platform` from its config (os, architecture,
variant, os.version, os.features; absent ones left out), and the layout's
index.json holds only `manifests` with the index's descriptor, as jq writes it.
"""

import hashlib
import json
import os
import shutil
import sys

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
PLATFORM_KEYS = ("os", "architecture", "variant", "os.version", "os.features")


def jq_text(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    output = image = None
    manifest_list = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    for arg in argv:
        flag, _, value = arg.partition("=")
        if flag == "--output":
            output = value
            os.makedirs(os.path.join(output, "blobs", "sha256"), exist_ok=True)
            with open(os.path.join(output, "oci-layout"), "w") as f:
                f.write('{"imageLayoutVersion": "1.0.0"}\n')
        elif flag == "--image":
            image = value
            for manifest in read_json(os.path.join(image, "index.json"))["manifests"]:
                blob = read_json(os.path.join(image, "blobs", *manifest["digest"].split(":", 1)))
                config = read_json(os.path.join(image, "blobs", *blob["config"]["digest"].split(":", 1)))
                platform = {k: config[k] for k in PLATFORM_KEYS if config.get(k) is not None}
                manifest_list["manifests"].append(dict(manifest, platform=platform))
        elif flag == "--blob":
            dest = os.path.join(output, value)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(os.path.join(image, value), dest)  # cp --no-preserve=mode
        else:
            sys.exit("Unknown argument %s" % arg)
    data = (jq_text(manifest_list) + "\n").encode()
    checksum = hashlib.sha256(data).hexdigest()
    with open(os.path.join(output, "blobs", "sha256", checksum), "wb") as f:
        f.write(data)
    index = {"manifests": [{"mediaType": OCI_INDEX, "size": len(data), "digest": "sha256:" + checksum}]}
    with open(os.path.join(output, "index.json"), "w") as f:
        f.write(jq_text(index) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
