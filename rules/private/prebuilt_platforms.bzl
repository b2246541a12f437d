"""The exec platforms that releases ship prebuilt tools for, and the tools.

Plain literals: dev/release/write_prebuilt_table.py reads this file too.
"""

# platform name (in asset names and tools/prebuilt_tools.bzl) -> exec constraints
PREBUILT_PLATFORMS = {
    "linux_aarch64": ["@platforms//os:linux", "@platforms//cpu:aarch64"],
    "linux_x86_64": ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    "macos_arm64": ["@platforms//os:macos", "@platforms//cpu:aarch64"],
    "macos_x86_64": ["@platforms//os:macos", "@platforms//cpu:x86_64"],
}

# the binaries the rules run (the toolchain's layer_splitter and meta)
PREBUILT_TOOL_NAMES = ["layer-splitter", "pyimage-meta"]
