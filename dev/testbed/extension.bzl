"""Local toolchains for the offline test bed (never used by stock Bazel).

Workspaces bring these repositories in as a dev dependency:

```starlark
testbed = use_extension("@rules_pyimage//dev/testbed:extension.bzl", "testbed", dev_dependency = True)
use_repo(testbed, "pyimage_testbed_python", "pyimage_testbed_python_arm64", "pyimage_testbed_rust")
```

(plus the base root file systems `pyimage_testbed_base`, `pyimage_testbed_base_python`
and `pyimage_testbed_base_arm64` where a workspace uses them), and
dev/testbed/testbed.bazelrc registers them with --extra_toolchains, so the
repositories are only fetched inside the test bed.
"""

def _python_build(version, cpu, origin):
    return """\
# CPython {version} of {origin} as an in-build interpreter: like a hermetic
# rules_python toolchain, its files are part of every py_binary's runfiles.
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

py_runtime(
    name = "runtime",
    files = glob(
        ["lib/python{version}/**"],
        exclude = ["**/__pycache__/**", "lib/python{version}/site-packages/**", "lib/python{version}/dist-packages/**"],
    ),
    interpreter = "bin/python3",
    python_version = "PY3",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":runtime",
)

toolchain(
    name = "toolchain",
    target_compatible_with = [
        "@platforms//os:linux",
        "@platforms//cpu:{cpu}",
        "@rules_pyimage//platforms:python_in_image",
    ],
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)
""".format(version = version, cpu = cpu, origin = origin)

def _local_python_impl(rctx):
    python = rctx.which("python3")
    if not python:
        fail("python3 not found on PATH; the test bed's provision.sh installs it")
    res = rctx.execute([python, "-c", "import sys, sysconfig; print('%d.%d' % sys.version_info[:2]); print(sysconfig.get_paths()['stdlib'])"])
    if res.return_code:
        fail("python3 did not run: " + res.stderr)
    version, stdlib = res.stdout.strip().split("\n")
    real = rctx.execute(["readlink", "-f", str(python)]).stdout.strip()

    # Symlinks into the system interpreter: Bazel copies their targets into
    # runfiles, as it would a downloaded hermetic interpreter.
    rctx.symlink(real, "bin/python3")
    rctx.symlink(stdlib, "lib/python" + version)
    rctx.file("BUILD.bazel", _python_build(version, "x86_64", "the test bed"))

_local_python = repository_rule(implementation = _local_python_impl, local = True, environ = ["PATH"])

def _unpacked_python_impl(rctx):
    root = "{}/python/{}".format(
        rctx.os.environ.get("PYIMAGE_TESTBED_CACHE", "/var/cache/rules_pyimage"),
        rctx.attr.platform,
    )
    bindir = rctx.path(root + "/usr/bin")
    if not bindir.exists:
        fail("{} is missing: run dev/testbed/provision.sh (./bazelw does) to unpack Debian's {} CPython".format(root, rctx.attr.platform))
    versions = [f.basename[len("python"):] for f in bindir.readdir() if f.basename.startswith("python3.")]
    if len(versions) != 1:
        fail("expected one python3.X in {}, found {}; delete {} and re-run dev/testbed/provision.sh".format(bindir, versions, root))
    version = versions[0]
    rctx.symlink("{}/usr/bin/python{}".format(root, version), "bin/python3")
    rctx.symlink("{}/usr/lib/python{}".format(root, version), "lib/python" + version)
    rctx.file("BUILD.bazel", _python_build(version, rctx.attr.cpu, "Debian ({}, unpacked by provision.sh)".format(rctx.attr.platform)))

# Debian's CPython for another architecture, unpacked by provision.sh: it cannot
# run here, it only goes into images for that platform.
_unpacked_python = repository_rule(
    implementation = _unpacked_python_impl,
    attrs = {
        "cpu": attr.string(mandatory = True, doc = "@platforms//cpu constraint of the interpreter."),
        "platform": attr.string(mandatory = True, doc = "Directory under $PYIMAGE_TESTBED_CACHE/python."),
    },
    local = True,
    environ = ["PYIMAGE_TESTBED_CACHE"],
)

