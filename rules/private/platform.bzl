"""The OCI platform (os, architecture, variant) of the platform a rule is built for.

Decided in one place, from the target platform's constraints, for every rule
that needs it: the base check, and the empty base of an image without one.
"""

# CPU constraint (in @platforms//cpu) -> OCI architecture and variant, as the
# OCI image index specification and Go's GOARCH/GOARM name them.
_CPUS = {
    "aarch64": ("arm64", ""),
    "armv7": ("arm", "v7"),
    "i386": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "riscv64": ("riscv64", ""),
    "s390x": ("s390x", ""),
    "x86_32": ("386", ""),
    "x86_64": ("amd64", ""),
}

PLATFORM_ATTRS = {
    "_cpus": attr.label_list(
        default = ["@platforms//cpu:" + cpu for cpu in sorted(_CPUS.keys())],
        providers = [platform_common.ConstraintValueInfo],
    ),
    "_linux": attr.label(
        default = "@platforms//os:linux",
        providers = [platform_common.ConstraintValueInfo],
    ),
}

KNOWN_CPUS = ", ".join(sorted(_CPUS.keys()))

def oci_platform(ctx):
    """The OCI platform of ctx's target platform.

    Args:
        ctx: the context of a rule with PLATFORM_ATTRS.

    Returns:
        struct(os, architecture, variant), or None when the platform is not
        Linux on one of the CPUs above.
    """
    if not ctx.target_platform_has_constraint(ctx.attr._linux[platform_common.ConstraintValueInfo]):
        return None
    for cpu in ctx.attr._cpus:
        if ctx.target_platform_has_constraint(cpu[platform_common.ConstraintValueInfo]):
            architecture, variant = _CPUS[cpu.label.name]
            return struct(os = "linux", architecture = architecture, variant = variant)
    return None

def platform_args(args, platform):
    """Adds `--os`, `--architecture` and (when set) `--variant` for pyimage-meta.

    Args:
        args: ctx.actions.args().
        platform: struct from oci_platform.
    """
    args.add("--os", platform.os)
    args.add("--architecture", platform.architecture)
    if platform.variant:
        args.add("--variant", platform.variant)
