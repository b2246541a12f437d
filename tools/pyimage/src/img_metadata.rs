//! rules_img's layer metadata JSON, written next to the blob by the same run.
//!
//! rules_img (v0.3.19) reads a layer through `SingleLayerInfo.metadata`, a JSON file that
//! its `img manifest` decodes into `api.Descriptor` with `DisallowUnknownFields`
//! (`img_tool/cmd/manifest/manifest.go:383`), so the
//! keys are exactly these (`img_tool/pkg/api/api.go:99-106`; history entries are
//! `api.History`, `api.go:71-86`, one `{"created_by": …}` per layer as
//! `api.LayerHistory` makes them, `api.go:92-97`):
//!
//! ```json
//! {
//!   "diff_id": "sha256:…",
//!   "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
//!   "digest": "sha256:…",
//!   "size": 1234,
//!   "history": [
//!     {
//!       "created_by": "bazel build //app:layers (deps)"
//!     }
//!   ]
//! }
//! ```
//!
//! The bytes are those Go's `json.Encoder` with `SetIndent("", "  ")` writes for the same
//! values (`img_tool/cmd/hash/hashfile.go:285-287`, what rules_img's own `img hash`
//! writes for a tar it is given): fields in struct order, `history` left out when empty,
//! a final newline, and `<`, `>`, `&`, U+2028 and U+2029 escaped as Go escapes them.

use crate::descriptor::LayerDescriptor;

/// The layer's rules_img metadata: `descriptor`'s digests and media type, and a one-entry
/// history saying how the layer was made when `created_by` is given.
pub fn render_img_metadata(descriptor: &LayerDescriptor, created_by: Option<&str>) -> String {
    let mut out = format!(
        "{{\n  \"diff_id\": \"{}\",\n  \"mediaType\": \"{}\",\n  \"digest\": \"{}\",\n  \"size\": {}",
        descriptor.tar.oci(),
        descriptor.compression.media_type(),
        descriptor.blob.oci(),
        descriptor.blob.size,
    );
    if let Some(created_by) = created_by.filter(|text| !text.is_empty()) {
        out += &format!(
            ",\n  \"history\": [\n    {{\n      \"created_by\": {}\n    }}\n  ]",
            go_json_string(created_by)
        );
    }
    out += "\n}\n";
    out
}

/// `text` as a JSON string literal, escaped as Go's `encoding/json` does with HTML
/// escaping on (its default): `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, every other control
/// character and `<`, `>`, `&`, U+2028, U+2029 as `\u00XX` / `\u20XX`.
fn go_json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go 1.22 and later (rules_img 0.3.19 builds with 1.26).
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::Compression;
    use crate::digest::Digest;

    fn descriptor(compression: Compression) -> LayerDescriptor {
        LayerDescriptor {
            compression,
            blob: Digest {
                hex: "ab".repeat(32),
                size: 3,
            },
            tar: Digest {
                hex: "cd".repeat(32),
                size: 1024,
            },
            entries: 2,
        }
    }

    #[test]
    fn exactly_the_keys_rules_img_decodes_in_its_order() {
        let json = render_img_metadata(
            &descriptor(Compression::Gzip),
            Some("bazel build //app:layers (deps)"),
        );
        assert_eq!(
            json,
            format!(
                "{{\n  \"diff_id\": \"sha256:{}\",\n  \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n  \"digest\": \"sha256:{}\",\n  \"size\": 3,\n  \"history\": [\n    {{\n      \"created_by\": \"bazel build //app:layers (deps)\"\n    }}\n  ]\n}}\n",
                "cd".repeat(32),
                "ab".repeat(32)
            )
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5);
        for key in ["diff_id", "mediaType", "digest", "size", "history"] {
            assert!(value.get(key).is_some(), "{key} missing: {json}");
        }
        assert_eq!(value["history"][0].as_object().unwrap().len(), 1);
    }

    #[test]
    fn no_history_without_created_by() {
        for created_by in [None, Some("")] {
            let json = render_img_metadata(&descriptor(Compression::Zstd), created_by);
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(value.as_object().unwrap().len(), 4, "{json}");
            assert_eq!(
                value["mediaType"],
                "application/vnd.oci.image.layer.v1.tar+zstd"
            );
            assert_eq!(value["size"], 3);
        }
        let json = render_img_metadata(&descriptor(Compression::None), None);
        assert!(json.contains("\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\",\n"));
    }

    #[test]
    fn created_by_is_escaped_as_go_escapes_it() {
        let text = "a \"b\" \\ <c> & d\n\u{1}\u{8}\u{2028}é";
        let literal = go_json_string(text);
        assert_eq!(
            literal,
            "\"a \\\"b\\\" \\\\ \\u003cc\\u003e \\u0026 d\\n\\u0001\\b\\u2028é\""
        );
        let back: String = serde_json::from_str(&literal).unwrap();
        assert_eq!(back, text);
    }
}
