"""TEST STAND-IN for rules_oci's `oci` module extension (see ../MODULE.bazel).

The offline test bed cannot reach a registry, so `oci.pull` here takes the same
tags as rules_oci v2.2.6 (`oci/extensions.bzl:7-32`) and declares the same
repositories as its `oci_pull` (`oci/pull.bzl`: one `<name>_<os>_<arch>[_<variant>]`
per platform, or `<name>_single` without platforms, and the alias `<name>`),
but each of them fails when fetched, naming the image and the way out. A
build that reaches a pulled base in the test bed has taken the path of a stock
Bazel user; the examples build on the test bed's own root file systems instead
(`--@rules_pyimage//dev/testbed:rootfs_base`, set by dev/testbed/testbed.bazelrc).
"""

# Tags as in rules_oci v2.2.6 oci/extensions.bzl:7-25 (docs shortened).
_pull = tag_class(attrs = {
    "bazel_tags": attr.string_list(),
    "config": attr.label(),
    "digest": attr.string(),
    "image": attr.string(),
    "name": attr.string(),
    "platforms": attr.string_list(),
    "reproducible": attr.bool(default = True),
    "tag": attr.string(),
    "www_authenticate_challenges": attr.string_dict(),
})

# As rules_oci v2.2.6 oci/extensions.bzl:27-32.
_toolchains = tag_class(attrs = {"name": attr.string(default = "oci")})

def _unreachable_impl(rctx):
    fail(("rules_oci stand-in: @{repo} would pull {image} from its registry, which the offline " +
          "test bed cannot reach. The test bed builds the examples on its own root file systems: " +
          "keep `build --@rules_pyimage//dev/testbed:rootfs_base` (dev/testbed/testbed.bazelrc) " +
          "set, or build with stock Bazel and the real rules_oci to use the pulled base.").format(
        repo = rctx.attr.name.rpartition("+")[2],
        image = rctx.attr.image,
    ))

_unreachable = repository_rule(
    implementation = _unreachable_impl,
    attrs = {"image": attr.string(mandatory = True)},
    doc = "A repository of a pulled image; fails when fetched.",
)

def _check(pull):
    # The checks of rules_oci v2.2.6 oci/pull.bzl oci_pull, for the `image` form.
    if not pull.image:
        fail("oci.pull(name = \"{}\"): One of 'image' or '{{registry, repository}}' must be set".format(pull.name))
    if not pull.digest and not pull.tag and "@" not in pull.image and ":" not in pull.image.rpartition("/")[2]:
        fail("oci.pull(name = \"{}\"): At least one of 'digest' or 'tag' must be set".format(pull.name))
    if pull.digest and pull.tag and not pull.reproducible:
        fail("oci.pull(name = \"{}\"): Only one of 'digest' or 'tag' may be set when 'reproducible' is False.".format(pull.name))

def _oci_impl(module_ctx):
    direct, direct_dev = [], []
    for mod in module_ctx.modules:
        for pull in mod.tags.pull:
            _check(pull)
            ref = pull.image + ("@" + pull.digest if pull.digest else ":" + pull.tag if pull.tag else "")
            names = ["_".join([pull.name] + p.split("/")) for p in pull.platforms] or [pull.name + "_single"]
            for name in names + [pull.name]:
                _unreachable(name = name, image = ref)
            if mod.is_root:
                deps = direct_dev if module_ctx.is_dev_dependency(pull) else direct
                deps.append(pull.name)
                deps.extend(names if pull.platforms else [])
        for toolchains in mod.tags.toolchains:
            if toolchains.name != "oci" and not mod.is_root:
                fail("Only the root module may override the default name for the oci toolchains.")
    return module_ctx.extension_metadata(
        root_module_direct_deps = direct,
        root_module_direct_dev_deps = direct_dev,
    )

oci = module_extension(
    implementation = _oci_impl,
    tag_classes = {"pull": _pull, "toolchains": _toolchains},
    doc = "Stand-in for rules_oci's `oci` extension: `pull` declares repositories that cannot be fetched offline.",
)
