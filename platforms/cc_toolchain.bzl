"""A C++ toolchain that compiles nothing, for image platforms without a cross compiler."""

load("@rules_cc//cc:cc_toolchain_config_lib.bzl", "tool_path")
load("@rules_cc//cc/common:cc_common.bzl", "cc_common")

_TOOLS = ["ar", "cpp", "dwp", "gcc", "gcov", "ld", "nm", "objcopy", "objdump", "strip"]

def _no_compiler_config_impl(ctx):
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "no-compiler-" + ctx.attr.cpu,
        host_system_name = "local",
        target_system_name = ctx.attr.cpu + "-linux-gnu",
        target_cpu = ctx.attr.cpu,
        target_libc = "unknown",
        compiler = "no-compiler",
        abi_version = "unknown",
        abi_libc_version = "unknown",
        tool_paths = [tool_path(name = name, path = "no_compiler.sh") for name in _TOOLS],
    )

no_compiler_config = rule(
    implementation = _no_compiler_config_impl,
    attrs = {"cpu": attr.string(mandatory = True, doc = "Target CPU, as Bazel's cc rules name it (e.g. `aarch64`).")},
    provides = [CcToolchainConfigInfo],
    doc = "cc_toolchain config whose every tool is no_compiler.sh, which fails with an explanation.",
)
