"""TEST STAND-IN for @rules_img//img:providers.bzl of rules_img 0.3.19 (c93884a).

Only the two providers a layer rule hands to image_manifest and image_index,
with exactly the fields the real ones declare, in their order. Bazel refuses a
field a provider does not declare and leaves undeclared ones unset, so a layer
rule built against a different field list fails here as it would there. The
field docs are this module's own words; the names are the contract.
"""

# rules_img 0.3.19 img/private/providers/single_layer_info.bzl:17-36 (FIELDS),
# 38-41 (the provider); re-exported by img/providers.bzl:10,20. The list grew
# within 0.3.x: 0.3.10-0.3.13 had the first 4, 0.3.14-0.3.15 added
# compact_stream, layer_input_files and layer_input_files_cas (7), 0.3.16-0.3.17
# sources and mtree (9), 0.3.18 ztoc (10).
SINGLE_LAYER_INFO_FIELDS = {
    # single_layer_info.bzl:18
    "blob": "File: the layer blob, or None (a shallow base layer, compact-stream-only mode).",
    # single_layer_info.bzl:19 (doc at :7-15): a JSON file that `img manifest`
    # decodes into api.Descriptor, refusing unknown keys.
    "metadata": "File: JSON with diff_id, mediaType, digest, size and optional annotations and history.",
    # single_layer_info.bzl:20
    "media_type": "string: the layer's media type, e.g. application/vnd.oci.image.layer.v1.tar+gzip.",
    # single_layer_info.bzl:21
    "estargz": "bool: whether the layer is an estargz layer.",
    # single_layer_info.bzl:22
    "compact_stream": "File: the layer's compact stream (.cstream), or None.",
    # single_layer_info.bzl:23
    "layer_input_files": "depset of the files that went into the layer, or None.",
    # single_layer_info.bzl:24
    "layer_input_files_cas": "directory File of the input files by content (sha256/<hex>), or None.",
    # single_layer_info.bzl:25-33
    "sources": "list of struct(registry, repository) the blob can be fetched from; [] for layers built locally.",
    # single_layer_info.bzl:34
    "mtree": "File: an mtree(8) description of the layer's tar, or None.",
    # single_layer_info.bzl:35
    "ztoc": "File: the layer's SOCI ztoc, or None.",
}

SingleLayerInfo = provider(
    doc = "TEST STAND-IN: one layer of a container image (rules_img 0.3.19's SingleLayerInfo).",
    fields = SINGLE_LAYER_INFO_FIELDS,
)

# rules_img 0.3.19 img/private/providers/layers_info.bzl:9-11 (FIELDS), 13-16
# (the provider); re-exported by img/providers.bzl:5,21.
LAYERS_INFO_FIELDS = {
    "layers": "list of SingleLayerInfo, from the bottom (base) to the top (application).",
}

LayersInfo = provider(
    doc = "TEST STAND-IN: an ordered collection of layers (rules_img 0.3.19's LayersInfo).",
    fields = LAYERS_INFO_FIELDS,
)
