"""py_image_index with rules_pkg extra_layers: the platform's image holds the layer
rules_pkg describes (read with Python's tarfile), below python, deps and app.

    index_layers_test.py INDEX_LAYOUT
"""

import json
import os
import sys
import tarfile

RUNFILES = os.environ.get("RUNFILES_DIR") or os.path.abspath(sys.argv[0] + ".runfiles")


def blob(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":")[1])


def main():
    layout = os.path.join(RUNFILES, sys.argv[1])
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)["manifests"][0]
    with open(blob(layout, index["digest"])) as f:
        images = json.load(f)["manifests"]
    assert len(images) == 1, images
    with open(blob(layout, images[0]["digest"])) as f:
        layers = json.load(f)["layers"]
    assert len(layers) == 4, "expected the rules_pkg layer, python, deps and app: %s" % layers
    with tarfile.open(blob(layout, layers[0]["digest"])) as tar:
        member = tar.getmember("etc/app/app.toml")
        assert (member.mode, member.uid, member.uname) == (0o640, 1000, "app"), (member.mode, member.uid, member.uname)
    print("the image holds the rules_pkg layer first: etc/app/app.toml 0640 1000 app")


if __name__ == "__main__":
    main()
