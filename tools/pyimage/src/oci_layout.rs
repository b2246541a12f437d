//! A base image's OCI layout (`index.json` and `blobs/sha256/…`): checking that it is
//! built for the platform an image is built for (`pyimage-meta check-base`), and writing
//! an empty one for an image without a base (`pyimage-meta empty-base`).
//!
//! The check reads what rules_oci's `oci_image` builds on: the first entry of
//! `index.json` (rules_oci v2.2.6 oci/private/image.sh, `base_from`: `.manifests[0]`).
//! That entry must be an image manifest whose config names the same `os` and
//! `architecture` (and variant, when one is asked for). A multi-platform image (the entry
//! is an index, by OCI or Docker media type or by content) is refused with the platforms
//! it holds; so is a layout of several images whose first is for another platform, since
//! rules_oci would silently build on it.
//!
//! Every document is parsed as JSON first (errors name the file, line and column), every
//! digest is checked to be `sha256:` and 64 lowercase hex digits before it becomes a
//! path, then the document is read with the `oci-spec` types. A blob must have the size
//! and the SHA-256 its descriptor gives.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::atomic::TempOutput;
use crate::error::{Error, Result};
use crate::media_type;

/// Manifests and configs are small; a larger blob is refused rather than read.
const MAX_JSON_BLOB: u64 = 64 << 20;

/// An OCI platform: `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, …
    pub architecture: String,
    /// `v8`, …; `None` when not given.
    pub variant: Option<String>,
}

impl Platform {
    /// The variant, with the default an absent one stands for (as container runtimes
    /// normalise it: `arm64` is `v8`, `arm` is `v7`, `amd64` is `v1`).
    fn normalized_variant(&self) -> Option<&str> {
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm64", None) => Some("v8"),
            ("arm", None) => Some("v7"),
            ("amd64", None) => Some("v1"),
            (_, variant) => variant,
        }
    }

    /// Whether `self` (what a base offers) satisfies `want`: same os and architecture,
    /// and the same variant if `want` names one.
    pub fn satisfies(&self, want: &Platform) -> bool {
        self.os == want.os
            && self.architecture == want.architecture
            && (want.variant.is_none() || self.normalized_variant() == want.normalized_variant())
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl From<&oci_spec::image::Platform> for Platform {
    fn from(p: &oci_spec::image::Platform) -> Self {
        Platform {
            os: p.os().to_string(),
            architecture: p.architecture().to_string(),
            variant: p.variant().clone(),
        }
    }
}

/// What `check-base` found: the base's platform (from its config) and the manifest that
/// was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// `os`, `architecture` and `variant` of the image config.
    pub platform: Platform,
    /// Digest of the chosen image manifest.
    pub manifest: String,
    /// How many layers the image has.
    pub layers: usize,
}

/// The most layers an image may have: Docker refuses more ("max depth exceeded"), and
/// containerd's overlay snapshotter fails to mount that many lower directories.
pub const MAX_LAYERS: usize = 127;

/// Refuses a base that, with `above` layers built on it, makes an image over
/// [`MAX_LAYERS`]. `label` names the image target in messages.
pub fn check_layer_count(base: &BaseImage, above: usize, label: &str) -> Result<()> {
    let total = base.layers + above;
    if total <= MAX_LAYERS {
        return Ok(());
    }
    Err(Error::Platform(format!(
        "{label} would have {total} layers, {} of its base and {above} on top, and Docker and containerd refuse images of more than {MAX_LAYERS} layers (\"max depth exceeded\"): use a base with fewer layers (squash it), fewer `groups` or `extra_layers`, or `split_deps = False`",
        base.layers,
    )))
}

impl BaseImage {
    /// The line `check-base` writes: `os/architecture[/variant] sha256:…`.
    pub fn line(&self) -> String {
        format!("{} {}\n", self.platform, self.manifest)
    }
}

/// The `sha256` hex of a digest, if it is exactly `sha256:` and 64 lowercase hex digits.
pub fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    let valid = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    valid.then_some(hex)
}

