"""The base image side of a layered image: the check of a given base, and an empty base."""

load(":layer_action.bzl", "TOOLS_TOOLCHAIN")
load(":platform.bzl", "KNOWN_CPUS", "PLATFORM_ATTRS", "oci_platform", "platform_args")
load(":transition.bzl", "TRANSITION_ATTRS", "platform_transition")

# Docker refuses images of more layers ("max depth exceeded"), containerd's overlay
# snapshotter cannot mount them; pyimage-meta check-base holds the same number.
MAX_LAYERS = 127

def check_base(ctx, tools, base, layers_above):
    """A validation action: `base` is an image for ctx's target platform, and with `layers_above` more layers within MAX_LAYERS.

    Args:
        ctx: the context of a rule with PLATFORM_ATTRS.
        tools: PyImageToolsInfo.
        base: the base image's layout directory (File).
        layers_above: how many layers the image adds on top of the base.

    Returns:
        list of the files to put in the `_validation` output group (empty on a
        platform whose OCI name is unknown: nothing to compare with).
    """
    platform = oci_platform(ctx)
    if platform == None:
        return []
    out = ctx.actions.declare_file(ctx.label.name + ".base_check")
    args = ctx.actions.args()
    args.add("check-base")
    args.add("--layout", base.path)
    platform_args(args, platform)
    args.add("--label", str(ctx.label).removeprefix("@@"))
    args.add("--layers-above", str(layers_above))
    args.add("--out", out)
    ctx.actions.run(
        executable = tools.meta,
        arguments = [args],
        inputs = [base],
        outputs = [out],
        mnemonic = "PyImageBaseCheck",
        progress_message = "Checking the base of %{label} (platform, layer count)",
        toolchain = TOOLS_TOOLCHAIN,
    )
    return [out]

def _empty_base_impl(ctx):
    platform = oci_platform(ctx)
    if platform == None:
        fail("{}: the image has no `base` and its platform {} is not Linux on a CPU whose OCI name is known ({}): give `base` an image for that platform".format(
            str(ctx.label).removeprefix("@@"),
            ctx.attr.platform.label,
            KNOWN_CPUS,
        ))
    out = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add("empty-base")
    platform_args(args, platform)
    args.add("--out", out.path)
    ctx.actions.run(
        executable = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage.meta,
        arguments = [args],
        outputs = [out],
        mnemonic = "PyImageEmptyBase",
        progress_message = "Writing the empty base of %{label}",
        toolchain = TOOLS_TOOLCHAIN,
    )
    return [DefaultInfo(files = depset([out]))]

empty_base = rule(
    implementation = _empty_base_impl,
    doc = """An OCI image layout holding one empty image for `platform`: no layers, its
    config's `os`, `architecture` and `variant` from the platform's constraints.
    `py_image` builds on it when given no `base`.""",
    attrs = dict(PLATFORM_ATTRS, **TRANSITION_ATTRS),
    cfg = platform_transition,
    toolchains = [TOOLS_TOOLCHAIN],
)
