"""The toolchain that provides rules_pyimage's Rust tools."""

PyImageToolsInfo = provider(
    doc = "The executables the rules run: layer-splitter writes layers, pyimage-meta reads and writes image metadata (base check, empty base, version tag).",
    fields = {
        "layer_splitter": "FilesToRunProvider of the layer-splitter binary.",
        "meta": "FilesToRunProvider of the pyimage-meta binary.",
    },
)

_DOC = """Declares a rules_pyimage tools toolchain.

The module registers one built from source with rules_rust. To use prebuilt
binaries instead, declare your own and register it first:

```starlark
pyimage_toolchain(
    name = "prebuilt_tools",
    layer_splitter = "@my_prebuilt//:layer-splitter",
    meta = "@my_prebuilt//:pyimage-meta",
)

toolchain(
    name = "prebuilt_toolchain",
    toolchain = ":prebuilt_tools",
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
            doc = "The layer-splitter executable.",
            mandatory = True,
            executable = True,
            cfg = "exec",
        ),
        "meta": attr.label(
            doc = "The pyimage-meta executable.",
            mandatory = True,
            executable = True,
            cfg = "exec",
        ),
    },
)
