"""TEST STAND-IN for rules_oci's oci_image_index rule. Never shipped."""

def _impl(ctx):
    if ctx.attr.platforms:
        fail("the rules_oci test stand-in does not implement 'platforms'; build one oci_image per platform and list them in 'images'")
    output = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add(ctx.file._index_py)
    args.add("--output", output.path)
    inputs = [ctx.file._index_py] + ctx.files.images

    # Image layouts are directories (tree artifacts): pass their paths, not their files.
    args.add_all(ctx.files.images, expand_directories = False)
    ctx.actions.run(
        executable = "python3",
        arguments = [args],
        inputs = inputs,
        outputs = [output],
        mnemonic = "OCIIndex",
        progress_message = "OCI Index %{label}",
    )
    return [DefaultInfo(files = depset([output]))]

oci_image_index = rule(
    implementation = _impl,
    attrs = {
        "images": attr.label_list(mandatory = True, doc = "oci_image targets, one per platform."),
        "platforms": attr.label_list(doc = "Refused by the stand-in."),
        "_index_py": attr.label(default = "index.py", allow_single_file = True),
    },
    doc = "TEST STAND-IN for rules_oci's oci_image_index.",
)
