"""The one action that writes a layer: layer-splitter over a manifest."""

TOOLS_TOOLCHAIN = Label("//rules:toolchain_type")

EXTENSIONS = {"gzip": ".tar.gz", "none": ".tar", "zstd": ".tar.zst"}

MEDIA_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "none": "application/vnd.oci.image.layer.v1.tar",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}

def _created_by(label, layer):
    """The layer's history entry: `bazel build //pkg:name (layer)`.

    As rules_img's own layers say it (`layer_history(layer_name(label))`,
    img/private/common/layer_helper.bzl:42-78 of v0.3.19), with the layer's name,
    since one target writes several layers.
    """
    name = str(label)
    if name.startswith("@@//"):
        name = name[2:]
    return "bazel build {} ({})".format(name, layer)

COMMON_ATTRS = {
    "compression": attr.string(
        doc = "Layer compression. rules_oci 2.x stores layers as given, so compress here.",
        default = "gzip",
        values = ["gzip", "zstd", "none"],
    ),
    "compression_level": attr.int(
        doc = "Compression level; -1 uses the tool's default (gzip 5, within 0.5% of `gzip -6`; zstd 3).",
        default = -1,
    ),
    "hardlink_duplicates": attr.bool(
        doc = "Store files with identical content and mode once per layer; the others become hard links to it (interpreter aliases such as `python3` and `python3.11`, licence files repeated across wheels).",
        default = True,
    ),
    "mtime": attr.int(
        doc = "Modification time of every entry, in seconds since the epoch.",
        default = 0,
    ),
    "owner": attr.string(
        doc = "`uid:gid` of every entry (e.g. `65532:65532` for a non-root user).",
        default = "0:0",
    ),
}

def layer_options(attr, strip = False, strip_debug = False, excludes = [], includes = [], allow_setuid = False):
    """How every layer of a rule is written: its COMMON_ATTRS and its strip settings.

    Args:
        attr: `ctx.attr` of a rule whose attributes include COMMON_ATTRS.
        strip: apply the layer's strip profile.
        strip_debug: also remove ELF debug sections (only with `strip`).
        excludes: globs of in-image paths to leave out of every layer.
        includes: globs of in-image paths to keep whatever `strip` and `excludes` say.
        allow_setuid: keep setuid/setgid bits of modes the manifest gives (files
            a user placed with an explicit mode); dropped with a warning otherwise.

    Returns:
        struct for layer_action.
    """
    return struct(
        compression = attr.compression,
        level = attr.compression_level,
        hardlink_duplicates = attr.hardlink_duplicates,
        mtime = attr.mtime,
        owner = attr.owner,
        strip = strip,
        strip_debug = strip and strip_debug,
        excludes = excludes,
        includes = includes,
        allow_setuid = allow_setuid,
    )

def layer_action(ctx, tools, layer, manifest, inputs, options, profile = "none", large_packages = None):
    """Runs layer-splitter for one layer.

    Args:
        ctx: the rule context (for its actions and its name, which prefixes the outputs).
        tools: PyImageToolsInfo.
        layer: layer name; also names the outputs.
        manifest: the layer-splitter manifest File.
        inputs: depset of the files the manifest names.
        options: struct from layer_options.
        profile: strip profile when `options.strip`: "python", "site-packages" or "none".
        large_packages: struct(threshold = bytes, packages = dict in-image directory ->
            hint) to warn about packages over the threshold, or None.

    Returns:
        struct(name, blob, descriptor, report, contents, img_metadata, media_type):
        `contents` is the JSON `pyimage-meta report` reads (distributions, files,
        strip savings); `img_metadata` the layer's metadata as rules_img reads it
        (`SingleLayerInfo.metadata`), written by the same action as the blob.
    """
    blob = ctx.actions.declare_file("{}/{}{}".format(ctx.label.name, layer, EXTENSIONS[options.compression]))
    descriptor = ctx.actions.declare_file("{}/{}.json".format(ctx.label.name, layer))
    report = ctx.actions.declare_file("{}/{}.report.txt".format(ctx.label.name, layer))
    contents = ctx.actions.declare_file("{}/{}.contents.json".format(ctx.label.name, layer))
    img_metadata = ctx.actions.declare_file("{}/{}.img.json".format(ctx.label.name, layer))
    args = ctx.actions.args()
    args.add("--manifest", manifest)
    args.add("--name", layer)
    args.add("--output", blob)
    args.add("--descriptor", descriptor)
    args.add("--report", report)
    args.add("--contents", contents)
    args.add("--img-metadata", img_metadata)
    args.add("--created-by", _created_by(ctx.label, layer))
    args.add("--compression", options.compression)
    if options.level >= 0:
        args.add("--level", str(options.level))
    args.add("--mtime", str(options.mtime))
    args.add("--owner", options.owner)
    args.add("--allow-empty")
    if options.hardlink_duplicates:
        args.add("--hardlink-duplicates")
    if options.allow_setuid:
        args.add("--allow-setuid")
    args.add_all(options.excludes, before_each = "--exclude")
    args.add_all(options.includes, before_each = "--include")
    if large_packages:
        args.add("--large-package-bytes", str(large_packages.threshold))
        args.add_all(["{}={}".format(d, h) for d, h in large_packages.packages.items()], before_each = "--package")
    if options.strip and profile != "none":
        args.add("--strip-profile", profile)
        if options.strip_debug:
            args.add("--strip-debug")
    ctx.actions.run(
        executable = tools.layer_splitter,
        arguments = [args],
        inputs = depset([manifest], transitive = [inputs]),
        outputs = [blob, descriptor, report, contents, img_metadata],
        mnemonic = "PyImageLayer",
        progress_message = "Layering %{label} (" + layer + ")",
        toolchain = TOOLS_TOOLCHAIN,
    )
    return struct(
        name = layer,
        blob = blob,
        descriptor = descriptor,
        report = report,
        contents = contents,
        img_metadata = img_metadata,
        media_type = MEDIA_TYPES[options.compression],
    )
