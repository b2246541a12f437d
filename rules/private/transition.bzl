"""Build the binary for the image's platform, whatever the host is."""

def _platform_transition_impl(settings, attr):
    if not attr.platform:
        return {"//command_line_option:platforms": settings["//command_line_option:platforms"]}
    return {"//command_line_option:platforms": [str(attr.platform)]}

platform_transition = transition(
    implementation = _platform_transition_impl,
    inputs = ["//command_line_option:platforms"],
    outputs = ["//command_line_option:platforms"],
)

# What every rule with `cfg = platform_transition` declares: the platform it moves
# to and the allowlist a Starlark transition needs.
TRANSITION_ATTRS = {
    "platform": attr.label(
        doc = "The platform to build for (default linux/amd64).",
        default = Label("//platforms:linux_amd64"),
    ),
    "_allowlist_function_transition": attr.label(
        default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
    ),
}
