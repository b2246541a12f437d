"""TEST STAND-IN for rules_oci's crane toolchain (v2.2.6 oci/toolchain.bzl:1-48). Never shipped.

The same provider fields and ToolchainInfo members (`crane_info.binary`,
`crane_info.version`, `template_variables`, `default`) and the same attributes, so
a rule that resolves `@rules_oci//oci:crane_toolchain_type` works with both.
"""

CraneInfo = provider(
    doc = "How to run crane (v2.2.6 oci/toolchain.bzl:3-9).",
    fields = {
        "binary": "Executable crane binary",
        "version": "Crane version",
    },
)

def _crane_toolchain_impl(ctx):
    binary = ctx.executable.crane
    template_variables = platform_common.TemplateVariableInfo({"CRANE_BIN": binary.path})
    default = DefaultInfo(files = depset([binary]), runfiles = ctx.runfiles(files = [binary]))
    return [
        default,
        platform_common.ToolchainInfo(
            crane_info = CraneInfo(binary = binary, version = ctx.attr.version.removeprefix("v")),
            template_variables = template_variables,
            default = default,
        ),
        template_variables,
    ]

crane_toolchain = rule(
    implementation = _crane_toolchain_impl,
    attrs = {
        "crane": attr.label(mandatory = True, allow_single_file = True, executable = True, cfg = "exec"),
        "version": attr.string(mandatory = True),
    },
    doc = "TEST STAND-IN for rules_oci's crane_toolchain.",
)
