"""Reads the smoke image's layers with tarfile and checks the split."""

import os
import sys
import tarfile
import unittest

RUNFILES = os.environ.get("RUNFILES_DIR") or os.path.abspath(sys.argv[0] + ".runfiles")


def members(path):
    with tarfile.open(os.path.join(RUNFILES, path)) as tar:
        return {m.name.lstrip("./"): m for m in tar.getmembers()}


def split_args(argv):
    image, grouped, target = [], [], None
    for arg in argv:
        if arg == "--grouped":
            target = grouped
        else:
            (grouped if target is grouped else image).extend(arg.split(" "))
    return image, grouped


IMAGE, GROUPED = split_args(sys.argv[1:])


def layer(paths, name):
    found = [p for p in paths if os.path.basename(p).startswith(name + ".")]
    if len(found) != 1:
        raise AssertionError("expected one %s layer in %s" % (name, paths))
    return members(found[0])


class LayersTest(unittest.TestCase):
    def test_layer_order(self):
        names = [os.path.basename(p).split(".")[0] for p in IMAGE]
        self.assertEqual(names, ["python", "deps", "app"])

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
        names = [os.path.basename(p).split(".")[0] for p in GROUPED]
        self.assertEqual(names, ["python", "six", "deps", "app"])
        six = layer(GROUPED, "six")
        self.assertTrue(any(n.endswith("site-packages/six.py") for n in six))
        self.assertFalse(any(n.endswith("site-packages/six.py") for n in layer(GROUPED, "deps")))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