/// Checks that the OCI layout at `dir` holds an image for `want`. `label` names the
/// image target in messages.
pub fn check_base(dir: &Path, want: &Platform, label: &str) -> Result<BaseImage> {
    let layout = Layout { dir, want, label };
    let index_path = dir.join("index.json");
    let bytes = read_limited(&index_path, None)?;
    let document = Document::parse(index_path, bytes, "image index")?;
    let index: ImageIndex = serde_json::from_slice(&document.bytes).map_err(document.invalid())?;
    let manifests = index.manifests();
    let Some(first) = manifests.first() else {
        return Err(Error::BadFile {
            path: document.path,
            message: "lists no manifests; use a base image layout that holds an image".to_string(),
        });
    };
    let blob = layout.blob(first, &document.path, "image manifest")?;
    if layout.is_index(first, &blob) {
        let nested: ImageIndex = serde_json::from_slice(&blob.bytes).map_err(blob.invalid())?;
        let arch = &want.architecture;
        return Err(Error::Platform(format!(
            "base of {label} is a multi-platform image ({}), and rules_oci's oci_image builds on a single image: use its {want} image (the `_{}_{arch}` repository that `oci.pull` creates for each of its platforms), or an `oci_image`",
            nested.manifests().iter().map(describe).collect::<Vec<_>>().join(", "),
            want.os,
        )));
    }
    let others = match manifests.len() {
        1 => String::new(),
        n => format!(
            " ({} lists {n} images: {}; rules_oci's oci_image builds on the first only, so put the {want} image first or give a layout holding only it)",
            document.path.display(),
            manifests.iter().map(describe).collect::<Vec<_>>().join(", "),
        ),
    };
    layout.check_manifest(first, blob, &others)
}

/// The one entry of an OCI layout's `index.json`: the image (or index) it holds, as a
/// push sends it. Its digest is checked to be `sha256:` and 64 lowercase hex digits.
fn layout_entry(dir: &Path) -> Result<Descriptor> {
    let index_path = dir.join("index.json");
    let bytes = read_limited(&index_path, None)?;
    let document = Document::parse(index_path, bytes, "image index")?;
    let index: ImageIndex = serde_json::from_slice(&document.bytes).map_err(document.invalid())?;
    match index.manifests().as_slice() {
        [one] => Ok(one.clone()),
        other => Err(Error::BadFile {
            path: document.path,
            message: format!(
                "lists {} manifests; a pushed layout holds exactly one image or index",
                other.len()
            ),
        }),
    }
}

/// The digest of the image (or index) an OCI layout holds: its `index.json`'s one
/// entry, as a push sends it. Writes `sha256:<hex>` and a newline to `out`.
pub fn write_layout_digest(dir: &Path, out: &Path) -> Result<()> {
    let digest = layout_entry(dir)?.digest().to_string();
    let (output, mut file) = TempOutput::create(out)?;
    file.write_all(format!("{digest}\n").as_bytes())
        .map_err(|e| Error::io(format!("writing {}", out.display()), e))?;
    output.commit()
}

/// The most an SBOM may have here: the SBOM of a multi-GB ML image is a few MB.
const MAX_SBOM: u64 = 256 << 20;

