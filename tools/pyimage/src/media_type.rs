//! OCI media types, in one place: [`Compression`](crate::Compression) names its layer's
//! type from here and the descriptor writes it; [`oci_layout`](crate::oci_layout) tells
//! indexes from manifests by them.

/// OCI media type of an uncompressed layer.
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI media type of a gzip layer.
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI media type of a zstd layer.
pub const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI image index (a list of manifests, one per platform).
pub const IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image config.
pub const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// An SPDX JSON document: the SBOM referrer's artifact, config and layer type.
pub const SPDX_JSON: &str = "application/spdx+json";
/// Docker's image index (manifest list), which registries still serve.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker's image manifest (schema 2).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::MediaType;

    #[test]
    fn media_types_match_the_oci_spec_crate() {
        assert_eq!(LAYER_TAR, MediaType::ImageLayer.to_string());
        assert_eq!(LAYER_GZIP, MediaType::ImageLayerGzip.to_string());
        assert_eq!(LAYER_ZSTD, MediaType::ImageLayerZstd.to_string());
        assert_eq!(IMAGE_INDEX, MediaType::ImageIndex.to_string());
        assert_eq!(IMAGE_CONFIG, MediaType::ImageConfig.to_string());
        assert_eq!(IMAGE_MANIFEST, MediaType::ImageManifest.to_string());
    }
}
