"""TEST STAND-IN for rules_oci's oci_image rule. Never shipped."""

_ATTRS = {
    "annotations": attr.label(allow_single_file = True, doc = "File of name=value manifest annotations."),
    "architecture": attr.string(doc = "CPU architecture; only without `base`."),
    "base": attr.label(allow_single_file = True, doc = "An oci_image (image layout directory) to build on."),
    "cmd": attr.label(allow_single_file = True, doc = "File with the comma-separated command."),
    "created": attr.label(allow_single_file = True, doc = "File with the creation timestamp."),
    "entrypoint": attr.label(allow_single_file = True, doc = "File with the comma-separated entrypoint."),
    "env": attr.label(allow_single_file = True, doc = "File of name=value environment variables."),
    "exposed_ports": attr.label(allow_single_file = True, doc = "File with comma-separated ports."),
    "labels": attr.label(allow_single_file = True, doc = "File of name=value config labels."),
    "os": attr.string(doc = "Operating system; only without `base`."),
    "resource_set": attr.string(doc = "Accepted for compatibility; ignored."),
    "tars": attr.label_list(
        allow_files = [".tar", ".tgz", ".tar.gz", ".tzst", ".tar.zst"],
        doc = "Layer tars, in order, stored as they are.",
    ),
    "user": attr.string(doc = "User the entrypoint runs as."),
    "variant": attr.string(doc = "CPU variant; only without `base`."),
    "volumes": attr.label(allow_single_file = True, doc = "File with comma-separated volume paths."),
    "workdir": attr.string(doc = "Working directory."),
    "_image_py": attr.label(default = "image.py", allow_single_file = True),
}

def _impl(ctx):
    if not ctx.attr.base and not (ctx.attr.os and ctx.attr.architecture):
        fail("'os' and 'architecture' are mandatory when 'base' is unspecified.")
    if ctx.attr.base and (ctx.attr.os or ctx.attr.architecture or ctx.attr.variant):
        fail("'os', 'architecture' and 'variant' come from the image provided by 'base' and cannot be overridden.")
    output = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add(ctx.file._image_py)
    args.add("--output", output.path)
    inputs = [ctx.file._image_py] + ctx.files.tars
    if ctx.attr.base:
        args.add("--base", ctx.file.base.path)
        inputs.append(ctx.file.base)
    else:
        args.add("--os", ctx.attr.os)
        args.add("--architecture", ctx.attr.architecture)
        if ctx.attr.variant:
            args.add("--variant", ctx.attr.variant)
    args.add_all(ctx.files.tars, before_each = "--layer")
    for name in ["entrypoint", "cmd", "env", "labels", "annotations", "exposed_ports", "volumes", "created"]:
        f = getattr(ctx.file, name)
        if f:
            args.add("--" + name.replace("_", "-"), f)
            inputs.append(f)
    if ctx.attr.user:
        args.add("--user", ctx.attr.user)
    if ctx.attr.workdir:
        args.add("--workdir", ctx.attr.workdir)
    ctx.actions.run(
        executable = "python3",
        arguments = [args],
        inputs = inputs,
        outputs = [output],
        mnemonic = "OCIImage",
        progress_message = "OCI Image %{label}",
    )
    return [DefaultInfo(files = depset([output]))]

oci_image = rule(
    implementation = _impl,
    attrs = _ATTRS,
    doc = "TEST STAND-IN for rules_oci's oci_image: an OCI image layout from a base and layer tars.",
)
