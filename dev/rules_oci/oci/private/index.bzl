"""TEST STAND-IN for rules_oci's oci_image_index rule (v2.2.6 oci/private/image_index.bzl). Never shipped."""

def _expand_image_to_args(image, expander):
    args = ["--image={}".format(image.path)]
    for file in expander.expand(image):
        if file.path.find("blobs") != -1:
            args.append("--blob={}".format(file.tree_relative_path))
    return args

def _impl(ctx):
    if ctx.attr.platforms:
        fail("the rules_oci test stand-in does not implement 'platforms' (rules_oci marks it experimental); build one oci_image per platform and list them in 'images'")
    output = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add(ctx.file._index_py)
    args.add(output.path, format = "--output=%s")
    args.add_all(ctx.files.images, map_each = _expand_image_to_args, expand_directories = False)
    ctx.actions.run(
        executable = "python3",
        arguments = [args],
        inputs = [ctx.file._index_py] + ctx.files.images,
        outputs = [output],
        mnemonic = "OCIIndex",
        progress_message = "OCI Index %{label}",
    )
    return [DefaultInfo(files = depset([output]))]

oci_image_index = rule(
    implementation = _impl,
    attrs = {
        "images": attr.label_list(mandatory = True, doc = "oci_image targets, one per platform."),
        "platforms": attr.label_list(doc = "Refused by the stand-in.", providers = [platform_common.PlatformInfo]),
        "_index_py": attr.label(default = "index.py", allow_single_file = True),
    },
    doc = "TEST STAND-IN for rules_oci's oci_image_index.",
)
