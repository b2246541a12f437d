#!/usr/bin/env python3
"""TEST STAND-IN for rules_oci's oci_load tarball (v2.2.6 oci/private/tarball.sh.tpl). Never shipped.

tarball.py FORMAT IMAGE_DIR REPO_TAGS_FILE OUTPUT|-

`docker` (an oci_image): blobs/sha256/<config>, blobs/sha256/<layer>.tar.gz
per layer and manifest.json ([{Config, RepoTags, Layers}]); `oci` (an
oci_image_index): oci-layout, the index, every manifest, config and layer
blob, and an index.json with one entry per repo tag. Every entry is a file
with uid/gid 0, mode 0755 and mtime 1672560000, as the real mtree spec says.
Refuses the format/media type pairs the real script refuses.
"""

import io
import json
import os
import sys
import tarfile

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MTIME = 1672560000


def jq_text(value):
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def blob_path(digest):
    return "blobs/" + digest.replace(":", "/", 1)


def entries(fmt, image, tags):
    index = read_json(os.path.join(image, "index.json"))
    if len(index["manifests"]) != 1:
        sys.exit("Expected exactly one manifest in %s" % os.path.join(image, "index.json"))
    media_type = index["manifests"][0].get("mediaType")
    if fmt not in ("docker", "oci"):
        sys.exit("Unknown format: %s. Only support docker|oci" % fmt)
    if fmt == "oci" and media_type not in (OCI_INDEX, DOCKER_MANIFEST):
        sys.exit("Format oci is only supported for oci_image_index targets but saw %s" % media_type)
    if fmt == "docker" and media_type not in (OCI_MANIFEST, DOCKER_MANIFEST):
        sys.exit("Format docker is only supported for oci_image targets but saw %s" % media_type)
    top = index["manifests"][0]["digest"]
    if fmt == "oci":
        yield "oci-layout", os.path.join(image, "oci-layout")
        yield blob_path(top), os.path.join(image, blob_path(top))
        for m in read_json(os.path.join(image, blob_path(top)))["manifests"]:
            manifest = read_json(os.path.join(image, blob_path(m["digest"])))
            yield blob_path(m["digest"]), os.path.join(image, blob_path(m["digest"]))
            yield blob_path(manifest["config"]["digest"]), os.path.join(image, blob_path(manifest["config"]["digest"]))
            for layer in manifest["layers"]:
                yield blob_path(layer["digest"]), os.path.join(image, blob_path(layer["digest"]))
        first = index["manifests"][0]
        out = dict(index, manifests=[dict(first, annotations={"org.opencontainers.image.ref.name": t}) for t in tags])
        yield "index.json", jq_text(out).encode()
        return
    manifest = read_json(os.path.join(image, blob_path(top)))
    config = blob_path(manifest["config"]["digest"])
    layers = [blob_path(layer["digest"]) for layer in manifest["layers"]]
    yield config, os.path.join(image, config)
    for layer in layers:
        yield layer + ".tar.gz", os.path.join(image, layer)
    yield "manifest.json", jq_text([{"Config": config, "RepoTags": tags, "Layers": [l + ".tar.gz" for l in layers]}]).encode()


def main(fmt, image, tags_file, output):
    with open(tags_file, encoding="utf-8") as f:
        tags = f.read().split()  # REPOTAGS=($(cat tags)): split on whitespace
    stream = sys.stdout.buffer if output == "-" else open(output, "wb")
    with tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, content in entries(fmt, image, tags):
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.mtime = 0o755, 0, 0, MTIME
            if isinstance(content, bytes):
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
            else:
                info.size = os.path.getsize(content)
                with open(content, "rb") as f:
                    tar.addfile(info, f)


if __name__ == "__main__":
    main(*sys.argv[1:5])
