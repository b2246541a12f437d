#!/usr/bin/env python3
"""Measure what the `site-packages` strip profile removes from real wheels, and check that
nothing it removes was needed.

Downloads a pinned set of wheels (bench/wheel_strip.requirements.txt: numpy, pandas,
scipy, pillow, grpcio, lxml, cryptography, scikit-learn, matplotlib and what they import)
for the interpreter running this script (hash-checked on the CPython 3.11 x86_64 Linux
they were pinned on; elsewhere only the versions hold), installs each into a scratch
site-packages (`pip install --no-deps --no-compile --target`), and runs the real
`stripper` (cargo build --release in tools/) over each:

  1. a table per wheel: installed bytes, bytes removed by each rule of the profile, by
     `--strip-debug` on top, and for reference what a `test/` or `testing/` rule would add;
  2. an import sweep: every top-level module of every distribution (top_level.txt, else
     RECORD) and, unless --shallow, every module file left in the stripped tree, imported
     in a fresh `python -S` per distribution, first from the unstripped tree (all wheels in
     one site-packages), then from a stripped copy (profile + --strip-debug, plus any
     --exclude: a way to try a rule). Modules that fail unstripped too are counted (listed
     with --verbose) and otherwise skipped;
  3. a functional smoke test (numpy, pandas, scipy.linalg, scikit-learn, pillow, lxml,
     cryptography, matplotlib, grpc) on both trees.

Exits non-zero when something imports or runs unstripped but not stripped. Not a timing
benchmark; the table is byte counts.

Usage:
  bench/wheel_strip.py [--cache DIR] [--stripper PATH] [--shallow] [--exclude GLOB] [--verbose] [--keep]
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / "bench" / "wheel_strip.requirements.txt"
# The interpreter and machine the hashes in REQUIREMENTS are for.
HASHED_FOR = ((3, 11), "x86_64")
FEATURED = ["numpy", "pandas", "scipy", "pillow", "grpcio", "lxml", "cryptography", "scikit-learn", "matplotlib"]
PROFILE_RULES = ["site-packages:bytecode", "site-packages:record", "site-packages:package-tests"]
# Rules the profile does not have, measured for reference (what they would remove on top).
CANDIDATES = {"test/": "**/site-packages/*/**/test", "testing/": "**/site-packages/*/**/testing"}

# Imports each module named on the command line from the tree given first, in this
# process, and prints {module: null | "error"} as JSON. Run with -S -B, so neither the
# host's site-packages nor bytecode writes get in the way.
SWEEP = r"""
import importlib, json, os, site, sys, warnings
tree = os.path.realpath(sys.argv[1])
site.addsitedir(tree)
sys.path.remove(tree)
sys.path.insert(0, tree)
warnings.simplefilter("ignore")
results = {}
for name in sys.argv[2:]:
    try:
        module = importlib.import_module(name)
        where = getattr(module, "__file__", None)
        if where and not os.path.realpath(where).startswith(tree + os.sep):
            raise ImportError(f"imported from {where}, outside the tree")
        results[name] = None
    except BaseException as e:
        results[name] = f"{type(e).__name__}: {e}"[:300]
sys.stdout.flush()
os.write(1, ("\n@@SWEEP@@" + json.dumps(results)).encode())
os._exit(0)
"""

SMOKE = r"""
import os, site, sys
tree = os.path.realpath(sys.argv[1])
site.addsitedir(tree)
sys.path.remove(tree)
sys.path.insert(0, tree)
import io
import numpy as np
a = np.arange(12.0).reshape(3, 4)
assert float((a @ a.T).trace()) == 506.0
import pandas as pd
df = pd.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})
assert df.groupby("k")["v"].sum().to_dict() == {"a": 4, "b": 2}
import scipy.linalg
m = np.array([[4.0, 1.0], [1.0, 3.0]])
assert np.allclose(scipy.linalg.solve(m, [1.0, 2.0]) @ m, [1.0, 2.0])
assert np.allclose(scipy.linalg.cho_factor(m)[0][0, 0], 2.0)
from sklearn.linear_model import LinearRegression
fit = LinearRegression().fit(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
assert abs(fit.coef_[0] - 2.0) < 1e-9
from PIL import Image
buf = io.BytesIO()
Image.new("RGB", (8, 8), (255, 0, 0)).save(buf, "PNG")
assert Image.open(io.BytesIO(buf.getvalue())).getpixel((3, 3)) == (255, 0, 0)
from lxml import etree
assert etree.fromstring("<a><b>x</b></a>").findtext("b") == "x"
from cryptography.hazmat.primitives import hashes
h = hashes.Hash(hashes.SHA256())
h.update(b"abc")
assert h.finalize().hex().startswith("ba7816bf")
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
png = io.BytesIO()
fig.savefig(png, format="png")
assert png.getvalue()[:4] == b"\x89PNG"
import grpc
assert grpc.insecure_channel("localhost:1") is not None
print("smoke ok")
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build_stripper() -> Path:
    log("building stripper (release)")
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "stripper"], cwd=REPO / "tools", check=True)
    return REPO / "tools" / "target" / "release" / "stripper"


