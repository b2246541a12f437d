"""Prebuilt layer-splitter and pyimage-meta, by URL and SHA-256.

The module extension `prebuilt_tools` reads the pinned table in
//tools:prebuilt_tools.bzl (written by dev/release/write_prebuilt_table.py into
each release archive; empty in the repository) and makes:

- `@pyimage_tools`: one `toolchain` per platform of the table, with that
  platform's exec constraints, selected unless `--@rules_pyimage//tools:from_source`
  is set. MODULE.bazel registers `@pyimage_tools//:all` before the source
  toolchain; nothing here loads `@pyimage_crates`, so resolving these never
  fetches a crate.
- `@pyimage_tools_<platform>`: the two binaries of one platform and their
  `pyimage_toolchain`, downloaded only when that platform's toolchain is chosen.
"""

load("//tools:prebuilt_tools.bzl", "PREBUILT_TOOLS")
load(":prebuilt_platforms.bzl", "PREBUILT_PLATFORMS", "PREBUILT_TOOL_NAMES")

_FROM_SOURCE = "--@rules_pyimage//tools:from_source"

def _download_tool(rctx, tool, url, sha256):
    result = rctx.download(url = url, output = tool, sha256 = sha256, executable = True, allow_fail = True)
    if result.success:
        return

    # Fetch it again unchecked to tell a checksum mismatch from a failed download.
    probe = rctx.download(url = url, output = tool + ".unverified", allow_fail = True)
    if probe.success:
        rctx.delete(tool + ".unverified")
        fail(("rules_pyimage: the prebuilt {tool} for {platform} does not match its pinned checksum\n" +
              "  url:      {url}\n  expected: sha256 {want}\n  actual:   sha256 {got}\n" +
              "The file at that URL is not the one this release of rules_pyimage was published with. " +
              "Build the tools from source instead with {flag} (e.g. in .bazelrc: " +
              "`common {flag}`), and report this to the rules_pyimage maintainers with the URL " +
              "and both checksums.").format(
            tool = tool,
            platform = rctx.attr.platform,
            url = url,
            want = sha256,
            got = probe.sha256,
            flag = _FROM_SOURCE,
        ))
    fail(("rules_pyimage: could not download the prebuilt {tool} for {platform} from {url} " +
          "(see the download error above). Without network access to it, build the tools " +
          "from source with {flag}, or make the URL reachable (e.g. --experimental_downloader_config " +
          "for a mirror).").format(tool = tool, platform = rctx.attr.platform, url = url, flag = _FROM_SOURCE))

def _prebuilt_tools_repo_impl(rctx):
    for tool in PREBUILT_TOOL_NAMES:
        _download_tool(rctx, tool, rctx.attr.urls[tool], rctx.attr.sha256[tool])
    rctx.file("BUILD.bazel", """\
# The prebuilt tools for {platform}, from the pinned table of rules_pyimage.
load("{defs}", "pyimage_toolchain")

pyimage_toolchain(
    name = "tools",
    layer_splitter = ":layer-splitter",
    meta = ":pyimage-meta",
    visibility = ["//visibility:public"],
)
""".format(platform = rctx.attr.platform, defs = str(Label("//rules:defs.bzl"))))

_prebuilt_tools_repo = repository_rule(
    implementation = _prebuilt_tools_repo_impl,
    doc = "Downloads one platform's prebuilt tools and declares their pyimage_toolchain.",
    attrs = {
        "platform": attr.string(mandatory = True),
        "sha256": attr.string_dict(mandatory = True, doc = "tool -> SHA-256 of the binary"),
        "urls": attr.string_dict(mandatory = True, doc = "tool -> URL of the binary"),
    },
)

def _toolchains_repo_impl(rctx):
    body = ["# Prebuilt tools toolchains, one per platform of //tools:prebuilt_tools.bzl (none: the source toolchain resolves)."]
    for platform in rctx.attr.platforms:
        body.append("""
toolchain(
    name = "{platform}",
    exec_compatible_with = {constraints},
    target_settings = ["{prebuilt}"],
    toolchain = "@{repo}//:tools",
    toolchain_type = "{toolchain_type}",
)
""".format(
            platform = platform,
            constraints = repr([str(Label(c)) for c in PREBUILT_PLATFORMS[platform]]),
            prebuilt = str(Label("//tools:prebuilt")),
            repo = "pyimage_tools_" + platform,
            toolchain_type = str(Label("//rules:toolchain_type")),
        ))
    rctx.file("BUILD.bazel", "\n".join(body))

_toolchains_repo = repository_rule(
    implementation = _toolchains_repo_impl,
    doc = "The prebuilt tools' toolchain targets.",
    attrs = {"platforms": attr.string_list()},
)

def _check_table(table):
    for platform, tools in table.items():
        if platform not in PREBUILT_PLATFORMS:
            fail("//tools:prebuilt_tools.bzl: unknown platform '{}'; known: {}. Write the table with dev/release/write_prebuilt_table.py.".format(
                platform,
                ", ".join(sorted(PREBUILT_PLATFORMS)),
            ))
        if sorted(tools) != sorted(PREBUILT_TOOL_NAMES):
            fail("//tools:prebuilt_tools.bzl: platform '{}' has tools {}, expected {}. Write the table with dev/release/write_prebuilt_table.py.".format(
                platform,
                sorted(tools),
                sorted(PREBUILT_TOOL_NAMES),
            ))

def _prebuilt_tools_impl(module_ctx):
    _check_table(PREBUILT_TOOLS)
    for platform, tools in PREBUILT_TOOLS.items():
        _prebuilt_tools_repo(
            name = "pyimage_tools_" + platform,
            platform = platform,
            urls = {tool: entry["url"] for tool, entry in tools.items()},
            sha256 = {tool: entry["sha256"] for tool, entry in tools.items()},
        )
    _toolchains_repo(name = "pyimage_tools", platforms = sorted(PREBUILT_TOOLS))
    return module_ctx.extension_metadata(reproducible = True)

prebuilt_tools = module_extension(
    implementation = _prebuilt_tools_impl,
    doc = "The prebuilt tools of //tools:prebuilt_tools.bzl as toolchains (`@pyimage_tools//:all`).",
)
