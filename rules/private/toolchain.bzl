"""The toolchain that provides rules_pyimage's Rust tools."""

PyImageToolsInfo = provider(
    doc = "The executables the rules run: layer-splitter writes layers, pyimage-meta reads and writes image metadata (base check, empty base, version tag).",
    fields = {
        "layer_splitter": "FilesToRunProvider of the layer-splitter binary.",
        "meta": "FilesToRunProvider of the pyimage-meta binary.",
    },
)

_DOC = """Declares a rules_pyimage tools toolchain.

The module registers its own: prebuilt binaries for the exec platforms of its
release (linux x86_64 and aarch64, macOS x86_64 and arm64; downloaded by URL and
SHA-256), and the tools built from source with rules_rust for every other
platform, or everywhere with `--@rules_pyimage//tools:from_source`. To use
binaries of your own (a mirror, a patched build), declare a toolchain and
register it in your MODULE.bazel, which comes before the module's:

```starlark
pyimage_toolchain(
    name = "my_tools",
    layer_splitter = "@my_tools//:layer-splitter",
    meta = "@my_tools//:pyimage-meta",
)

toolchain(
    name = "my_toolchain",
    exec_compatible_with = ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    toolchain = ":my_tools",
    toolchain_type = "@rules_pyimage//rules:toolchain_type",
)
```
"""

def _pyimage_toolchain_impl(ctx):
    return [platform_common.ToolchainInfo(
        pyimage = PyImageToolsInfo(
            layer_splitter = ctx.attr.layer_splitter[DefaultInfo].files_to_run,
            meta = ctx.attr.meta[DefaultInfo].files_to_run,
        ),
    )]

pyimage_toolchain = rule(
    implementation = _pyimage_toolchain_impl,
    doc = _DOC,
    attrs = {
        "layer_splitter": attr.label(
            doc = "The layer-splitter executable: a binary rule or the binary file itself.",
            mandatory = True,
            executable = True,
            allow_files = True,
            cfg = "exec",
        ),
        "meta": attr.label(
            doc = "The pyimage-meta executable: a binary rule or the binary file itself.",
            mandatory = True,
            executable = True,
            allow_files = True,
            cfg = "exec",
        ),
    },
)
