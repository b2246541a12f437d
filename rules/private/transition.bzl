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
