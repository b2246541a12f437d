"""Analysis tests of py_img_layers against rules_img 0.3.19's providers."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_img//img:providers.bzl", "LayersInfo")
load("@rules_pyimage//rules:defs.bzl", "PyImageLayersInfo")

# SingleLayerInfo of rules_img 0.3.19 (img/private/providers/single_layer_info.bzl:17-36),
# written out here so that a stand-in that drifts fails too.
_FIELDS = [
    "blob",
    "metadata",
    "media_type",
    "estargz",
    "compact_stream",
    "layer_input_files",
    "layer_input_files_cas",
    "sources",
    "mtree",
    "ztoc",
]

_MEDIA_TYPES = {
    ".tar": "application/vnd.oci.image.layer.v1.tar",
    ".tar.gz": "application/vnd.oci.image.layer.v1.tar+gzip",
    ".tar.zst": "application/vnd.oci.image.layer.v1.tar+zstd",
}

def _media_type_of(path):
    for extension, media_type in _MEDIA_TYPES.items():
        if path.endswith(extension):
            return media_type
    return None

def _adapter_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    ours = ctx.attr.layers[PyImageLayersInfo].layers
    asserts.true(env, LayersInfo in target, "no LayersInfo")
    if LayersInfo not in target:
        return analysistest.end(env)
    layers = target[LayersInfo].layers
    asserts.equals(env, [layer.name for layer in ours], ctx.attr.names, "layers of {}".format(ctx.attr.layers.label))
    asserts.equals(env, len(ours), len(layers), "one SingleLayerInfo per layer")
    for layer, single in zip(ours, layers):
        for field in _FIELDS:
            # A field the provider declares but nobody set is absent.
            asserts.true(env, hasattr(single, field), "layer {}: SingleLayerInfo.{} is not set".format(layer.name, field))
        present = [f for f in dir(single) if f not in ["to_json", "to_proto"]]
        asserts.equals(env, sorted(_FIELDS), sorted(present), "layer {}: fields".format(layer.name))
        asserts.equals(env, layer.blob, single.blob, "layer {}: blob".format(layer.name))
        asserts.equals(env, layer.img_metadata, single.metadata, "layer {}: metadata".format(layer.name))
        asserts.true(env, single.metadata.basename.endswith(".img.json"), single.metadata.path)
        asserts.equals(env, _media_type_of(single.blob.path), single.media_type, "layer {}: media_type of {}".format(layer.name, single.blob.basename))
        asserts.equals(env, False, single.estargz)
        asserts.equals(env, None, single.compact_stream)
        asserts.equals(env, None, single.layer_input_files)
        asserts.equals(env, None, single.layer_input_files_cas)
        asserts.equals(env, [], single.sources)
        asserts.equals(env, None, single.mtree)
        asserts.equals(env, None, single.ztoc)

    # The adapter hands on what py_image_layers wrote: it declares no action,
    # per layer or otherwise.
    actions = analysistest.target_actions(env)
    asserts.equals(env, [], [a.mnemonic for a in actions], "actions of the adapter")
    return analysistest.end(env)

adapter_test = analysistest.make(
    _adapter_test_impl,
    attrs = {
        "layers": attr.label(doc = "The py_image_layers target the adapter wraps.", providers = [PyImageLayersInfo]),
        "names": attr.string_list(doc = "The layers' names, in image order."),
    },
)

def _one_action_per_layer_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    layers = target[PyImageLayersInfo].layers
    actions = analysistest.target_actions(env)
    writers = {}
    for action in actions:
        for output in action.outputs.to_list():
            writers[output.path] = action
    for layer in layers:
        blob = writers.get(layer.blob.path)
        metadata = writers.get(layer.img_metadata.path)
        asserts.true(env, blob != None and metadata != None, "layer {}: no action writes its blob or metadata".format(layer.name))
        if blob == None or metadata == None:
            continue
        asserts.equals(env, "PyImageLayer", blob.mnemonic)
        asserts.true(env, blob == metadata, "layer {}: the metadata comes from {}, not from the action that writes the blob".format(layer.name, metadata.mnemonic))
        argv = blob.argv
        asserts.true(env, "--img-metadata" in argv and "--created-by" in argv, "layer {}: {}".format(layer.name, argv))
        if "--created-by" in argv:
            asserts.equals(env, "bazel build {} ({})".format(ctx.attr.label_text, layer.name), argv[argv.index("--created-by") + 1])

    # Nothing but the layer actions reads a blob: no hash, descriptor or metadata action.
    for action in actions:
        if action.mnemonic != "PyImageLayer":
            read = [f.path for f in action.inputs.to_list()]
            for layer in layers:
                asserts.false(env, layer.blob.path in read, "{} reads layer {}'s blob".format(action.mnemonic, layer.name))
    layer_actions = [a for a in actions if a.mnemonic == "PyImageLayer"]
    asserts.equals(env, len(layers), len(layer_actions), "one PyImageLayer action per layer")
    group = target[OutputGroupInfo].img_metadata.to_list()
    asserts.equals(env, [layer.img_metadata for layer in layers], group, "the img_metadata output group")
    return analysistest.end(env)

one_action_per_layer_test = analysistest.make(
    _one_action_per_layer_test_impl,
    attrs = {
        "label_text": attr.string(doc = "The target's label as the history entry names it."),
    },
)
