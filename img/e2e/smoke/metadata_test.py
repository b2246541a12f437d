"""py_img_layers' layers and the rules_img metadata beside each, read with json and hashlib."""

import hashlib
import json
import os
import sys
import unittest

RUNFILES = os.environ.get("RUNFILES_DIR") or os.path.abspath(sys.argv[0] + ".runfiles")


class MetadataTest(unittest.TestCase):
    def test_each_layer_has_metadata_naming_its_blob(self):
        files = sys.argv[1:]
        metadata = {f[: -len(".img.json")]: f for f in files if f.endswith(".img.json")}
        blobs = {f[: -len(".tar.gz")]: f for f in files if f.endswith(".tar.gz")}
        self.assertEqual(sorted(metadata), sorted(blobs), files)
        self.assertEqual(["app", "python"], sorted(os.path.basename(k) for k in blobs), files)
        for key, blob_path in blobs.items():
            with open(blob_path, "rb") as f:
                blob = f.read()
            with open(metadata[key]) as f:
                value = json.load(f)
            self.assertEqual("sha256:" + hashlib.sha256(blob).hexdigest(), value["digest"], key)
            self.assertEqual(len(blob), value["size"], key)
            self.assertEqual("application/vnd.oci.image.layer.v1.tar+gzip", value["mediaType"], key)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