def _local_rust_impl(rctx):
    rustc = rctx.which("rustc")
    if not rustc:
        fail("rustc not found on PATH; the test bed's provision.sh installs it")
    info = rctx.execute([rustc, "-vV"]).stdout
    triple = [line[len("host: "):] for line in info.split("\n") if line.startswith("host: ")][0].strip()
    sysroot = rctx.execute([rustc, "--print", "sysroot"]).stdout.strip()
    rctx.symlink(rustc, "bin/rustc")
    rctx.symlink(sysroot + "/bin/rustdoc", "bin/rustdoc")
    rctx.symlink(rctx.which("cargo"), "bin/cargo")
    libdir = rctx.path(sysroot + "/lib/rustlib/" + triple + "/lib")
    for f in libdir.readdir():
        rctx.symlink(f, "lib/rustlib/{}/lib/{}".format(triple, f.basename))
    cpu = triple.split("-")[0]
    rctx.file("BUILD.bazel", """\
# The test bed's rustc as a rules_rust toolchain.
load("@rules_rust//rust:toolchain.bzl", "rust_stdlib_filegroup", "rust_toolchain")

package(default_visibility = ["//visibility:public"])

filegroup(name = "rustc", srcs = ["bin/rustc"])

filegroup(name = "rustdoc", srcs = ["bin/rustdoc"])

filegroup(name = "cargo", srcs = ["bin/cargo"])

# librustc_driver and libLLVM are found by ld.so; nothing to declare.
filegroup(name = "rustc_lib", srcs = [])

rust_stdlib_filegroup(
    name = "rust_std",
    # current rustc keeps only a metadata stub in .rlib; the .rmeta files matter
    srcs = glob(["lib/rustlib/{triple}/lib/*." + ext for ext in ["rlib", "rmeta", "so", "a"]], allow_empty = True),
)

rust_toolchain(
    name = "rust_toolchain",
    binary_ext = "",
    cargo = ":cargo",
    default_edition = "2021",
    dylib_ext = ".so",
    exec_triple = "{triple}",
    rust_doc = ":rustdoc",
    rust_std = ":rust_std",
    rustc = ":rustc",
    rustc_lib = ":rustc_lib",
    staticlib_ext = ".a",
    stdlib_linkflags = ["-ldl", "-lpthread"],
    target_triple = "{triple}",
)

toolchain(
    name = "toolchain",
    exec_compatible_with = ["@platforms//os:linux", "@platforms//cpu:{cpu}"],
    target_compatible_with = ["@platforms//os:linux", "@platforms//cpu:{cpu}"],
    toolchain = ":rust_toolchain",
    toolchain_type = "@rules_rust//rust:toolchain_type",
)
""".format(triple = triple, cpu = cpu))

_local_rust = repository_rule(implementation = _local_rust_impl, local = True, environ = ["PATH"])

def _local_crane_impl(rctx):
    crane = rctx.which("crane")
    if crane == None:
        fail("crane is not on PATH: run dev/testbed/provision.sh (./bazelw does), which installs Debian's go-containerregistry")
    rctx.symlink(crane, "bin/crane")
    version = rctx.execute([crane, "version"]).stdout.strip() or "unknown"
    rctx.file("BUILD.bazel", """\
# Debian's crane as rules_oci's crane toolchain (for rules that run crane themselves).
load("@rules_oci//oci:toolchain.bzl", "crane_toolchain")

crane_toolchain(
    name = "crane",
    crane = "bin/crane",
    version = "{version}",
    visibility = ["//visibility:public"],
)

toolchain(
    name = "toolchain",
    exec_compatible_with = ["@platforms//os:linux"],
    toolchain = ":crane",
    toolchain_type = "@rules_oci//oci:crane_toolchain_type",
)
""".format(version = version))

_local_crane = repository_rule(implementation = _local_crane_impl, local = True, environ = ["PATH"])

def _base_rootfs_impl(rctx):
    tar = "{}/base/debian-sid-{}.tar.gz".format(
        rctx.os.environ.get("PYIMAGE_TESTBED_CACHE", "/var/cache/rules_pyimage"),
        rctx.attr.flavour,
    )
    if not rctx.path(tar).exists:
        fail("{} is missing: run dev/testbed/provision.sh (./bazelw does) to create the test bed's base root file system".format(tar))
    rctx.symlink(tar, "rootfs.tar.gz")
    rctx.file("BUILD.bazel", """\
# A Debian sid {flavour} root file system as one layer (made by dev/testbed/provision.sh).
exports_files(["rootfs.tar.gz"], visibility = ["//visibility:public"])
""".format(flavour = rctx.attr.flavour))

_base_rootfs = repository_rule(
    implementation = _base_rootfs_impl,
    attrs = {"flavour": attr.string(mandatory = True)},
    local = True,
    environ = ["PYIMAGE_TESTBED_CACHE"],
)

def _testbed_impl(_mctx):
    _local_python(name = "pyimage_testbed_python")
    _unpacked_python(name = "pyimage_testbed_python_arm64", cpu = "aarch64", platform = "linux-arm64")
    _local_rust(name = "pyimage_testbed_rust")
    _local_crane(name = "pyimage_testbed_crane")
    _base_rootfs(name = "pyimage_testbed_base", flavour = "minbase")
    _base_rootfs(name = "pyimage_testbed_base_python", flavour = "minbase-python")
    _base_rootfs(name = "pyimage_testbed_base_arm64", flavour = "minbase-arm64")

testbed = module_extension(
    implementation = _testbed_impl,
    doc = "The test bed's Python interpreters (local amd64, unpacked arm64), Rust compiler and crane as toolchains, and the base root file systems.",
)
