"""files_layer: put individual files at chosen paths of an image, as one layer; and the layers of py_image's extra_layers."""

load(":layer_action.bzl", "COMMON_ATTRS", "TOOLS_TOOLCHAIN", "layer_action", "layer_options")
load(":pkg.bzl", "PKG_PROVIDERS", "is_pkg_target", "pkg_manifest")

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

Files already described with rules_pkg go in `srcs`, with their prefixes,
renames, modes, owners, directories and links:

```starlark
load("@rules_pkg//pkg:mappings.bzl", "pkg_attributes", "pkg_files", "pkg_mkdirs", "pkg_mklink")

pkg_files(
    name = "config",
    srcs = ["app.toml"],
    prefix = "etc/app",
    attributes = pkg_attributes(mode = "0640", uid = "1000", gid = "1000", user = "app", group = "app"),
)
pkg_mkdirs(name = "state", dirs = ["var/lib/app"], attributes = pkg_attributes(mode = "0700", uid = "1000", gid = "1000"))
pkg_mklink(name = "python", link_name = "usr/local/bin/python", target = "/usr/bin/python3")

files_layer(name = "app_files", srcs = [":config", ":state", ":python"])
```

Modes are as rules_pkg gives them (`pkg_files` defaults to `0644`, also for
executables; set `mode = "0755"` in `pkg_attributes`), setuid and setgid bits
included. Numeric ids come from the `uid` and `gid` attributes (what
container runtimes use), else from `owner`; `user` and `group` are stored as
the entry's names. Link targets are stored exactly as written.
"""

def _files_lines(files):
    lines = []
    inputs = []
    for target, dest in files.items():
        found = target[DefaultInfo].files.to_list()
        if len(found) != 1:
            fail("files: {} provides {} files; each key must be exactly one file (use a filegroup of one, or list the file itself)".format(target.label, len(found)))
        if not dest.startswith("/"):
            fail("files: the image path '{}' of {} must be absolute, e.g. '/{}'".format(dest, target.label, dest))
        lines.append("file\t{}\t{}".format(dest, found[0].path))
        inputs.append(found[0])
    return lines, inputs

def _write_layer(ctx, layer, lines, inputs):
    """One layer of manifest `lines` (over the files in depset `inputs`)."""
    manifest = ctx.actions.declare_file("{}/{}.manifest".format(ctx.label.name, layer))
    ctx.actions.write(manifest, "\n".join(lines) + "\n")
    return layer_action(
        ctx,
        ctx.toolchains[TOOLS_TOOLCHAIN].pyimage,
        layer,
        manifest,
        inputs,
        layer_options(ctx.attr, allow_setuid = True),
    )

def _files_layer_impl(ctx):
    if not ctx.attr.files and not ctx.attr.srcs:
        fail("files_layer {}: give `files` (file -> image path) or `srcs` (rules_pkg pkg_files, pkg_mkdirs, pkg_mklink or pkg_filegroup targets)".format(ctx.label))
    lines, inputs = _files_lines(ctx.attr.files)
    pkg = pkg_manifest(ctx.attr.srcs)
    layer = _write_layer(ctx, ctx.label.name, sorted(lines) + pkg.lines, depset(inputs, transitive = [pkg.inputs]))
    return [
        DefaultInfo(files = depset([layer.blob])),
        OutputGroupInfo(
            descriptors = depset([layer.descriptor]),
            img_metadata = depset([layer.img_metadata]),
            report = depset([layer.report]),
        ),
    ]

files_layer = rule(
    implementation = _files_layer_impl,
    doc = _DOC,
    attrs = dict(
        COMMON_ATTRS,
        files = attr.label_keyed_string_dict(
            doc = "File -> absolute path in the image.",
            allow_files = True,
        ),
        srcs = attr.label_list(
            doc = "rules_pkg `pkg_files`, `pkg_mkdirs`, `pkg_mklink` and `pkg_filegroup` targets; destinations are relative to the image root.",
            providers = PKG_PROVIDERS,
        ),
    ),
    toolchains = [TOOLS_TOOLCHAIN],
)

def _extra_layers_impl(ctx):
    blobs = []
    descriptors = []
    for index, target in enumerate(ctx.attr.layers):
        if is_pkg_target(target):
            pkg = pkg_manifest([target])
            layer = _write_layer(ctx, "{}_{}".format(index, target.label.name), pkg.lines, pkg.inputs)
            blobs.append(layer.blob)
            descriptors.append(layer.descriptor)
        else:
            blobs += target[DefaultInfo].files.to_list()
    return [
        DefaultInfo(files = depset(blobs)),
        OutputGroupInfo(descriptors = depset(descriptors)),
    ]

extra_layers = rule(
    implementation = _extra_layers_impl,
    doc = "py_image's `extra_layers`, in order: layer tars as they are, and each rules_pkg target as one layer of its own.",
    attrs = dict(
        COMMON_ATTRS,
        layers = attr.label_list(
            doc = "Layer tars (a files_layer, a pkg_tar, ...) or rules_pkg pkg_files, pkg_mkdirs, pkg_mklink or pkg_filegroup targets.",
            allow_files = True,
            mandatory = True,
        ),
    ),
    toolchains = [TOOLS_TOOLCHAIN],
)
