"""files_layer: put individual files at chosen paths of an image, as one layer."""

load(":layer_action.bzl", "COMMON_ATTRS", "TOOLS_TOOLCHAIN", "layer_action", "layer_options")

_DOC = """One deterministic layer holding files at the paths you choose.

For what is not part of a binary's runfiles but belongs in the image, such as a
CA bundle, configuration or licences. Placed before the python layer with
`py_image(extra_layers = [...])`, it is rebuilt only when those files change.

```starlark
files_layer(
    name = "ca_certificates",
    files = {"@pypi_certifi//:site-packages/certifi/cacert.pem": "/etc/ssl/certs/ca-certificates.crt"},
)
```
"""

def _files_layer_impl(ctx):
    lines = []
    inputs = []
    for target, dest in ctx.attr.files.items():
        files = target[DefaultInfo].files.to_list()
        if len(files) != 1:
            fail("files: {} provides {} files; each key must be exactly one file (use a filegroup of one, or list the file itself)".format(target.label, len(files)))
        if not dest.startswith("/"):
            fail("files: the image path '{}' of {} must be absolute, e.g. '/{}'".format(dest, target.label, dest))
        lines.append("file\t{}\t{}".format(dest, files[0].path))
        inputs.append(files[0])
    manifest = ctx.actions.declare_file(ctx.label.name + "/manifest")
    ctx.actions.write(manifest, "\n".join(sorted(lines)) + "\n")
    layer = layer_action(
        ctx,
        ctx.toolchains[TOOLS_TOOLCHAIN].pyimage,
        ctx.label.name,
        manifest,
        depset(inputs),
        layer_options(ctx.attr),
    )
    return [
        DefaultInfo(files = depset([layer.blob])),
        OutputGroupInfo(descriptors = depset([layer.descriptor]), report = depset([layer.report])),
    ]

files_layer = rule(
    implementation = _files_layer_impl,
    doc = _DOC,
    attrs = dict(
        COMMON_ATTRS,
        files = attr.label_keyed_string_dict(
            doc = "File -> absolute path in the image.",
            mandatory = True,
            allow_files = True,
        ),
    ),
    toolchains = [TOOLS_TOOLCHAIN],
)
