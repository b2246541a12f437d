//! The layer descriptor JSON handed to the Starlark rules.
//!
//! ```json
//! {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
//!  "digest": "sha256:…", "size": 1234, "diffID": "sha256:…",
//!  "entries": 12, "uncompressedSize": 10240}
//! ```

use crate::compress::Compression;
use crate::digest::Digest;

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
