#!/usr/bin/env python3
"""Writes tools/prebuilt_tools.bzl, the pinned table of prebuilt tools, from
the checksum files dev/release/build_tools.sh writes.

    write_prebuilt_table.py --url-prefix URL --output FILE [--platforms P,...] CHECKSUM_FILE...

Each CHECKSUM_FILE is `<tool>-<platform>.sha256`, one `sha256sum` line for the
asset `<tool>-<platform>`; the asset's URL is URL/<tool>-<platform>. Every
platform of --platforms (default: all of rules/private/prebuilt_platforms.bzl)
must have every tool, and nothing else may be given. On any error: a message
naming the file and the fix, exit status 1, FILE untouched.
"""

import argparse
import ast
import os
import re
import sys
import tempfile
from pathlib import Path

PLATFORMS_BZL = Path(__file__).parent.parent.parent / "rules" / "private" / "prebuilt_platforms.bzl"


class TableError(Exception):
    pass


def read_platforms(path=PLATFORMS_BZL):
    """PREBUILT_PLATFORMS keys and PREBUILT_TOOL_NAMES from the .bzl file."""
    values = {}
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return sorted(values["PREBUILT_PLATFORMS"]), list(values["PREBUILT_TOOL_NAMES"])


def read_checksums(files, platforms, tools):
    table = {}
    for name in files:
        path = Path(name)
        asset = path.name.removesuffix(".sha256")
        if asset == path.name:
            raise TableError(f"{name}: not a checksum file: name it <tool>-<platform>.sha256")
        tool, _, platform = asset.rpartition("-")
        if tool not in tools or platform not in platforms:
            raise TableError(
                f"{name}: '{asset}' is not <tool>-<platform> for a tool of {', '.join(tools)} "
                f"and a platform of {', '.join(platforms)} (--platforms)"
            )
        try:
            text = path.read_text()
        except OSError as e:
            raise TableError(f"{name}: cannot read it: {e.strerror}") from e
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](\S+)\n?", text)
        if not m:
            raise TableError(f"{name}: expected one line '<64 lowercase hex digits>  {asset}' (sha256sum's output)")
        if m.group(2) != asset:
            raise TableError(f"{name}: the checksum is for '{m.group(2)}', not '{asset}'")
        if tool in table.setdefault(platform, {}):
            raise TableError(f"{name}: a second checksum file for {asset}")
        table[platform][tool] = m.group(1)
    for platform in platforms:
        missing = [t for t in tools if t not in table.get(platform, {})]
        if missing:
            raise TableError(
                f"no checksum file for {', '.join(f'{t}-{platform}' for t in missing)}: "
                "build every platform (dev/release/build_tools.sh) or leave it out of --platforms"
            )
    return table


def render(table, url_prefix):
    lines = [
        '"""The pinned table of prebuilt tools: platform -> tool -> {"url", "sha256"}.',
        "",
        "Written by dev/release/write_prebuilt_table.py from the release's checksum files.",
        '"""',
        "",
        "PREBUILT_TOOLS = {",
    ]
    for platform in sorted(table):
        lines.append(f'    "{platform}": {{')
        for tool in sorted(table[platform]):
            lines += [
                f'        "{tool}": {{',
                f'            "sha256": "{table[platform][tool]}",',
                f'            "url": "{url_prefix}/{tool}-{platform}",',
                "        },",
            ]
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None):
    known, tools = read_platforms()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url-prefix", required=True, help="where the assets are, e.g. https://github.com/OWNER/REPO/releases/download/TAG")
    parser.add_argument("--output", required=True, help="the table to write, e.g. tools/prebuilt_tools.bzl")
    parser.add_argument("--platforms", default=",".join(known), help="comma-separated platforms the table covers (default: all)")
    parser.add_argument("checksums", nargs="+", metavar="CHECKSUM_FILE")
    args = parser.parse_args(argv)
    try:
        platforms = args.platforms.split(",")
        unknown = [p for p in platforms if p not in known]
        if unknown:
            raise TableError(f"--platforms: unknown {', '.join(unknown)}; known: {', '.join(known)}")
        prefix = args.url_prefix.rstrip("/")
        if not re.fullmatch(r"(https|file)://[^\s\"\\]+", prefix):
            raise TableError(f"--url-prefix {args.url_prefix!r}: give an https:// (or file://) URL without quotes, backslashes or spaces")
        table = read_checksums(args.checksums, platforms, tools)
        write_atomically(args.output, render(table, prefix))
    except TableError as e:
        print(f"write_prebuilt_table.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
