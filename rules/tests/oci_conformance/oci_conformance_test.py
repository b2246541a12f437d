"""oci_image's output, byte for byte, against a recording of rules_oci 2.2.6.

Each recording (recorded/<image>.json) holds what the real rules_oci wrote for
the targets in BUILD.bazel: index.json, and the manifest and config blobs as
text (their digests follow from their bytes). `record` mode writes them:
  oci_conformance_test.py record SCRATCH DERIVED OUT_SCRATCH OUT_DERIVED
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
    """index.json, the manifest and the config of an image layout, as text."""
    index = read(layout, "index.json")
    manifest_digest = json.loads(index)["manifests"][0]["digest"]
    manifest = read(layout, "blobs", *manifest_digest.split(":", 1))
    config_digest = json.loads(manifest)["config"]["digest"]
    config = read(layout, "blobs", *config_digest.split(":", 1))
    for digest, data in ((manifest_digest, manifest), (config_digest, config)):
        assert digest == "sha256:" + hashlib.sha256(data).hexdigest(), digest
    return {"index.json": index.decode(), "manifest": manifest.decode(), "config": config.decode()}


class ConformanceTest(unittest.TestCase):
    def check(self, layout, recording):
        got = snapshot(os.path.join(RUNFILES, layout))
        with open(os.path.join(RUNFILES, recording)) as f:
            want = json.load(f)
        # Parsed first, for a readable difference; then the bytes, which digests hang on.
        for part in ("config", "manifest", "index.json"):
            self.assertEqual(json.loads(got[part]), json.loads(want[part]), part)
            self.assertEqual(got[part], want[part], part + " (bytes)")

    def test_scratch(self):
        self.check(sys.argv[1], sys.argv[3])

    def test_derived(self):
        self.check(sys.argv[2], sys.argv[4])


if __name__ == "__main__":
    if sys.argv[1] == "record":
        for layout, out in ((sys.argv[2], sys.argv[4]), (sys.argv[3], sys.argv[5])):
            with open(out, "w") as f:
                json.dump(snapshot(layout), f, indent=2, sort_keys=True)
                f.write("\n")
    else:
        unittest.main(argv=sys.argv[:1])
