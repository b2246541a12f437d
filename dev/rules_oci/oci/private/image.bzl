"""TEST STAND-IN for rules_oci's oci_image rule (v2.2.6 oci/private/image.bzl). Never shipped."""

# oci/private/image.bzl `_ACCEPTED_TAR_EXTENSIONS`
_ACCEPTED_TAR_EXTENSIONS = [".tar", ".tgz", ".tar.gz", ".tzst", ".tar.zst"]

_ATTRS = {
    "annotations": attr.label(allow_single_file = True, doc = "File of `name=value` manifest annotations, one per line."),
    "architecture": attr.string(doc = "CPU architecture; only without `base`."),
    "base": attr.label(allow_single_file = True, doc = "An oci_image (image layout directory) to build on."),
    "cmd": attr.label(allow_single_file = True, doc = "File with the command, one element per line (`%5Cn` for a newline in one)."),
    "created": attr.label(allow_single_file = True, doc = "File with the creation timestamp."),
    "entrypoint": attr.label(allow_single_file = True, doc = "File with the entrypoint, one element per line; resets `cmd`."),
    "env": attr.label(allow_single_file = True, doc = "File of `name=value` variables, one per line; `$KEY` expands from the base."),
    "exposed_ports": attr.label(allow_single_file = True, doc = "File with comma-separated ports."),
    "labels": attr.label(allow_single_file = True, doc = "File of `name=value` config labels, one per line."),
    "os": attr.string(doc = "Operating system; only without `base`."),
    "resource_set": attr.string(doc = "Accepted as rules_oci does; the stand-in's actions are small."),
    "tars": attr.label_list(allow_files = _ACCEPTED_TAR_EXTENSIONS, doc = "Layer tars, in order, stored as they are."),
    "user": attr.string(doc = "User the entrypoint runs as."),
    "variant": attr.string(doc = "CPU variant; only without `base`."),
    "volumes": attr.label(allow_single_file = True, doc = "File with comma-separated volume paths."),
    "workdir": attr.string(doc = "Working directory."),
    "_descriptor_py": attr.label(default = "descriptor.py", allow_single_file = True),
    "_image_py": attr.label(default = "image.py", allow_single_file = True),
}

def _platform_str(os, arch, variant = None):
    parts = dict(os = os, architecture = arch)
    if variant:
        parts["variant"] = variant
    return json.encode(parts)

def _calculate_descriptor(ctx, idx, layer):
    """One cached action per layer: digest, size and diff_id (`_calculate_descriptor`)."""
    descriptor = ctx.actions.declare_file("%s.%s.descriptor.json" % (ctx.label.name, idx))
    args = ctx.actions.args()
    args.add(ctx.file._descriptor_py)
    args.add(layer)
    args.add(descriptor)
    args.add(layer.owner)
    ctx.actions.run(
        executable = "python3",
        inputs = [ctx.file._descriptor_py, layer],
        outputs = [descriptor],
        arguments = [args],
        mnemonic = "OCIDescriptor",
        progress_message = "OCI Descriptor %{input}",
    )
    return descriptor

def _impl(ctx):
    if not ctx.attr.base and (not ctx.attr.os or not ctx.attr.architecture):
        fail("'os' and 'architecture' are mandatory when 'base' is unspecified.")
    if ctx.attr.base and (ctx.attr.os or ctx.attr.architecture or ctx.attr.variant):
        fail("'os', 'architecture' and 'variant' come from the image provided by 'base' and cannot be overridden.")

    output = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add(ctx.file._image_py)
    args.add(output.path, format = "--output=%s")

    # As rules_oci: the tars are inputs (Bazel needs them to digest the tree
    # artifact's symlinks) and runfiles, though the image step never reads them.
    inputs = [ctx.file._image_py] + ctx.files.tars
    transitive_inputs = []
    if ctx.attr.base:
        args.add(ctx.file.base.path, format = "--from=%s")
        inputs.append(ctx.file.base)
        base_default_info = ctx.attr.base[DefaultInfo]
        transitive_inputs.append(base_default_info.default_runfiles.files)
        transitive_inputs.append(base_default_info.files)
    else:
        args.add(_platform_str(ctx.attr.os, ctx.attr.architecture, ctx.attr.variant), format = "--scratch=%s")
    transitive_inputs.append(depset(ctx.files.tars))

    for (i, layer) in enumerate(ctx.files.tars):
        descriptor = _calculate_descriptor(ctx, i, layer)
        inputs.append(descriptor)
        args.add_joined([layer, descriptor], join_with = "=", format_joined = "--layer=%s")

    if ctx.attr.created:
        args.add(ctx.file.created.path, format = "--created=%s")
        inputs.append(ctx.file.created)

    # entrypoint before cmd: setting the entrypoint resets cmd (rules_oci #649).
    for name, flag in [
        ("entrypoint", "entrypoint"),
        ("cmd", "cmd"),
        ("exposed_ports", "exposed-ports"),
        ("volumes", "volumes"),
        ("env", "env"),
        ("labels", "labels"),
        ("annotations", "annotations"),
    ]:
        f = getattr(ctx.file, name)
        if f:
            args.add(f.path, format = "--" + flag + "=%s")
            inputs.append(f)
    if ctx.attr.user:
        args.add(ctx.attr.user, format = "--user=%s")
    if ctx.attr.workdir:
        args.add(ctx.attr.workdir, format = "--workdir=%s")

    ctx.actions.run(
        executable = "python3",
        inputs = depset(inputs, transitive = transitive_inputs),
        arguments = [args],
        outputs = [output],
        mnemonic = "OCIImage",
        progress_message = "OCI Image %{label}",
    )
    return [DefaultInfo(
        files = depset([output]),
        runfiles = ctx.runfiles(transitive_files = depset(transitive = transitive_inputs)),
    )]

oci_image = rule(
    implementation = _impl,
    attrs = _ATTRS,
    doc = "TEST STAND-IN for rules_oci's oci_image: an OCI image layout from a base and layer tars.",
)
