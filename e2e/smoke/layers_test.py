"""Reads the smoke image's layers with tarfile and checks the split."""

import os
import sys
import tarfile
import unittest

RUNFILES = os.environ.get("RUNFILES_DIR") or os.path.abspath(sys.argv[0] + ".runfiles")


def members(path):
    path = os.path.join(RUNFILES, path)
    if path.endswith(".zst"):
        # tarfile has no zstd before Python 3.14's compression.zstd; use the zstd CLI.
        import io
        import subprocess

        with open(path, "rb") as f:  # via stdin: zstd skips symlinked inputs
            data = subprocess.run(["zstd", "-dc"], stdin=f, check=True, capture_output=True).stdout
        tar = tarfile.open(fileobj=io.BytesIO(data))
    else:
        tar = tarfile.open(path)
    with tar:
        return {m.name.lstrip("./"): m for m in tar.getmembers()}


def split_args(argv):
    lists, current = {"image": []}, "image"
    for arg in argv:
        if arg.startswith("--"):
            current = arg[2:]
            lists[current] = []
        else:
            lists[current].extend(arg.split(" "))
    return lists


def in_image_order(paths, layout):
    """$(rlocationpaths) sorts; the image's manifest has the real layer order."""
    import hashlib
    import json

    def sha256(path):
        with open(os.path.join(RUNFILES, path), "rb") as f:
            return "sha256:" + hashlib.sha256(f.read()).hexdigest()

    layout = os.path.join(RUNFILES, layout)
    with open(os.path.join(layout, "index.json")) as f:
        digest = json.load(f)["manifests"][0]["digest"]
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":")[1])) as f:
        order = [layer["digest"] for layer in json.load(f)["layers"]]
    by_digest = {sha256(p): p for p in paths}
    return [by_digest[d] for d in order if d in by_digest]


ARGS = split_args(sys.argv[1:])
IMAGE = in_image_order(ARGS["image"], ARGS["layout"][0])
GROUPED, SPLIT = ARGS["grouped"], ARGS["split"]


def names_of(paths):
    return [os.path.basename(p).split(".")[0] for p in paths]


def layer(paths, name):
    found = [p for p in paths if os.path.basename(p).startswith(name + ".")]
    if len(found) != 1:
        raise AssertionError("expected one %s layer in %s" % (name, paths))
    return members(found[0])


