"""One part of a py_binary's runfiles as a rules_pkg mapping, for the bench's pkg_tar variants.

The parts are those of a seed-style image: `python` (the resolved Python toolchain's
interpreter and its files), `deps` (every other external repository's files) and `app` (the
main repository's files and the binary itself). Each file goes where the binary's runfiles
tree has it, `app/<package>/<name>.runfiles/<repository>/<path>` (py_image puts external
repositories under `/app/external/` instead; the bytes to pack are the same).
"""

load("@rules_oci//oci:defs.bzl", "oci_image", "oci_push")
load("@rules_pkg//pkg:providers.bzl", "PackageFilesInfo")
load("@rules_pkg//pkg:tar.bzl", "pkg_tar")

PARTS = ["python", "deps", "app"]

def _runfiles_path(file):
    # `../<repository>/<path>` for external files, `<path>` for the main repository's.
    if file.short_path.startswith("../"):
        return file.short_path[len("../"):]
    return "_main/" + file.short_path

def _runfiles_part_impl(ctx):
    runtime = ctx.toolchains["@bazel_tools//tools/python:toolchain_type"].py3_runtime
    if not runtime.interpreter:
        fail("{}: the Python toolchain has no in-build interpreter (a system python3 is not packed)".format(ctx.label))
    python_repository = runtime.interpreter.owner.workspace_name
    binary = ctx.attr.binary
    executable = binary[DefaultInfo].files_to_run.executable
    prefix = "app/{}/{}.runfiles/".format(binary.label.package, binary.label.name)

    def part_of(file):
        repository = file.owner.workspace_name if file.owner else ""
        if repository == python_repository:
            return "python"
        return "deps" if repository else "app"

    files = [f for f in binary[DefaultInfo].default_runfiles.files.to_list() if part_of(f) == ctx.attr.part]
    if ctx.attr.part == "python":
        files = depset([runtime.interpreter], transitive = [runtime.files, depset(files)]).to_list()
    if ctx.attr.part == "app" and executable not in files:
        files.append(executable)
    if not files:
        fail("{}: {} has no {} files in its runfiles".format(ctx.label, binary.label, ctx.attr.part))
    dest_src_map = {prefix + _runfiles_path(f): f for f in files}
    return [
        PackageFilesInfo(dest_src_map = dest_src_map, attributes = {"mode": "0644"}),
        DefaultInfo(files = depset(files)),
    ]

runfiles_part = rule(
    implementation = _runfiles_part_impl,
    doc = "The `part` (python, deps or app) of `binary`'s runfiles, at their runfiles paths, for pkg_tar.",
    attrs = {
        "binary": attr.label(mandatory = True, executable = True, cfg = "target"),
        "part": attr.string(mandatory = True, values = PARTS),
    },
    toolchains = ["@bazel_tools//tools/python:toolchain_type"],
)

def seed_style_images(name, binary, base, tags = ["manual"]):
    """The bench's (b) and (c) variants of a binary, for one package.

    `pkg_tar_image` has python, deps and app as three gzip pkg_tar layers (`<part>_layer`),
    `single_image` one pkg_tar of it all (`single_layer`); each has a push target
    `push_<variant>`. bench/e2e_bench.sh finds them by these names, so one call per package.

    Args:
      name: a filegroup of both images.
      binary: the py_binary.
      base: the images' base, an oci_image.
      tags: for every target (manual: the bench builds them, `//...` does not).
    """
    native.filegroup(
        name = name,
        srcs = [":pkg_tar_image", ":single_image"],
        tags = tags,
    )
    for part in PARTS:
        runfiles_part(name = part + "_files", binary = binary, part = part, tags = tags)
        pkg_tar(
            name = part + "_layer",
            srcs = [":" + part + "_files"],
            extension = "tar.gz",
            tags = tags,
        )
    pkg_tar(
        name = "single_layer",
        srcs = [":" + part + "_files" for part in PARTS],
        extension = "tar.gz",
        tags = tags,
    )
    oci_image(
        name = "pkg_tar_image",
        base = base,
        tars = [":" + part + "_layer" for part in PARTS],
        tags = tags,
    )
    oci_image(
        name = "single_image",
        base = base,
        tars = [":single_layer"],
        tags = tags,
    )
    for variant in ["pkg_tar_image", "single_image"]:
        oci_push(
            name = "push_" + variant,
            image = ":" + variant,
            repository = "127.0.0.1:5000/bench/" + variant,
            tags = tags,
        )