/// Writes an OCI layout into the directory `out` (new or empty) holding one artifact
/// manifest that refers to the image of the layout `image`: `artifactType`, config and
/// one layer `application/spdx+json`, both the file `sbom` (one blob), and `subject`,
/// the image's descriptor from its `index.json`. Pushed next to the image, registries
/// list it among the image's referrers (the OCI distribution spec's referrers API, or
/// the `sha256-<hex>` tag index for registries without it). Same inputs, same bytes.
///
/// Why the SBOM is the config too rather than the empty config (`{}`) OCI 1.1 suggests:
/// where the registry has no referrers API, the client that pushes writes the tag index,
/// and crane (go-containerregistry v0.20, `commitSubjectReferrers`) gives each entry
/// the config's media type as its `artifactType`. With the empty config, the entry
/// would say `application/vnd.oci.empty.v1+json`, and scanners that look for
/// `application/spdx+json` among an image's referrers (on GHCR, say) would not find it.
pub fn write_sbom_referrer(image: &Path, sbom: &Path, out: &Path) -> Result<()> {
    let subject = layout_entry(image)?;
    let subject_type = subject.media_type().to_string();
    if ![
        media_type::IMAGE_MANIFEST,
        media_type::IMAGE_INDEX,
        media_type::DOCKER_MANIFEST,
        media_type::DOCKER_MANIFEST_LIST,
    ]
    .contains(&subject_type.as_str())
    {
        return Err(Error::BadFile {
            path: image.join("index.json"),
            message: format!(
                "lists a {subject_type:?}, not an image manifest or index; give sbom-referrer the layout of an oci_image"
            ),
        });
    }
    let file = std::fs::File::open(sbom)
        .map_err(|e| Error::io(format!("cannot read {}", sbom.display()), e))?;
    let sbom_bytes = read_sized(sbom, file, MAX_SBOM, "an SBOM may have here")?;
    if let Err(e) = serde_json::from_slice::<Value>(&sbom_bytes) {
        return Err(Error::BadFile {
            path: sbom.to_path_buf(),
            message: format!(
                "is not JSON ({e}); give sbom-referrer the SPDX JSON of the image report"
            ),
        });
    }
    let cannot = |what: &Path| {
        let what = what.display().to_string();
        move |e| Error::io(format!("cannot write {what}"), e)
    };
    std::fs::create_dir_all(out).map_err(cannot(out))?;
    if std::fs::read_dir(out)
        .map_err(cannot(out))?
        .next()
        .is_some()
    {
        return Err(Error::BadFile {
            path: out.to_path_buf(),
            message: "is not empty; give sbom-referrer a new or empty directory".to_string(),
        });
    }
    let blobs = out.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).map_err(cannot(&blobs))?;
    let put = |bytes: &[u8]| -> Result<(String, usize)> {
        let hex = format!("{:x}", Sha256::digest(bytes));
        let path = blobs.join(&hex);
        std::fs::write(&path, bytes).map_err(cannot(&path))?;
        Ok((format!("sha256:{hex}"), bytes.len()))
    };
    let text = |s: &str| Value::from(s).to_string();
    let (sbom_digest, sbom_size) = put(&sbom_bytes)?;
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{manifest}","artifactType":"{spdx}","config":{{"mediaType":"{spdx}","digest":"{sbom_digest}","size":{sbom_size}}},"layers":[{{"mediaType":"{spdx}","digest":"{sbom_digest}","size":{sbom_size},"annotations":{{"org.opencontainers.image.title":"sbom.spdx.json"}}}}],"subject":{{"mediaType":{subject_type},"digest":{subject_digest},"size":{subject_size}}}}}"#,
        manifest = media_type::IMAGE_MANIFEST,
        spdx = media_type::SPDX_JSON,
        subject_type = text(&subject_type),
        subject_digest = text(subject.digest().as_ref()),
        subject_size = subject.size(),
    );
    let (manifest_digest, manifest_size) = put(manifest.as_bytes())?;
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","artifactType":"{}","digest":"{manifest_digest}","size":{manifest_size}}}]}}"#,
        media_type::IMAGE_INDEX,
        media_type::IMAGE_MANIFEST,
        media_type::SPDX_JSON,
    );
    for (name, text) in [
        ("oci-layout", OCI_LAYOUT.to_string()),
        ("index.json", index),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(cannot(&path))?;
    }
    Ok(())
}

/// The `oci-layout` file of a layout this module writes.
const OCI_LAYOUT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

/// An index entry for messages: its platform, if it names one, and its digest.
fn describe(d: &Descriptor) -> String {
    match d.platform() {
        Some(p) => format!("{} {}", Platform::from(p), d.digest()),
        None => format!("{} (no platform given)", d.digest()),
    }
}

/// The config of the empty image `empty-base` writes. Its fields and their order are
/// those of the config rules_oci's `oci_image` starts from without a base (v2.2.6
/// oci/private/image.sh, `base_from_scratch`), with the platform last, its keys sorted
/// as Starlark's `json.encode` writes the platform there, so an image built on it is
/// byte for byte the one built without a base.
fn empty_config(platform: &Platform) -> String {
    let text = |s: &str| Value::from(s).to_string();
    let variant = platform
        .variant
        .as_deref()
        .map_or(String::new(), |v| format!(r#","variant":{}"#, text(v)));
    format!(
        r#"{{"created":"1970-01-01T00:00:00Z","config":{{}},"history":[],"rootfs":{{"type":"layers","diff_ids":[]}},"architecture":{},"os":{}{variant}}}"#,
        text(&platform.architecture),
        text(&platform.os),
    )
}

/// Writes an OCI layout holding one empty image for `platform` into the directory `out`
/// (created if missing; it must hold nothing else): `oci-layout`, `index.json` and the
/// image's manifest and config blobs. The same platform gives the same bytes.
pub fn write_empty_base(out: &Path, platform: &Platform) -> Result<()> {
    let cannot = |what: &Path| {
        let what = what.display().to_string();
        move |e| Error::io(format!("cannot write {what}"), e)
    };
    std::fs::create_dir_all(out).map_err(cannot(out))?;
    let existing = std::fs::read_dir(out).map_err(cannot(out))?.count();
    if existing != 0 {
        return Err(Error::BadFile {
            path: out.to_path_buf(),
            message: "is not empty; give empty-base a new or empty directory".to_string(),
        });
    }
    let blobs = out.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).map_err(cannot(&blobs))?;
    let put = |bytes: &[u8]| -> Result<(String, usize)> {
        let hex = format!("{:x}", Sha256::digest(bytes));
        let path = blobs.join(&hex);
        std::fs::write(&path, bytes).map_err(cannot(&path))?;
        Ok((format!("sha256:{hex}"), bytes.len()))
    };
    let (config_digest, config_size) = put(empty_config(platform).as_bytes())?;
    // Key order as rules_oci writes a manifest without a base: the config's size before
    // its digest.
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":{config_size},"digest":"{config_digest}"}},"layers":[]}}"#,
        media_type::IMAGE_MANIFEST,
        media_type::IMAGE_CONFIG,
    );
    let (manifest_digest, manifest_size) = put(manifest.as_bytes())?;
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","digest":"{manifest_digest}","size":{manifest_size}}}]}}"#,
        media_type::IMAGE_INDEX,
        media_type::IMAGE_MANIFEST,
    );
    for (name, text) in [
        ("oci-layout", OCI_LAYOUT.to_string()),
        ("index.json", index),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(cannot(&path))?;
    }
    Ok(())
}

