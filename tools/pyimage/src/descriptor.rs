//! The layer descriptor JSON handed to the Starlark rules.
//!
//! ```json
//! {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
//!  "digest": "sha256:…", "size": 1234, "diffID": "sha256:…",
//!  "entries": 12, "uncompressedSize": 10240}
//! ```

use crate::compress::Compression;
use crate::digest::Digest;

/// OCI media type of an uncompressed layer.
pub const MEDIA_TYPE_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI media type of a gzip layer.
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI media type of a zstd layer.
pub const MEDIA_TYPE_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// What a layer blob is, as written to the descriptor file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDescriptor {
    /// The blob's compression (gives the media type).
    pub compression: Compression,
    /// Digest and size of the blob.
    pub blob: Digest,
    /// Digest and size of the uncompressed tar (the diff ID).
    pub tar: Digest,
    /// Number of tar members (directories, files, symlinks and hard links; PAX headers not
    /// counted).
    pub entries: u64,
}

impl LayerDescriptor {
    /// The descriptor as one line of JSON, keys in a fixed order.
    pub fn to_json(&self) -> String {
        // Every value is a fixed string, a hex digest or a number: nothing to escape.
        format!(
            "{{\"mediaType\": \"{}\", \"digest\": \"{}\", \"size\": {}, \"diffID\": \"{}\", \"entries\": {}, \"uncompressedSize\": {}}}\n",
            self.compression.media_type(),
            self.blob.oci(),
            self.blob.size,
            self.tar.oci(),
            self.entries,
            self.tar.size,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::MediaType;

    #[test]
    fn media_types_match_the_oci_spec_crate() {
        assert_eq!(MEDIA_TYPE_LAYER_TAR, MediaType::ImageLayer.to_string());
        assert_eq!(MEDIA_TYPE_LAYER_GZIP, MediaType::ImageLayerGzip.to_string());
        assert_eq!(MEDIA_TYPE_LAYER_ZSTD, MediaType::ImageLayerZstd.to_string());
    }

    #[test]
    fn json_shape() {
        let d = LayerDescriptor {
            compression: Compression::Zstd,
            blob: Digest {
                hex: "ab".into(),
                size: 3,
            },
            tar: Digest {
                hex: "cd".into(),
                size: 1024,
            },
            entries: 2,
        };
        assert_eq!(
            d.to_json(),
            "{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+zstd\", \"digest\": \"sha256:ab\", \"size\": 3, \"diffID\": \"sha256:cd\", \"entries\": 2, \"uncompressedSize\": 1024}\n"
        );
    }
}
