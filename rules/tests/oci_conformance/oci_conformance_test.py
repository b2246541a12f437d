"""oci_image's output, byte for byte, against a recording of rules_oci 2.2.6.

Each recording (recorded/<target>.json) holds what the real rules_oci wrote for
the targets in BUILD.bazel: index.json and every JSON blob it reaches, as text
(their digests follow from their bytes). `record` mode writes them:
  oci_conformance_test.py record SCRATCH DERIVED INDEX OUT_SCRATCH OUT_DERIVED OUT_INDEX
"""

import hashlib
import json
import os
import sys
import unittest

RUNFILES = os.environ.get("RUNFILES_DIR") or os.path.abspath(sys.argv[0] + ".runfiles")


def read(layout, *parts):
    with open(os.path.join(layout, *parts), "rb") as f:
        return f.read()


def snapshot(layout):
    """index.json and every JSON blob it reaches (manifests, indexes, configs), as text."""
    index = read(layout, "index.json")
    # which blobs the layout holds (regctl drops the ones index.json does not reach)
    out = {"index.json": index.decode(), "blobs": "\n".join(sorted(os.listdir(os.path.join(layout, "blobs", "sha256"))))}
    pending = [d for d in json.loads(index)["manifests"]]
    while pending:
        descriptor = pending.pop(0)
        digest = descriptor["digest"]
        data = read(layout, "blobs", *digest.split(":", 1))
        assert digest == "sha256:" + hashlib.sha256(data).hexdigest(), digest
        out[digest] = data.decode()
        blob = json.loads(data)
        # an image manifest names its config; an index, its manifests
        pending += blob.get("manifests", []) + ([blob["config"]] if "layers" in blob else [])
    return out


class ConformanceTest(unittest.TestCase):
    def check(self, layout, recording):
        got = snapshot(os.path.join(RUNFILES, layout))
        with open(os.path.join(RUNFILES, recording)) as f:
            want = json.load(f)
        # Parsed first, for a readable difference (configs before the manifests
        # and indexes whose digests follow from them); then the bytes.
        order = sorted(want, key=lambda k: ("Cmd" not in want[k] and '"rootfs"' not in want[k], k))
        self.assertEqual(sorted(got), sorted(want), "blobs")
        self.assertEqual(got.pop("blobs").split("\n"), want.pop("blobs").split("\n"), "blobs/sha256")
        for part in order:
            if part == "blobs":
                continue
            self.assertEqual(json.loads(got[part]), json.loads(want[part]), part)
            self.assertEqual(got[part], want[part], part + " (bytes)")

    def test_scratch(self):
        self.check(sys.argv[1], sys.argv[3])

    def test_derived(self):
        self.check(sys.argv[2], sys.argv[4])

    def test_index(self):
        self.check(sys.argv[5], sys.argv[6])


if __name__ == "__main__":
    if sys.argv[1] == "record":
        layouts, outs = sys.argv[2:5], sys.argv[5:8]
        for layout, out in zip(layouts, outs):
            with open(out, "w") as f:
                json.dump(snapshot(layout), f, indent=2, sort_keys=True)
                f.write("\n")
    else:
        unittest.main(argv=sys.argv[:1])
