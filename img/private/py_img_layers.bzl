"""py_img_layers: a py_image_layers target's layers as rules_img's LayersInfo."""

load("@rules_img//img:providers.bzl", "LayersInfo", "SingleLayerInfo")
load("@rules_pyimage//rules:defs.bzl", "PyImageLayersInfo")

_DOC = """The layers of a [py_image_layers](../docs/defs.md#py_image_layers) target as
rules_img layers, for `image_manifest(layers = [...])`.

Each layer is the blob and the rules_img metadata that layer-splitter wrote in
the same action (digest, size, diff_id, media type and a history entry), so
rules_img takes them as they are: no action here, none per layer in
`image_manifest`, where a plain tar gets one hash action per layer.

```starlark
load("@rules_img//img:image.bzl", "image_manifest")
load("@rules_pyimage//rules:defs.bzl", "py_image_layers")
load("@rules_pyimage_img//:defs.bzl", "py_img_layers")

py_image_layers(
    name = "layers",
    binary = ":app",
)

py_img_layers(
    name = "img_layers",
    layers = ":layers",
)

image_manifest(
    name = "image",
    base = "@distroless_python",
    layers = [":img_layers"],
    entrypoint = ["/app/app"],
)
```

Output groups: `img_metadata` (each layer's metadata JSON).
"""

_ATTRS = {
    "layers": attr.label(
        doc = "A py_image_layers target (or any target with PyImageLayersInfo): its layers, in image order.",
        mandatory = True,
        providers = [PyImageLayersInfo],
    ),
}

def _single_layer(layer):
    """rules_img 0.3.19's SingleLayerInfo for one layer, every field set."""
    return SingleLayerInfo(
        blob = layer.blob,
        metadata = layer.img_metadata,
        media_type = layer.media_type,
        # A plain deterministic tar: no estargz table of contents, no compact
        # stream or content-addressed inputs, no upstream registry, and no
        # mtree or SOCI ztoc precomputed.
        estargz = False,
        compact_stream = None,
        layer_input_files = None,
        layer_input_files_cas = None,
        sources = [],
        mtree = None,
        ztoc = None,
    )

def _py_img_layers_impl(ctx):
    layers = ctx.attr.layers[PyImageLayersInfo].layers
    return [
        DefaultInfo(files = depset([layer.blob for layer in layers])),
        LayersInfo(layers = [_single_layer(layer) for layer in layers]),
        OutputGroupInfo(img_metadata = depset([layer.img_metadata for layer in layers])),
    ]

py_img_layers = rule(
    implementation = _py_img_layers_impl,
    doc = _DOC,
    attrs = _ATTRS,
)
