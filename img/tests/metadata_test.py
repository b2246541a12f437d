"""Each layer's rules_img metadata against the blob itself.

rules_img 0.3.19 decodes the file into api.Descriptor with DisallowUnknownFields
(img_tool/cmd/manifest/manifest.go:374-389, img_tool/pkg/api/api.go:99-106): any
other key fails its manifest action. digest, size and diff_id are computed here
from the blob with hashlib, gzip and zstd, not read from our descriptor.
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import unittest

KEYS = {"diff_id", "mediaType", "digest", "size", "annotations", "history"}
REQUIRED = {"diff_id", "mediaType", "digest", "size"}
HISTORY_KEYS = {"created", "created_by", "author", "comment", "empty_layer"}
MEDIA_TYPES = {
    ".tar": "application/vnd.oci.image.layer.v1.tar",
    ".tar.gz": "application/vnd.oci.image.layer.v1.tar+gzip",
    ".tar.zst": "application/vnd.oci.image.layer.v1.tar+zstd",
}


def uncompressed(path, blob):
    if path.endswith(".tar.gz"):
        return gzip.decompress(blob)
    if path.endswith(".tar.zst"):
        try:
            from compression import zstd  # Python >= 3.14
            return zstd.decompress(blob)
        except ImportError:
            zstd_cmd = shutil.which("zstd")
            if not zstd_cmd:
                raise unittest.SkipTest("neither compression.zstd nor a zstd command")
            return subprocess.run([zstd_cmd, "-dc", path], check=True, capture_output=True).stdout
    return blob


def media_type(path):
    for extension, value in MEDIA_TYPES.items():
        if path.endswith(extension):
            return value
    raise AssertionError("not a layer blob: " + path)


class MetadataTest(unittest.TestCase):
    def pairs(self):
        """(layer name, blob, metadata): `<target>/<layer>.tar*` with `<target>/<layer>.img.json`."""
        files = sys.argv[1:]
        metadata = {f[: -len(".img.json")]: f for f in files if f.endswith(".img.json")}
        blobs = {}
        for f in files:
            for extension in MEDIA_TYPES:
                if f.endswith(extension):
                    blobs[f[: -len(extension)]] = f
        self.assertEqual(sorted(metadata), sorted(blobs))
        self.assertEqual(4, len(blobs), files)  # python and app, gzip and zstd
        return [(os.path.basename(key), blobs[key], metadata[key]) for key in sorted(blobs)]

    def test_keys_are_exactly_what_rules_img_decodes(self):
        for name, _, path in self.pairs():
            with open(path) as f:
                value = json.load(f)
            self.assertLessEqual(set(value), KEYS, f"{name}: rules_img refuses {set(value) - KEYS}")
            self.assertLessEqual(REQUIRED, set(value), name)
            self.assertEqual(1, len(value["history"]), name)
            self.assertLessEqual(set(value["history"][0]), HISTORY_KEYS, name)
            self.assertRegex(value["history"][0]["created_by"], r"^bazel build //tests:layers(_zstd)? \(" + name + r"\)$")

    def test_digest_size_and_diff_id_are_the_blobs(self):
        for name, blob_path, path in self.pairs():
            with open(blob_path, "rb") as f:
                blob = f.read()
            with open(path) as f:
                value = json.load(f)
            self.assertEqual("sha256:" + hashlib.sha256(blob).hexdigest(), value["digest"], name)
            self.assertEqual(len(blob), value["size"], name)
            self.assertIsInstance(value["size"], int)
            self.assertEqual("sha256:" + hashlib.sha256(uncompressed(blob_path, blob)).hexdigest(), value["diff_id"], name)
            self.assertEqual(media_type(blob_path), value["mediaType"], name)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
