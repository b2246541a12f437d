"""Runs write_prebuilt_table.py on fake checksum files and reads the table it
writes back as Starlark literals (Python's ast): every platform and tool with
its URL and checksum; and each bad input refused with a message, exit status 1
and no table written."""

import ast
import hashlib
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).parent
SCRIPT = HERE / "write_prebuilt_table.py"
PLATFORMS = ["linux_aarch64", "linux_x86_64", "macos_arm64", "macos_x86_64"]
TOOLS = ["layer-splitter", "pyimage-meta"]
PREFIX = "https://github.com/acme/rules_pyimage/releases/download/v1.2.3"


def fake_sha(asset):
    return hashlib.sha256(asset.encode()).hexdigest()


def load_table(path):
    """PREBUILT_TOOLS of a .bzl file holding only literals."""
    tree = ast.parse(path.read_text())
    assigns = [n for n in tree.body if isinstance(n, ast.Assign)]
    assert [a.targets[0].id for a in assigns] == ["PREBUILT_TOOLS"], "the table assigns PREBUILT_TOOLS only"
    return ast.literal_eval(assigns[0].value)


class WriteTableTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.out = self.tmp / "prebuilt_tools.bzl"

    def checksum(self, tool, platform, line=None):
        asset = f"{tool}-{platform}"
        path = self.tmp / f"{asset}.sha256"
        path.write_text(line if line is not None else f"{fake_sha(asset)}  {asset}\n")
        return str(path)

    def all_files(self, platforms=PLATFORMS):
        return [self.checksum(t, p) for p in platforms for t in TOOLS]

    def run_script(self, *args):
        return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)

    def test_all_platforms(self):
        r = self.run_script("--url-prefix", PREFIX + "/", "--output", str(self.out), *self.all_files())
        self.assertEqual(r.returncode, 0, r.stderr)
        table = load_table(self.out)
        self.assertEqual(sorted(table), PLATFORMS)
        for platform in PLATFORMS:
            self.assertEqual(sorted(table[platform]), TOOLS)
            for tool in TOOLS:
                asset = f"{tool}-{platform}"
                self.assertEqual(table[platform][tool], {"sha256": fake_sha(asset), "url": f"{PREFIX}/{asset}"})

    def test_the_same_table_from_any_order(self):
        files = self.all_files()
        self.assertEqual(self.run_script("--url-prefix", PREFIX, "--output", str(self.out), *files).returncode, 0)
        first = self.out.read_text()
        self.assertEqual(self.run_script("--url-prefix", PREFIX, "--output", str(self.out), *reversed(files)).returncode, 0)
        self.assertEqual(self.out.read_text(), first)

    def test_one_platform(self):
        r = self.run_script("--url-prefix", "file:///srv/dist", "--platforms", "linux_x86_64",
                            "--output", str(self.out), *self.all_files(["linux_x86_64"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(load_table(self.out)["linux_x86_64"]["pyimage-meta"]["url"], "file:///srv/dist/pyimage-meta-linux_x86_64")

    def refused(self, message, *args):
        r = self.run_script(*args)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(message, r.stderr)
        self.assertFalse(self.out.exists(), "no table is written on an error")
        self.assertEqual([p.name for p in self.tmp.iterdir() if p.name.startswith(".")], [], "no temporary file is left")

    def test_missing_platform(self):
        files = self.all_files(PLATFORMS[:3])
        self.refused("no checksum file for layer-splitter-macos_x86_64, pyimage-meta-macos_x86_64",
                     "--url-prefix", PREFIX, "--output", str(self.out), *files)

    def test_missing_tool(self):
        files = [f for f in self.all_files() if "pyimage-meta-linux_aarch64" not in f]
        self.refused("no checksum file for pyimage-meta-linux_aarch64", "--url-prefix", PREFIX, "--output", str(self.out), *files)

    def test_bad_checksum_line(self):
        files = self.all_files()
        files[0] = self.checksum(TOOLS[0], PLATFORMS[0], "ABC  layer-splitter-linux_aarch64\n")
        self.refused("expected one line '<64 lowercase hex digits>  layer-splitter-linux_aarch64'",
                     "--url-prefix", PREFIX, "--output", str(self.out), *files)

    def test_checksum_of_another_asset(self):
        files = self.all_files()
        files[0] = self.checksum(TOOLS[0], PLATFORMS[0], f"{fake_sha('x')}  pyimage-meta-linux_aarch64\n")
        self.refused("the checksum is for 'pyimage-meta-linux_aarch64', not 'layer-splitter-linux_aarch64'",
                     "--url-prefix", PREFIX, "--output", str(self.out), *files)

    def test_unknown_asset(self):
        extra = self.checksum("stripper", "linux_x86_64")
        self.refused("'stripper-linux_x86_64' is not <tool>-<platform>",
                     "--url-prefix", PREFIX, "--output", str(self.out), *self.all_files(), extra)

    def test_unknown_platform(self):
        self.refused("--platforms: unknown windows_x86_64", "--url-prefix", PREFIX, "--platforms", "windows_x86_64",
                     "--output", str(self.out), *self.all_files())

    def test_bad_url_prefix(self):
        self.refused("--url-prefix 'http://example.com/a\"b'", "--url-prefix", 'http://example.com/a"b',
                     "--output", str(self.out), *self.all_files())


if __name__ == "__main__":
    unittest.main()
