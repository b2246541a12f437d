//! What a layer holds, for the image report and the SBOM: its descriptor, what each
//! strip rule removed, the Python distributions it carries (from their `.dist-info`
//! `METADATA` and `RECORD`) and every regular file with its size and distribution.
//!
//! `layer-splitter --contents` writes it next to the blob, so the report never reads a
//! multi-GB layer again. The format is JSON with sorted keys (`schema` names its version);
//! [`read_contents`] reads it back.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::digest::hex;
use crate::error::{Error, Result};
use crate::inputs::{Entry, EntryKind};
use crate::layer::WrittenLayer;
use crate::path::{parent, resolve_link};
use crate::strip::StripStats;

/// The `schema` value of the contents files this version writes and reads.
pub const SCHEMA: &str = "rules_pyimage/layer-contents/1";

/// A Python distribution found in a layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution {
    /// `Name` from METADATA, as the distribution spells it.
    pub name: String,
    /// `Version` from METADATA.
    pub version: String,
    /// `Summary` from METADATA.
    pub summary: String,
    /// `License-Expression` (an SPDX expression, PEP 639), empty when absent.
    pub license_expression: String,
    /// The first line of `License`, or the `License ::` classifiers, for older metadata.
    pub license_text: String,
    /// In-image path of its `.dist-info` directory.
    pub dist_info: String,
    /// SHA-256 of its installed `RECORD` (which holds every installed file's hash),
    /// empty when it has none.
    pub record_sha256: String,
    /// Regular files of this layer that its RECORD names.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// The contents of one layer, as [`read_contents`] returns them.
#[derive(Debug, Clone, Default)]
pub struct LayerContents {
    /// The layer's name.
    pub name: String,
    /// The blob's media type.
    pub media_type: String,
    /// `sha256:<hex>` of the blob.
    pub digest: String,
    /// Bytes of the blob.
    pub size: u64,
    /// `sha256:<hex>` of the uncompressed tar.
    pub diff_id: String,
    /// Bytes of the uncompressed tar.
    pub uncompressed_size: u64,
    /// Tar members.
    pub entries: u64,
    /// `(rule, files removed, bytes saved)`.
    pub strip: Vec<(String, u64, u64)>,
    /// Bytes ELF debug stripping saved, and how many files it stripped.
    pub debug_strip: (u64, u64),
    /// Distributions, sorted by in-image path of their `.dist-info`.
    pub distributions: Vec<Distribution>,
    /// `(in-image path, bytes, index into distributions)` of every regular file, by path.
    pub files: Vec<(String, u64, Option<usize>)>,
}

/// Reads the header fields of a METADATA file (RFC 822 style, up to the first empty line).
pub fn parse_metadata(text: &str) -> Distribution {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let first = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let one_line = |s: String| {
        let line = s.lines().next().unwrap_or("").trim().to_string();
        line.chars().take(200).collect::<String>()
    };
    let classifiers: Vec<String> = fields
        .iter()
        .filter(|(k, v)| k == "classifier" && v.starts_with("License ::"))
        .map(|(_, v)| v.rsplit(" :: ").next().unwrap_or(v).to_string())
        .collect();
    let license = one_line(first("license"));
    let license_text = if !license.is_empty() && license != "UNKNOWN" {
        license
    } else {
        classifiers.join(", ")
    };
    Distribution {
        name: one_line(first("name")),
        version: one_line(first("version")),
        summary: one_line(first("summary")),
        license_expression: one_line(first("license-expression")),
        license_text,
        ..Distribution::default()
    }
}

/// The paths a RECORD file lists (its first CSV column), quoted fields included.
pub fn record_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for line in text.lines() {
        let path = if let Some(rest) = line.strip_prefix('"') {
            // A quoted field: `""` is a literal quote; the field ends at a lone `"`.
            let mut out = String::new();
            let mut chars = rest.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        out.push('"');
                    } else {
                        break;
                    }
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            line.split(',').next().unwrap_or("").to_string()
        };
        if !path.is_empty() {
            paths.push(path);
        }
    }
    paths
}

fn file_size(entry: &Entry) -> Option<u64> {
    match entry.kind {
        EntryKind::File { size, .. } => Some(size),
        _ => None,
    }
}

fn read_source(entry: &Entry) -> Result<Vec<u8>> {
    match &entry.kind {
        EntryKind::File { src: Some(src), .. } => std::fs::read(src)
            .map_err(|e| Error::io(format!("reading {} for {}", src.display(), entry.path), e)),
        _ => Ok(Vec::new()),
    }
}