/// Writes `base.line()` to `out`, atomically.
pub fn write_base_check(out: &Path, base: &BaseImage) -> Result<()> {
    let (output, mut file) = TempOutput::create(out)?;
    file.write_all(base.line().as_bytes())
        .map_err(|e| Error::io(format!("writing {}", out.display()), e))?;
    output.commit()
}

/// A JSON document read from the layout.
struct Document {
    path: PathBuf,
    bytes: Vec<u8>,
    value: Value,
    what: &'static str,
}

impl Document {
    /// Parses `bytes` as JSON and checks every descriptor digest in it.
    fn parse(path: PathBuf, bytes: Vec<u8>, what: &'static str) -> Result<Document> {
        let value: Value = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            path: path.clone(),
            what,
            source,
        })?;
        let document = Document {
            path,
            bytes,
            value,
            what,
        };
        document.check_digests()?;
        Ok(document)
    }

    /// Refuses a descriptor digest that is not `sha256:<64 hex>` (it becomes a path).
    fn check_digests(&self) -> Result<()> {
        let mut descriptors: Vec<(String, &Value)> = Vec::new();
        for list in ["manifests", "layers"] {
            if let Some(items) = self.value.get(list).and_then(Value::as_array) {
                descriptors.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (format!("{list}[{i}]"), d)),
                );
            }
        }
        if let Some(config) = self.value.get("config") {
            descriptors.push(("config".to_string(), config));
        }
        for (at, descriptor) in descriptors {
            let Some(digest) = descriptor.get("digest") else {
                continue; // the typed parse names the missing field
            };
            if digest.as_str().and_then(sha256_hex).is_none() {
                return Err(Error::BadFile {
                    path: self.path.clone(),
                    message: format!(
                        "{at}.digest is {digest}, not a SHA-256 digest (`sha256:` and 64 lowercase hex digits); the base image layout is damaged or was not written by an OCI tool: pull it again"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The error for a document that does not deserialise as the `oci-spec` type.
    fn invalid(&self) -> impl FnOnce(serde_json::Error) -> Error + '_ {
        |source| Error::Json {
            path: self.path.clone(),
            what: self.what,
            source,
        }
    }
}

struct Layout<'a> {
    dir: &'a Path,
    want: &'a Platform,
    label: &'a str,
}

impl Layout<'_> {
    /// Reads and parses the blob `descriptor` names (`from` is the document naming it).
    fn blob(&self, descriptor: &Descriptor, from: &Path, what: &'static str) -> Result<Document> {
        let digest = descriptor.digest().to_string();
        let hex = sha256_hex(&digest).ok_or_else(|| Error::BadFile {
            path: from.to_path_buf(),
            message: format!("names blob {digest}, which is not a SHA-256 digest"),
        })?;
        let path = self.dir.join("blobs").join("sha256").join(hex);
        let bytes = read_limited(&path, Some(descriptor.size())).map_err(|e| match e {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Error::BadFile {
                    path: from.to_path_buf(),
                    message: format!(
                        "names blob {digest}, but {} does not exist; the base image layout is incomplete: pull it again",
                        path.display()
                    ),
                }
            }
            other => other,
        })?;
        let actual = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        if actual != hex {
            return Err(Error::BadFile {
                path,
                message: format!(
                    "has SHA-256 {actual}, not the {hex} its name and {} give; the base image layout is damaged: pull it again",
                    from.display()
                ),
            });
        }
        Document::parse(path, bytes, what)
    }

    /// Whether an index entry is itself an index: by media type, or, for a media type
    /// that is neither an index nor a manifest, by content.
    fn is_index(&self, descriptor: &Descriptor, blob: &Document) -> bool {
        match descriptor.media_type().to_string().as_str() {
            media_type::IMAGE_INDEX | media_type::DOCKER_MANIFEST_LIST => true,
            media_type::IMAGE_MANIFEST | media_type::DOCKER_MANIFEST => false,
            _ => blob.value.get("manifests").is_some_and(Value::is_array),
        }
    }

    /// Reads the manifest's config and compares its platform with `want`.
    fn check_manifest(
        &self,
        descriptor: &Descriptor,
        manifest: Document,
        others: &str,
    ) -> Result<BaseImage> {
        let parsed: ImageManifest =
            serde_json::from_slice(&manifest.bytes).map_err(manifest.invalid())?;
        let layers = parsed.layers().len();
        let config = self.blob(parsed.config(), &manifest.path, "image config")?;
        let parsed: ImageConfiguration =
            serde_json::from_slice(&config.bytes).map_err(config.invalid())?;
        let platform = Platform {
            os: parsed.os().to_string(),
            architecture: parsed.architecture().to_string(),
            variant: parsed.variant().clone(),
        };
        if !platform.satisfies(self.want) {
            let want = self.want;
            let (have, wanted) = if platform.os == want.os && want.variant.is_none() {
                (platform.architecture.clone(), want.architecture.clone())
            } else {
                (platform.to_string(), want.to_string())
            };
            return Err(Error::Platform(format!(
                "base of {} is {have} but `platform` builds for {wanted}: use a base image for {want}, or set `platform` to the base's{others}",
                self.label,
            )));
        }
        Ok(BaseImage {
            platform,
            manifest: descriptor.digest().to_string(),
            layers,
        })
    }
}

