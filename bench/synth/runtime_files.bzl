"""The in-build interpreter's files, for the pkg_tar variants of the bench."""

def _runtime_files_impl(ctx):
    runtime = ctx.toolchains["@bazel_tools//tools/python:toolchain_type"].py3_runtime
    if not runtime.interpreter:
        fail("{}: the Python toolchain has no in-build interpreter (a system python3 is not packed)".format(ctx.label))
    return [DefaultInfo(files = depset([runtime.interpreter], transitive = [runtime.files]))]

runtime_files = rule(
    implementation = _runtime_files_impl,
    doc = "The resolved Python toolchain's interpreter and its files, as a py_binary's runfiles hold them.",
    toolchains = ["@bazel_tools//tools/python:toolchain_type"],
)