/// Finds the distributions among a layer's inputs (stripped ones included: a RECORD the
/// `site-packages` profile removes still names the files) and attributes the kept files.
fn distributions(
    inputs: &BTreeMap<String, Entry>,
    kept: &[&Entry],
) -> Result<(Vec<Distribution>, BTreeMap<String, usize>)> {
    let mut dists = Vec::new();
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for entry in inputs.values() {
        let Some(dist_info) = entry.path.strip_suffix("/METADATA") else {
            continue;
        };
        if !dist_info.ends_with(".dist-info") || file_size(entry).is_none() {
            continue;
        }
        let text = read_source(entry)?;
        let mut dist = parse_metadata(&String::from_utf8_lossy(&text));
        if dist.name.is_empty() {
            continue;
        }
        dist.dist_info = dist_info.to_string();
        let index = dists.len();
        if let Some(record) = inputs.get(&format!("{dist_info}/RECORD")) {
            let text = read_source(record)?;
            dist.record_sha256 = hex(&Sha256::digest(&text));
            // RECORD paths are relative to the directory holding the .dist-info.
            for path in record_paths(&String::from_utf8_lossy(&text)) {
                if let Some(path) = resolve_link(dist_info, &path).filter(|p| !p.is_empty()) {
                    owner.entry(path).or_insert(index);
                }
            }
        }
        dists.push(dist);
    }
    // Without a RECORD (rules_python leaves it out of a wheel's runfiles), a distribution
    // alone in its site-packages directory owns the files below that directory that no
    // RECORD names; where several share a directory, only RECORDs attribute files.
    let mut per_site: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, dist) in dists.iter().enumerate() {
        per_site
            .entry(parent(&dist.dist_info))
            .or_default()
            .push(index);
    }
    for (site, indexes) in per_site {
        let [index] = indexes[..] else { continue };
        if !dists[index].record_sha256.is_empty() {
            continue;
        }
        for entry in kept {
            let below = site.is_empty()
                || entry
                    .path
                    .strip_prefix(site)
                    .is_some_and(|rest| rest.starts_with('/'));
            if below && file_size(entry).is_some() {
                owner.entry(entry.path.clone()).or_insert(index);
            }
        }
    }
    for entry in kept {
        if let (Some(size), Some(&index)) = (file_size(entry), owner.get(&entry.path)) {
            dists[index].files += 1;
            dists[index].bytes += size;
        }
    }
    Ok((dists, owner))
}

/// The contents JSON of a written layer.
pub fn render_contents(
    layer: &WrittenLayer,
    stats: &StripStats,
    inputs: &BTreeMap<String, Entry>,
    kept: &[&Entry],
) -> Result<String> {
    let (dists, owner) = distributions(inputs, kept)?;
    let d = &layer.descriptor;
    let files: Vec<Value> = kept
        .iter()
        .filter_map(|e| {
            let size = file_size(e)?;
            let dist = owner.get(&e.path).map_or(Value::Null, |&i| json!(i));
            Some(json!([e.path, size, dist]))
        })
        .collect();
    let value = json!({
        "schema": SCHEMA,
        "name": layer.name,
        "mediaType": d.compression.media_type(),
        "digest": d.blob.oci(),
        "size": d.blob.size,
        "diffID": d.tar.oci(),
        "uncompressedSize": d.tar.size,
        "entries": d.entries,
        "strip": stats.rules.iter().map(|(rule, files, bytes)| json!({"rule": rule, "files": files, "bytes": bytes})).collect::<Vec<_>>(),
        "debugStrip": {"files": layer.debug_strip.stripped, "bytes": layer.debug_strip.bytes_saved},
        "distributions": dists.iter().map(|d| json!({
            "name": d.name,
            "version": d.version,
            "summary": d.summary,
            "licenseExpression": d.license_expression,
            "license": d.license_text,
            "distInfo": d.dist_info,
            "recordSha256": d.record_sha256,
            "files": d.files,
            "bytes": d.bytes,
        })).collect::<Vec<_>>(),
        "files": files,
    });
    Ok(value.to_string() + "\n")
}

fn bad(path: &Path, what: &str) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        message: format!("{what} (a layer contents file of layer-splitter --contents)"),
    }
}