def pins():
    """[(name, version)] of REQUIREMENTS, in file order."""
    found = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", REQUIREMENTS.read_text(), re.M)
    return [(name, version) for name, version in found]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def download(cache: Path) -> dict:
    """Downloads the pinned wheels for this interpreter; {canonical name: wheel path}."""
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}-{platform.machine()}"
    wheels = cache / "wheels" / tag
    wheels.mkdir(parents=True, exist_ok=True)
    requirements = REQUIREMENTS
    if (sys.version_info[:2], platform.machine()) != HASHED_FOR or not sys.platform.startswith("linux"):
        log(f"warning: the hashes are for CPython {HASHED_FOR[0][0]}.{HASHED_FOR[0][1]} on {HASHED_FOR[1]} "
            f"Linux; this is {tag} on {sys.platform}: keeping the versions, not checking hashes")
        requirements = wheels / "requirements.nohash.txt"
        requirements.write_text("".join(f"{n}=={v}\n" for n, v in pins()))
    log(f"downloading wheels into {wheels}")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--only-binary=:all:",
         "--no-deps", "-d", str(wheels), "-r", str(requirements)]
        + (["--require-hashes"] if requirements == REQUIREMENTS else []),
        check=True,
    )
    found = {}
    for name, version in pins():
        matches = [w for w in wheels.glob("*.whl")
                   if canonical(w.name.split("-")[0]) == canonical(name) and w.name.split("-")[1] == version]
        if len(matches) != 1:
            sys.exit(f"expected one wheel of {name}=={version} in {wheels}, found {len(matches)}")
        found[canonical(name)] = matches[0]
    return found


def install(wheels, target: Path):
    """Installs wheels (no dependencies, no bytecode) into target/site-packages."""
    site_packages = target / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--root-user-action=ignore", "--no-deps", "--no-index",
         "--no-compile", "--no-warn-script-location", "--target", str(site_packages), *map(str, wheels)],
        check=True,
    )
    return site_packages


def tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        total += sum(os.lstat(os.path.join(dirpath, f)).st_size for f in files)
    return total


def run_stripper(stripper: Path, root: Path, *flags) -> dict:
    """Runs stripper and parses its table: {rule: bytes, "strip-debug": bytes, "kept": bytes}."""
    res = subprocess.run([str(stripper), *flags, str(root)], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"stripper {' '.join(flags)} {root} failed:\n{res.stderr}")
    out = {"strip-debug": 0}
    for line in res.stdout.splitlines():
        if m := re.match(r"^(\S+:\S+)\s+(\d+)\s+(\d+)$", line):
            out[m.group(1)] = int(m.group(3))
        elif m := re.match(r"^strip-debug: .*?, (\d+) bytes saved", line):
            out["strip-debug"] = int(m.group(1))
        elif m := re.match(r"^kept: (\d+) files, (\d+) bytes$", line):
            out["kept"] = int(m.group(2))
    missing = [r for r in PROFILE_RULES if r not in out]
    if missing or "kept" not in out:
        raise RuntimeError(f"cannot read stripper's table (missing {missing or 'kept'}):\n{res.stdout}")
    return out


def measure(stripper: Path, root: Path) -> dict:
    profile = ["--profile", "site-packages", "--dry-run"]
    plain = run_stripper(stripper, root, *profile)
    debug = run_stripper(stripper, root, *profile, "--strip-debug")
    extra = []
    for glob in CANDIDATES.values():
        extra += ["--exclude", glob]
    candidates = run_stripper(stripper, root, *profile, *extra)
    row = {"installed": tree_bytes(root)}
    row.update({rule: plain[rule] for rule in PROFILE_RULES})
    row["profile"] = sum(plain[rule] for rule in PROFILE_RULES)
    row["strip-debug"] = debug["strip-debug"]
    row["kept"] = debug["kept"]
    for label, glob in CANDIDATES.items():
        row[label] = candidates[f"exclude:{glob}"]
    return row


