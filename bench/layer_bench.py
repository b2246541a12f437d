#!/usr/bin/env python3
"""Benchmark layer-splitter against the usual ways of packing a Python layer.

Packs the same site-packages directory with every method, N times, and prints a table of
medians: wall time, CPU time (user + sys), peak RSS, output size, and ratios against
layer-splitter's gzip output and GNU gzip -6's size. A second table sets the CPU per MB of
tar against each codec alone on the layer's own tar bytes (tools/pyimage/examples/
raw_codecs.rs: libdeflate over the same 1 MiB blocks, the final-block scan, libzstd with
the same parameters, SHA-256). Not a test: it never fails on timings.

Inputs are installed from PyPI into a cache directory on first use:
  (a) "sp":    numpy pandas scipy flask requests sqlalchemy   (~300 MB)
  (b) "torch": the torch wheel alone, --no-deps                 (~1.2 GB)

Usage:
  bench/layer_bench.py [--runs 3] [--inputs sp,torch] [--cache DIR] [--splitter PATH]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INPUTS = {
    "sp": ["numpy", "pandas", "scipy", "flask", "requests", "sqlalchemy"],
    "torch": ["torch"],
}
TOOLS = {"tar": "tar", "gzip": "gzip", "pigz": "pigz", "zstd": "zstd", "bsdtar": "libarchive-tools"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def ensure_tools():
    missing = [pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None]
    if not Path("/usr/bin/time").exists():
        missing.append("time")
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"installing {' '.join(missing)} with apt-get")
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)
    else:
        sys.exit(f"missing tools; install the packages: {' '.join(missing)}")


def ensure_input(cache: Path, name: str) -> Path:
    target = cache / f"{name}-site"
    done = target / ".complete"
    if done.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    log(f"installing input {name!r} into {target}")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--target", str(target)]
    if name == "torch":
        cmd.append("--no-deps")
    subprocess.run(cmd + INPUTS[name], check=True)
    done.touch()
    return target


def build_splitter() -> Path:
    log("building layer-splitter (release)")
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "layer-splitter"], cwd=REPO / "tools", check=True)
    return REPO / "tools" / "target" / "release" / "layer-splitter"


def build_raw_codecs() -> Path:
    log("building the raw codec stages (release)")
    subprocess.run(["cargo", "build", "--release", "-q", "--example", "raw_codecs"], cwd=REPO / "tools", check=True)
    return REPO / "tools" / "target" / "release" / "examples" / "raw_codecs"


def raw_stages(raw_codecs: Path, splitter: Path, manifest: Path, runs: int, scratch: Path):
    """Median {stage: (wall, cpu, output bytes)} of each codec stage alone over the layer's
    own tar bytes (layer-splitter --compression none), and the tar's size."""
    tar = scratch / "layer.tar"
    subprocess.run(
        [str(splitter), "--manifest", str(manifest), "--output", str(tar), "--descriptor", str(tar) + ".json",
         "--compression", "none"],
        check=True,
    )
    samples = {}
    for _ in range(runs):
        out = subprocess.run([str(raw_codecs), str(tar)], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            name, wall, cpu, _per_byte, size = line.split("\t")
            samples.setdefault(name, []).append((float(wall), float(cpu), int(size)))
    size = tar.stat().st_size
    tar.unlink()
    med = {name: tuple(statistics.median(r[i] for r in rs) for i in range(3)) for name, rs in samples.items()}
    return med, size


def render_cpu(name: str, raw, tar_size: int, results, runs: int):
    """CPU per MB of tar: layer-splitter against its codec alone, on the same tar bytes."""
    med = {label: statistics.median(r[1] for r in rs) for label, rs in results.items()}

    def per_mb(cpu):  # CPU ms per MB of tar
        return cpu / (tar_size / 1e6) * 1000

    deflate, scan = raw["libdeflate"][1], raw["final-block scan"][1]
    rows = [
        ("raw libdeflate over every byte, 1 MiB blocks", deflate, None),
        ("raw libdeflate + final-block scan", deflate + scan, None),
        ("layer-splitter's gzip writer in memory (stored segments, scan, CRC, digests)",
         raw["layer-splitter gzip in memory"][1], deflate),
        ("layer-splitter gzip (whole run: files, tar, writes)", med["layer-splitter gzip"], deflate),
        ("tar \\| pigz -6", med["tar | pigz -6"], deflate),
        ("raw libzstd -3, layer-splitter's job size", raw["libzstd"][1], None),
        ("layer-splitter's zstd writer in memory (digests)", raw["layer-splitter zstd in memory"][1],
         raw["libzstd"][1]),
        ("layer-splitter zstd (whole run)", med["layer-splitter zstd"], raw["libzstd"][1]),
        ("tar \\| zstd -3 -T0", med["tar | zstd -3 -T0"], raw["libzstd"][1]),
        ("SHA-256 of the tar alone", raw["sha256"][1], None),
    ]
    lines = [
        f"input {name}: CPU per MB of the layer's tar ({tar_size / 1e6:.0f} MB), median of {runs} runs",
        "",
        "| stage or method | CPU s | CPU ms per MB | vs its codec alone |",
        "|---|---:|---:|---:|",
    ]
    for label, cpu, codec in rows:
        ratio = f"{cpu / codec:.2f}x" if codec else ""
        lines.append(f"| {label} | {cpu:.2f} | {per_mb(cpu):.2f} | {ratio} |")
    return "\n".join(lines)


def methods(splitter: Path, manifest: Path, parent: Path, name: str):
    """(label, shell command writing $OUT) for every method."""
    ls = f"{splitter} --manifest {manifest} --output $OUT --descriptor $OUT.json"
    tar = f"tar -cf - -C {parent} {name}"
    py = (
        f"{sys.executable} -c \"import tarfile,sys; t=tarfile.open(sys.argv[1],'w:gz',compresslevel=6); "
        f"t.add(sys.argv[2], arcname='{name}'); t.close()\" $OUT {parent / name}"
    )
    return [
        ("layer-splitter gzip", ls),
        ("layer-splitter gzip --level 6", f"{ls} --level 6"),
        ("layer-splitter zstd", f"{ls} --compression zstd"),
        ("tar | gzip -6", f"{tar} | gzip -6 > $OUT"),
        ("tar | pigz -6", f"{tar} | pigz -6 > $OUT"),
        ("tar | zstd -3 -T0", f"{tar} | zstd -q -3 -T0 > $OUT"),
        ("bsdtar -czf", f"bsdtar -czf $OUT -C {parent} {name}"),
        ("python tarfile gz", py),
    ]


def measure(cmd: str, out: Path):
    env = dict(os.environ, OUT=str(out))
    res = subprocess.run(
        ["/usr/bin/time", "-v", "sh", "-c", cmd], env=env, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {res.stderr[-2000:]}")
    text = res.stderr

    def field(pattern):
        return re.search(pattern, text).group(1)

    wall = field(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)")
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    cpu = float(field(r"User time \(seconds\): (\S+)")) + float(field(r"System time \(seconds\): (\S+)"))
    rss = int(field(r"Maximum resident set size \(kbytes\): (\d+)"))
    return seconds, cpu, rss, out.stat().st_size


def write_manifest(site: Path, scratch: Path) -> Path:
    manifest = scratch / "manifest.txt"
    manifest.write_text(f"tree\tsite-packages\t{site}\n")
    return manifest


def bench_input(splitter: Path, site: Path, runs: int, scratch: Path):
    manifest = write_manifest(site, scratch)
    # Warm the page cache so every method reads from memory.
    subprocess.run(["tar", "-cf", "/dev/null", "-C", str(site.parent), site.name], check=True)
    rows = methods(splitter, manifest, site.parent, site.name)
    results = {label: [] for label, _ in rows}
    for run in range(runs):
        # Round-robin, so background load spreads over every method alike.
        for label, cmd in rows:
            out = scratch / "out.blob"
            results[label].append(measure(cmd, out))
            log(f"  run {run + 1}/{runs} {label}: {results[label][-1][0]:.2f} s")
            out.unlink()
    return results


def render(name: str, size_in: int, results, runs: int):
    med = {
        label: tuple(statistics.median(r[i] for r in rs) for i in range(4)) for label, rs in results.items()
    }
    base_wall, base_cpu = med["layer-splitter gzip"][:2]
    ref_size = med["tar | gzip -6"][3]
    lines = [
        f"input {name}: {size_in / 1e6:.0f} MB, median of {runs} runs",
        "",
        "| method | wall s | wall vs layer-splitter gzip | CPU s | CPU vs layer-splitter gzip "
        "| peak RSS MB | output MB | size vs gzip -6 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, (wall, cpu, rss, size) in med.items():
        shown = label.replace("|", "\\|")
        lines.append(
            f"| {shown} | {wall:.2f} | {wall / base_wall:.2f}x | {cpu:.2f} | {cpu / base_cpu:.2f}x "
            f"| {rss / 1024:.0f} | {size / 1e6:.1f} | {100 * (size / ref_size - 1):+.2f}% |"
        )
    return "\n".join(lines)


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per method (median reported)")
    parser.add_argument("--inputs", default="sp,torch", help="comma-separated: sp, torch")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pyimage-bench")
    parser.add_argument("--splitter", type=Path, help="a built layer-splitter (default: cargo build --release)")
    args = parser.parse_args()

    ensure_tools()
    splitter = args.splitter or build_splitter()
    raw_codecs = build_raw_codecs()
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}; layer-splitter: {splitter}\n")
    for name in args.inputs.split(","):
        site = ensure_input(args.cache, name)
        with tempfile.TemporaryDirectory(prefix="layer-bench-") as scratch:
            results = bench_input(splitter, site, args.runs, Path(scratch))
            raw, tar_size = raw_stages(raw_codecs, splitter, write_manifest(site, Path(scratch)), args.runs,
                                       Path(scratch))
        print(render(name, tree_size(site), results, args.runs))
        print()
        print(render_cpu(name, raw, tar_size, results, args.runs))
        print(flush=True)


if __name__ == "__main__":
    main()
