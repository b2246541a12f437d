//! OCI media types, in one place: [`Compression`](crate::Compression) names its layer's
//! type from here and the descriptor writes it.

/// OCI media type of an uncompressed layer.
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI media type of a gzip layer.
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI media type of a zstd layer.
pub const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::MediaType;

    #[test]
    fn media_types_match_the_oci_spec_crate() {
        assert_eq!(LAYER_TAR, MediaType::ImageLayer.to_string());
        assert_eq!(LAYER_GZIP, MediaType::ImageLayerGzip.to_string());
        assert_eq!(LAYER_ZSTD, MediaType::ImageLayerZstd.to_string());
    }
}