/// Reads a file of at most [`MAX_JSON_BLOB`] bytes; with `size`, it must have exactly
/// that many.
fn read_limited(path: &Path, size: Option<u64>) -> Result<Vec<u8>> {
    let cannot = |e| Error::io(format!("cannot read {}", path.display()), e);
    let file = std::fs::File::open(path).map_err(cannot)?;
    let len = file.metadata().map_err(cannot)?.len();
    if let Some(size) = size.filter(|&s| s != len) {
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!(
                "has {len} bytes but its descriptor says {size}; the base image layout is damaged: pull it again"
            ),
        });
    }
    read_sized(
        path,
        file,
        MAX_JSON_BLOB,
        "a manifest or config may have here; check that --layout is a base image layout",
    )
}

/// Reads a file of at most `max` bytes; a larger one is refused with `too_big` (what
/// may have at most `max` bytes, and the fix).
fn read_sized(path: &Path, file: std::fs::File, max: u64, too_big: &str) -> Result<Vec<u8>> {
    let cannot = |e| Error::io(format!("cannot read {}", path.display()), e);
    let len = file.metadata().map_err(cannot)?.len();
    if len > max {
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!("has {len} bytes, more than the {max} {too_big}"),
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(cannot)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.into(),
            architecture: arch.into(),
            variant: variant.map(Into::into),
        }
    }

    #[test]
    fn platforms_match_with_default_variants() {
        let arm64 = p("linux", "arm64", None);
        assert!(p("linux", "arm64", Some("v8")).satisfies(&arm64));
        assert!(arm64.satisfies(&p("linux", "arm64", Some("v8"))));
        assert!(!p("linux", "arm64", Some("v9")).satisfies(&p("linux", "arm64", Some("v8"))));
        assert!(p("linux", "arm64", Some("v9")).satisfies(&arm64));
        assert!(!p("linux", "amd64", None).satisfies(&arm64));
        assert!(!p("windows", "arm64", None).satisfies(&arm64));
        assert_eq!(p("linux", "arm", Some("v7")).to_string(), "linux/arm/v7");
        assert_eq!(arm64.to_string(), "linux/arm64");
    }

    #[test]
    fn digests_become_paths_only_when_plain_sha256() {
        let hex = "a".repeat(64);
        assert_eq!(sha256_hex(&format!("sha256:{hex}")), Some(hex.as_str()));
        for bad in [
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!("sha256:{}/", "a".repeat(63)),
            format!("sha512:{hex}"),
            format!("sha256:../../{}", "a".repeat(58)),
            hex.clone(),
            String::new(),
        ] {
            assert_eq!(sha256_hex(&bad), None, "{bad}");
        }
    }
}