/// Reads a contents file `layer-splitter --contents` wrote.
pub fn read_contents(path: &Path) -> Result<LayerContents> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| bad(path, &format!("not JSON: {e}")))?;
    if value["schema"] != SCHEMA {
        return Err(bad(
            path,
            &format!(
                "schema is {}, not {SCHEMA:?}: write it with this version's layer-splitter",
                value["schema"]
            ),
        ));
    }
    let s = |v: &Value, key: &str| -> Result<String> {
        v[key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(path, &format!("{key:?} is not a string")))
    };
    let n = |v: &Value, key: &str| -> Result<u64> {
        v[key]
            .as_u64()
            .ok_or_else(|| bad(path, &format!("{key:?} is not a number")))
    };
    let list = |key: &str| -> Result<&Vec<Value>> {
        value[key]
            .as_array()
            .ok_or_else(|| bad(path, &format!("{key:?} is not a list")))
    };
    let mut strip = Vec::new();
    for rule in list("strip")? {
        strip.push((s(rule, "rule")?, n(rule, "files")?, n(rule, "bytes")?));
    }
    let mut distributions = Vec::new();
    for d in list("distributions")? {
        distributions.push(Distribution {
            name: s(d, "name")?,
            version: s(d, "version")?,
            summary: s(d, "summary")?,
            license_expression: s(d, "licenseExpression")?,
            license_text: s(d, "license")?,
            dist_info: s(d, "distInfo")?,
            record_sha256: s(d, "recordSha256")?,
            files: n(d, "files")?,
            bytes: n(d, "bytes")?,
        });
    }
    let mut files = Vec::new();
    for f in list("files")? {
        let (Some(p), Some(size)) = (f[0].as_str(), f[1].as_u64()) else {
            return Err(bad(path, "a \"files\" entry is not [path, bytes, index]"));
        };
        let dist = match &f[2] {
            Value::Null => None,
            v => match v.as_u64() {
                Some(i) if (i as usize) < distributions.len() => Some(i as usize),
                _ => {
                    return Err(bad(
                        path,
                        &format!("{p}: distribution index {v} out of range"),
                    ))
                }
            },
        };
        files.push((p.to_string(), size, dist));
    }
    let debug = &value["debugStrip"];
    Ok(LayerContents {
        name: s(&value, "name")?,
        media_type: s(&value, "mediaType")?,
        digest: s(&value, "digest")?,
        size: n(&value, "size")?,
        diff_id: s(&value, "diffID")?,
        uncompressed_size: n(&value, "uncompressedSize")?,
        entries: n(&value, "entries")?,
        strip,
        debug_strip: (n(debug, "bytes")?, n(debug, "files")?),
        distributions,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_fields_and_licenses() {
        let d = parse_metadata(
            "Metadata-Version: 2.4\nName: Flask\nVersion: 3.1.2\nSummary: A framework.\nLicense-Expression: BSD-3-Clause\n\nName: NotThis\n",
        );
        assert_eq!(
            (d.name.as_str(), d.version.as_str(), d.summary.as_str()),
            ("Flask", "3.1.2", "A framework.")
        );
        assert_eq!(d.license_expression, "BSD-3-Clause");
        // Older metadata: the licence text's first line, or the classifiers.
        let d = parse_metadata("Name: six\nVersion: 1.17.0\nLicense: MIT\n  and more text\n");
        assert_eq!(
            (d.license_expression.as_str(), d.license_text.as_str()),
            ("", "MIT")
        );
        let d = parse_metadata(
            "Name: x\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: Apache Software License\nClassifier: Topic :: Other\n",
        );
        assert_eq!(d.license_text, "Apache Software License");
    }

    #[test]
    fn files_without_a_record_belong_to_the_one_distribution_beside_them() {
        use crate::manifest::Owner;
        let dir = std::env::temp_dir().join(format!("contents-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let meta = dir.join("METADATA");
        std::fs::write(&meta, "Name: six\nVersion: 1.17.0\n").unwrap();
        let file = |path: &str, src: Option<PathBuf>, size| Entry {
            path: path.into(),
            kind: EntryKind::File {
                src,
                size,
                identity: (0, 0),
            },
            mode: 0o644,
            owner: Owner::default(),
            origin: String::new(),
        };
        use std::path::PathBuf;
        let inputs: BTreeMap<String, Entry> = [
            file(
                "r/site-packages/six-1.17.0.dist-info/METADATA",
                Some(meta),
                30,
            ),
            file("r/site-packages/six.py", None, 100),
            file("r/site-packages-other/x.py", None, 7),
        ]
        .into_iter()
        .map(|e| (e.path.clone(), e))
        .collect();
        let kept: Vec<&Entry> = inputs.values().collect();
        let (dists, owner) = distributions(&inputs, &kept).unwrap();
        assert_eq!((dists[0].files, dists[0].bytes), (2, 130));
        assert!(!owner.contains_key("r/site-packages-other/x.py"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn record_paths_read_quoted_fields() {
        let paths = record_paths(
            "six.py,sha256=abc,123\n\"odd,name\"\"q.py\",sha256=def,4\n../../bin/tool,,\n\n",
        );
        assert_eq!(paths, ["six.py", "odd,name\"q.py", "../../bin/tool"]);
    }
}
