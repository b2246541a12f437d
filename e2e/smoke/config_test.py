"""Reads the smoke image's config from its OCI layout (Python's json, tarfile) and
checks what a user of the image sees: the entrypoint, cmd, env, ports, user."""

import json
import os
import sys
import tarfile
import unittest

RUNFILES = os.environ.get("RUNFILES_DIR") or os.path.abspath(sys.argv[0] + ".runfiles")
LAYOUT = os.path.join(RUNFILES, sys.argv[1])
LAYERS = [os.path.join(RUNFILES, p) for arg in sys.argv[2:] for p in arg.split(" ")]


def blob(digest):
    with open(os.path.join(LAYOUT, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
        return json.load(f)


def members(name):
    (path,) = [p for p in LAYERS if os.path.basename(p).startswith(name + ".")]
    tar = tarfile.open(path)
    return tar, {m.name.lstrip("./"): m for m in tar.getmembers()}


class ConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(LAYOUT, "index.json")) as f:
            index = json.load(f)
        cls.index = index
        cls.manifest = blob(index["manifests"][0]["digest"])
        cls.config = blob(cls.manifest["config"]["digest"])["config"]

    def test_index_entry_has_no_platform(self):
        # rules_oci 2.x writes one descriptor without `platform` for an oci_image.
        (entry,) = self.index["manifests"]
        self.assertEqual(entry["mediaType"], "application/vnd.oci.image.manifest.v1+json")
        self.assertNotIn("platform", entry)

    def test_entrypoint_runs_the_launcher(self):
        entrypoint = self.config["Entrypoint"]
        self.assertEqual(entrypoint[-1], "/app/hello")
        tar, app = members("app")
        with tar:
            first_line = tar.extractfile(app["app/hello"]).readline()
        if first_line.startswith(b"#!") and b"python" in first_line:
            # A Python launcher runs on the image's own interpreter, which the
            # python layer holds in its repository's directory; the binary's
            # runfiles directory links to it.
            self.assertEqual(len(entrypoint), 2, entrypoint)
            self.assertTrue(entrypoint[0].startswith("/app/hello.runfiles/"), entrypoint)
            self.assertRegex(entrypoint[0], r"/bin/python3(\.\d+)?$")
            repo, _, rest = entrypoint[0][len("/app/hello.runfiles/"):].partition("/")
            link = app["app/hello.runfiles/" + repo]
            self.assertTrue(link.issym(), link.name)
            resolved = os.path.normpath(os.path.join("app/hello.runfiles", link.linkname, rest))
            tar, python = members("python")
            tar.close()
            self.assertIn(resolved, python)
        else:
            # Any other launcher (rules_python's bootstrap_impl=script) runs as it is.
            self.assertEqual(entrypoint, ["/app/hello"], first_line)

    def test_cmd_element_with_a_comma_stays_one(self):
        self.assertEqual(self.config["Cmd"], ["--greeting", "hello, world"])

    def test_env(self):
        env = dict(e.split("=", 1) for e in self.config["Env"])
        self.assertEqual(env["GREETING_LANG"], "en")
        self.assertEqual(env["PATH"], "/usr/local/bin:/usr/bin:/bin")

    def test_ports_user_workdir(self):
        self.assertEqual(self.config["ExposedPorts"], {"8080/tcp": {}, "9090/udp": {}})
        self.assertEqual(self.config["User"], "65532")
        self.assertEqual(self.config["WorkingDir"], "/app")

    def test_layers_are_the_image_layers(self):
        # the manifest lists our layers in order, with their compressed digests
        import hashlib

        digests = []
        for path in LAYERS:
            with open(path, "rb") as f:
                digests.append("sha256:" + hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(sorted(digests), sorted(l["digest"] for l in self.manifest["layers"]))
        for layer in self.manifest["layers"]:
            self.assertEqual(layer["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