def mb(n: int) -> str:
    return f"{n / 1e6:.2f}"


def render(rows: dict, versions: dict) -> str:
    cols = ["installed", *PROFILE_RULES, "profile", "strip-debug", "kept", *CANDIDATES]
    heads = ["installed MB", "bytecode", "RECORD", "package-tests", "profile total", "profile %",
             "+ strip-debug", "kept MB", "total %", *(f"({c} would add)" for c in CANDIDATES)]
    lines = [
        "| distribution | " + " | ".join(heads) + " |",
        "|---|" + "---:|" * len(heads),
    ]
    order = sorted(rows, key=lambda d: (d not in FEATURED, -rows[d]["installed"]))
    total = {c: sum(r[c] for r in rows.values()) for c in cols}
    for name, row in [*((d, rows[d]) for d in order), ("total", total)]:
        label = f"{name} {versions[name]}" if name in versions else f"**{name}**"
        inst = max(row["installed"], 1)
        cells = [mb(row["installed"]), *(mb(row[r]) for r in PROFILE_RULES), mb(row["profile"]),
                 f"{100 * row['profile'] / inst:.0f}%", mb(row["strip-debug"]), mb(row["kept"]),
                 f"{100 * (1 - row['kept'] / inst):.0f}%", *(mb(row[c]) for c in CANDIDATES)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def top_level(site_packages: Path, dist_info: Path):
    """A distribution's top-level import names: top_level.txt, else RECORD's first components."""
    listed = dist_info / "top_level.txt"
    if listed.exists():
        names = listed.read_text().split()
    else:
        names = []
        record = dist_info / "RECORD"
        for line in record.read_text().splitlines() if record.exists() else []:
            first = line.split(",")[0].split("/")[0]
            if first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
                continue
            names.append(first.split(".")[0] if first.endswith((".py", ".so")) else first)
    names = [n.replace("/", ".") for n in names]
    present = [n for n in dict.fromkeys(names) if n.isidentifier() and (
        (site_packages / n).is_dir() or any(site_packages.glob(f"{n}.py")) or any(site_packages.glob(f"{n}.*.so"))
        or any(site_packages.glob(f"{n}.so")))]
    return present


def submodules(site_packages: Path, top: str):
    """Every module file below package `top` in the tree, as dotted names."""
    base = site_packages / top
    if not base.is_dir():
        return []
    names = []
    for dirpath, dirs, files in os.walk(base):
        rel = Path(dirpath).relative_to(site_packages)
        parts = rel.parts
        if not all(p.isidentifier() for p in parts):
            dirs[:] = []
            continue
        dirs.sort()
        for f in sorted(files):
            stem = f.split(".")[0]
            if not (f.endswith(".py") or f.endswith(".so")) or not stem.isidentifier():
                continue
            if stem in ("__init__", "__main__"):
                continue
            names.append(".".join([*parts, stem]))
    return names


def sweep(tree: Path, modules, env, cwd) -> dict:
    try:
        res = subprocess.run(
            [sys.executable, "-S", "-B", "-c", SWEEP, str(tree), *modules],
            capture_output=True, text=True, env=env, cwd=cwd, timeout=1800,
        )
    except subprocess.TimeoutExpired:
        return {m: "timed out" for m in modules}
    marker = res.stdout.rfind("\n@@SWEEP@@")
    if marker < 0:
        return {m: f"interpreter died (exit {res.returncode}): {res.stderr[-300:]}" for m in modules}
    return json.loads(res.stdout[marker + len("\n@@SWEEP@@"):])


def import_sweep(unstripped: Path, stripped: Path, deep: bool, scratch: Path, verbose: bool):
    env = dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=str(scratch / "mpl"), PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    regressions, lines = [], []
    totals = [0, 0, 0]
    for dist_info in sorted(unstripped.glob("*.dist-info")):
        dist = canonical(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        tops = top_level(unstripped, dist_info)
        modules = list(tops)
        if deep:
            for top in tops:
                modules += submodules(stripped, top)
        before = sweep(unstripped, modules, env, scratch)
        after = sweep(stripped, modules, env, scratch)
        broken_before = {m for m, err in before.items() if err}
        lost = sorted(m for m, err in after.items() if err and m not in broken_before)
        top_fail = [m for m in tops if before.get(m)]
        totals = [totals[0] + len(modules), totals[1] + len(broken_before), totals[2] + len(lost)]
        lines.append(
            f"{dist:<18} {','.join(tops) or '-':<31} modules {len(modules):>4}  "
            f"fail unstripped too {len(broken_before):>3}  fail only stripped {len(lost):>2}"
            + (f"  (top-level failing unstripped: {','.join(top_fail)})" if top_fail else "")
        )
        if verbose:
            lines += [f"    fails unstripped too: {m}: {before[m]}" for m in sorted(broken_before)]
        for m in lost:
            regressions.append(f"{dist}: {m}: {after[m]}")
        if not tops:
            regressions.append(f"{dist}: no top-level module found to import")
    lines.append(f"{'total':<18} {'':<31} modules {totals[0]:>4}  "
                 f"fail unstripped too {totals[1]:>3}  fail only stripped {totals[2]:>2}")
    return lines, regressions


def smoke(tree: Path, scratch: Path):
    env = dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=str(scratch / "mpl"), PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    res = subprocess.run([sys.executable, "-S", "-B", "-c", SMOKE, str(tree)], capture_output=True, text=True,
                         env=env, cwd=scratch)
    return res.returncode == 0, (res.stdout + res.stderr).strip().splitlines()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pyimage-bench")
    parser.add_argument("--stripper", type=Path, help="a built stripper (default: cargo build --release)")
    parser.add_argument("--shallow", action="store_true", help="import top-level modules only")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="also strip GLOB from the tree the sweep imports (to try a rule); repeatable")
    parser.add_argument("--verbose", action="store_true", help="list the modules that fail unstripped too")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print its path")
    args = parser.parse_args()

    stripper = args.stripper or build_stripper()
    wheels = download(args.cache)
    versions = dict((canonical(n), v) for n, v in pins())
    scratch = Path(tempfile.mkdtemp(prefix="wheel-strip-"))
    failures = []
    try:
        rows = {}
        for name, wheel in wheels.items():
            log(f"installing and measuring {name}")
            root = scratch / "each" / name
            install([wheel], root)
            rows[name] = measure(stripper, root)
            shutil.rmtree(root)
        print(f"{datetime.date.today()}: CPython {platform.python_version()} ({sys.executable}), "
              f"{platform.machine()}; stripper --profile site-packages --dry-run; MB = 10^6 bytes\n")
        print(render(rows, versions))
        print()

        log("installing every wheel into one site-packages and stripping a copy")
        unstripped = install(wheels.values(), scratch / "unstripped")
        excludes = [flag for glob in args.exclude for flag in ("--exclude", glob)]
        subprocess.run([str(stripper), "--profile", "site-packages", "--strip-debug", *excludes, "--output-dir",
                        str(scratch / "stripped"), str(scratch / "unstripped")], check=True,
                       stdout=subprocess.DEVNULL)
        stripped = scratch / "stripped" / "site-packages"

        log("import sweep (one interpreter per distribution and tree)")
        lines, regressions = import_sweep(unstripped, stripped, not args.shallow, scratch, args.verbose)
        print(f"import sweep ({'top-level modules' if args.shallow else 'top-level and every module file left'}; "
              f"stripped = profile + --strip-debug{''.join(' --exclude ' + g for g in args.exclude)}):")
        print("\n".join(lines))
        failures += regressions

        ok_before, out_before = smoke(unstripped, scratch)
        ok_after, out_after = smoke(stripped, scratch)
        print()
        for label, ok, out in [("unstripped", ok_before, out_before), ("stripped", ok_after, out_after)]:
            print(f"smoke test, {label}: {'ok' if ok else 'FAILED'}")
            if not ok:
                print("\n".join(f"  {line}" for line in out[-6:]))
        if ok_before and not ok_after:
            failures.append(f"smoke test passes unstripped, fails stripped: {out_after[-1:]}")
    finally:
        if args.keep:
            log(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        print("\nFAILED: works unstripped, not stripped:")
        print("\n".join(f"  {f}" for f in failures))
        sys.exit(1)
    print("\nnothing that imports or runs unstripped fails stripped")


if __name__ == "__main__":
    main()
