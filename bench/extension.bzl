"""@pyimage_bench_deps: a synthetic deps set for bench/e2e_bench.sh.

bench/synth/deps_set.txt says how many MiB (`mib=`) and which bytes (`seed=`):
files of 64 MiB, each half random bytes and half a repeated text (about 2:1
under gzip, like wheels of native code), the same on every machine for the
same seed. The repository reads that file, so Bazel fetches it again when the
file changes, as it would after a lock change (bench/e2e_bench.sh writes a new
seed for every build of a new deps set). A file rather than `--repo_env`: a
new `--repo_env` value makes Bazel evaluate every module extension again
(rules_rust's crate_universe among them, seconds), which a lock change does not.
"""

_MAKE = """
import os, random, sys
out, total, seed = sys.argv[1], int(sys.argv[2]) << 20, sys.argv[3]
chunk = 64 << 20
os.makedirs(out, exist_ok=True)
line = b"synthetic wheel contents, the compressible half\\n"
text = (line * ((1 << 20) // len(line) + 1))[: 1 << 20]
index = 0
while total > 0:
    size = min(chunk, total)
    rng = random.Random("%s/%d" % (seed, index))
    with open(os.path.join(out, "blob_%04d.bin" % index), "wb") as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            f.write(rng.randbytes(n // 2) + text[: n - n // 2])
            left -= n
    total -= size
    index += 1
"""

_DEPS_SET = Label("//bench/synth:deps_set.txt")

def _bench_deps_impl(rctx):
    settings = {}
    for line in rctx.read(_DEPS_SET).splitlines():
        key, sep, value = line.partition("=")
        if line.startswith("#") or not line.strip():
            continue
        if not sep or key not in ("mib", "seed"):
            fail("{}: '{}' is not mib=N or seed=TEXT".format(_DEPS_SET, line))
        settings[key] = value.strip()
    mb = settings.get("mib", "")
    seed = settings.get("seed", "0")
    if not mb.isdigit() or int(mb) == 0:
        fail("{}: mib={} is not a whole number of MiB greater than 0, e.g. mib=10240".format(_DEPS_SET, mb))
    rctx.report_progress("writing {} MiB of synthetic deps".format(mb))
    python = rctx.which("python3")
    if not python:
        fail("@pyimage_bench_deps needs python3 on PATH to write its files")
    result = rctx.execute([python, "-c", _MAKE, "site-packages/synthetic_blobs", mb, seed], timeout = 3600)
    if result.return_code:
        fail("@pyimage_bench_deps: writing the files failed:\n" + result.stderr)
    rctx.file("site-packages/synthetic_blobs/__init__.py", "")
    rctx.file("BUILD.bazel", """\
load("@rules_python//python:defs.bzl", "py_library")

package(default_visibility = ["//visibility:public"])

filegroup(
    name = "files",
    srcs = glob(["site-packages/**"]),
)

py_library(
    name = "deps",
    data = [":files"],
    imports = ["site-packages"],
)
""")

_bench_deps = repository_rule(
    implementation = _bench_deps_impl,
)

bench = module_extension(
    implementation = lambda _mctx: _bench_deps(name = "pyimage_bench_deps"),
    doc = "The synthetic deps set of bench/e2e_bench.sh (`@pyimage_bench_deps`).",
)