class LayersTest(unittest.TestCase):
    def test_layer_order(self):
        # as oci_image stacked them
        self.assertEqual(names_of(IMAGE), ["python", "deps", "app"])

    def test_no_file_in_two_layers(self):
        seen = {}
        for path in IMAGE:
            for name, m in members(path).items():
                if m.isdir():
                    continue
                self.assertNotIn(name, seen, "%s in %s and %s" % (name, seen.get(name), path))
                seen[name] = path

    def test_app_layer(self):
        app = layer(IMAGE, "app")
        self.assertIn("app/hello", app)
        self.assertTrue(app["app/hello"].mode & 0o111, "launcher must be executable")
        self.assertIn("app/hello.runfiles/_repo_mapping", app)
        self.assertIn("app/hello.runfiles/_main/hello.py", app)
        for m in app.values():
            self.assertEqual((m.uid, m.gid, m.mtime, m.uname, m.gname), (0, 0, 0, "", ""), m.name)

    def test_deps_layer_has_six(self):
        deps = layer(IMAGE, "deps")
        self.assertTrue(any(n.endswith("site-packages/six.py") for n in deps), sorted(deps)[:20])
        self.assertFalse(any("__pycache__" in n for n in deps))

    def test_python_layer_has_interpreter_and_stdlib(self):
        python = layer(IMAGE, "python")
        self.assertTrue(any(n.endswith("/bin/python3") for n in python))
        self.assertTrue(any(n.endswith("/os.py") for n in python))
        self.assertFalse(any("/test/" in n for n in python))

    def test_group_layer(self):
        # six was the only other external repository, so no deps layer is left;
        # a pattern (`groups`), a label (`group_targets`) and a pattern through
        # py_image with another name of the hub select the same files
        for layers in (GROUPED, ARGS["grouped_by_label"], ARGS["grouped_image"]):
            self.assertEqual(sorted(names_of(layers)), ["app", "python", "six"], layers)
            six = layer(layers, "six")
            self.assertTrue(any(n.endswith("site-packages/six.py") for n in six), layers)


    def test_external_repositories_linked(self):
        self.check_linked(IMAGE, "hello")

    def test_shared_layers(self):
        a, b = ARGS["shared_a"], ARGS["shared_b"]
        self.assertEqual(sorted(names_of(a)), ["app", "deps", "python"], a)
        # The stack's own files, in both: written once, not per binary.
        not_app = lambda paths: sorted(p for p in paths if names_of([p]) != ["app"])
        self.assertEqual(not_app(a), not_app(b))
        self.assertTrue(all("/stack/" in p for p in not_app(a)), a)
        self.assertNotEqual(layer(a, "app").keys(), layer(b, "app").keys())
        self.check_linked(a, "hello")
        self.check_linked(b, "hello_twin")

    def check_linked(self, layers, binary):
        # The python and deps layers hold their repositories below app/external/,
        # whatever the binary is called; the runfiles directory links to them.
        app = layer(layers, "app")
        repos = set()
        for name in ("python", "deps"):
            for path in layer(layers, name):
                self.assertTrue(path == "app" or path.startswith("app/external"), path)
                parts = path.split("/")
                if len(parts) > 2:
                    repos.add(parts[2])
        self.assertTrue(repos)
        for repo in repos:
            link = app.get("app/{}.runfiles/{}".format(binary, repo))
            self.assertIsNotNone(link, repo)
            self.assertTrue(link.issym(), repo)
            self.assertEqual(link.linkname, "../external/" + repo)
        # GNU tar unpacks the layers; six is reached through the runfiles directory.
        import subprocess
        import tempfile

        with tempfile.TemporaryDirectory() as out:
            for path in layers:
                subprocess.run(["tar", "-xf", os.path.join(RUNFILES, path), "-C", out], check=True)
            found = [
                os.path.join(d, f)
                for d, _, files in os.walk(os.path.join(out, "app/{}.runfiles".format(binary)), followlinks=True)
                for f in files
                if f == "six.py"
            ]
            # A venv-based binary (rules_python >= 1.x with venvs_site_packages)
            # also reaches six.py through its venv's site-packages link: count
            # files, not paths, and each must be the one in the external layer.
            real = {os.path.realpath(p) for p in found}
            self.assertEqual(len(real), 1, found)
            external = os.path.realpath(os.path.join(out, "app/external"))
            self.assertTrue(next(iter(real)).startswith(external + os.sep), real)

    def test_symlinks_preserved(self):
        app = layer(IMAGE, "app")
        runfiles = "app/hello.runfiles/"
        links = {
            # runfiles.symlinks: relative to the target's in-image path
            "_main/data/alias.txt": "real.txt",
            # runfiles.root_symlinks
            "root_alias.txt": "_main/data/real.txt",
            # ctx.actions.declare_symlink: the link text as declared
            "_main/links/current": "../data/real.txt",
        }
        for name, target in links.items():
            m = app.get(runfiles + name)
            self.assertIsNotNone(m, name)
            self.assertTrue(m.issym(), "%s is not a symlink" % name)
            self.assertEqual(m.linkname, target, name)
        self.assertTrue(app[runfiles + "_main/data/real.txt"].isfile())
        # GNU tar unpacks them and they resolve to the file's content.
        import subprocess
        import tempfile

        path = [p for p in IMAGE if os.path.basename(p).startswith("app.")][0]
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(["tar", "-xzf", os.path.join(RUNFILES, path), "-C", out], check=True)
            for name in links:
                with open(os.path.join(out, runfiles + name)) as f:
                    self.assertEqual(f.read(), "the real file\n", name)

    def test_split_deps_zstd(self):
        names = names_of(SPLIT)
        deps = [n for n in names if n not in ("python", "app")]
        self.assertEqual(len(deps), len(names) - 2, names)
        self.assertTrue(deps and all(n.startswith("deps_") for n in deps), names)
        self.assertTrue(all(p.endswith(".tar.zst") for p in SPLIT), SPLIT)
        six = [n for n in deps if n.endswith("six")]
        self.assertEqual(len(six), 1, deps)
        self.assertTrue(any(n.endswith("site-packages/six.py") for n in layer(SPLIT, six[0])))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
