//! An SPDX 2.3 SBOM of the image's Python world, from the build graph: the image, its
//! base by digest, each layer by digest, the interpreter and every Python distribution
//! with its version, declared licence, package URL and the layer it lives in.
//!
//! The bytes depend only on the inputs: the creation time is the layers' `--mtime`, the
//! document namespace is derived from the layers' digests.

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::digest::hex;
use crate::report::ImageReport;

/// The interpreter, when the image carries its own.
#[derive(Debug, Clone, Default)]
pub struct Interpreter {
    /// `MAJOR.MINOR[.PATCH]`.
    pub version: String,
    /// Where it comes from (the Bazel repository of the runtime).
    pub source: String,
}

/// `[A-Za-z0-9.-]` only, as SPDX identifiers require.
fn spdx_id(parts: &[&str]) -> String {
    let raw = parts.join("-");
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A PyPI package URL: the name normalised as PEP 503 says (lower case, runs of `-_.`
/// as one `-`), the version percent-encoded where purl needs it.
pub fn pypi_purl(name: &str, version: &str) -> String {
    let mut normal = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normal.ends_with('-') {
                normal.push('-');
            }
        } else {
            normal.extend(c.to_lowercase());
        }
    }
    let encode = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!("pkg:pypi/{}@{}", encode(&normal), encode(version))
}

/// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the epoch.
pub fn utc_timestamp(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rem = seconds % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn package(id: &str, name: &str, version: &str) -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
    p.insert("SPDXID".into(), json!(id));
    p.insert("name".into(), json!(name));
    if !version.is_empty() {
        p.insert("versionInfo".into(), json!(version));
    }
    p.insert("downloadLocation".into(), json!("NOASSERTION"));
    p.insert("filesAnalyzed".into(), json!(false));
    p.insert("licenseConcluded".into(), json!("NOASSERTION"));
    p.insert("licenseDeclared".into(), json!("NOASSERTION"));
    p.insert("copyrightText".into(), json!("NOASSERTION"));
    p
}

fn sha256_checksum(digest: &str) -> Value {
    json!([{"algorithm": "SHA256", "checksumValue": digest.trim_start_matches("sha256:")}])
}

/// The SPDX 2.3 JSON document.
pub fn spdx(
    report: &ImageReport,
    interpreter: Option<&Interpreter>,
    mtime: u64,
    tool_version: &str,
) -> String {
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    let mut relate = |a: &str, kind: &str, b: &str| {
        relationships
            .push(json!({"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}));
    };
    let image_id = "SPDXRef-Image";
    relate("SPDXRef-DOCUMENT", "DESCRIBES", image_id);
    let mut image = package(image_id, &report.label, "");
    image.insert("primaryPackagePurpose".into(), json!("CONTAINER"));
    image.insert(
        "comment".into(),
        json!("The layers rules_pyimage adds to the base image, in image order."),
    );
    packages.push(Value::Object(image));

    if let Some((platform, digest)) = &report.base {
        let mut base = package("SPDXRef-Base", "base image", digest);
        base.insert("checksums".into(), sha256_checksum(digest));
        base.insert("primaryPackagePurpose".into(), json!("CONTAINER"));
        base.insert(
            "comment".into(),
            json!(format!("The base image's manifest for {platform}.")),
        );
        packages.push(Value::Object(base));
        relate(image_id, "DESCENDANT_OF", "SPDXRef-Base");
    }

    // `LicenseRef-` identifiers must be declared in the document, with their text.
    let mut license_refs: std::collections::BTreeMap<String, String> = Default::default();
    let mut namespace = Sha256::new();
    namespace.update(report.label.as_bytes());
    for (i, layer) in report.layers.iter().enumerate() {
        let c = &layer.contents;
        let index = (i + 1).to_string();
        let layer_id = spdx_id(&["SPDXRef-Layer", &index, &c.name]);
        let mut p = package(&layer_id, &format!("layer {}", c.name), "");
        if layer.described {
            p.insert("checksums".into(), sha256_checksum(&c.digest));
            p.insert(
                "comment".into(),
                json!(format!(
                    "Layer {index} above the base: blob {}, diff ID {}.",
                    c.digest, c.diff_id
                )),
            );
            namespace.update(c.digest.as_bytes());
        } else {
            p.insert(
                "comment".into(),
                json!(format!("Layer {index} above the base, given as a tar.")),
            );
            namespace.update(c.name.as_bytes());
        }
        p.insert("primaryPackagePurpose".into(), json!("ARCHIVE"));
        packages.push(Value::Object(p));
        relate(image_id, "CONTAINS", &layer_id);

        if c.name == "python" {
            if let Some(interp) = interpreter {
                let id = "SPDXRef-Python";
                let mut p = package(id, "CPython", &interp.version);
                p.insert("licenseDeclared".into(), json!("Python-2.0"));
                p.insert("primaryPackagePurpose".into(), json!("APPLICATION"));
                p.insert(
                    "sourceInfo".into(),
                    json!(format!(
                        "the Python runtime of Bazel repository {}",
                        interp.source
                    )),
                );
                packages.push(Value::Object(p));
                relate(&layer_id, "CONTAINS", id);
            }
        }
        for (j, d) in c.distributions.iter().enumerate() {
            let id = spdx_id(&["SPDXRef-Dist", &index, &(j + 1).to_string(), &d.name]);
            let mut p = package(&id, &d.name, &d.version);
            if !d.license_expression.is_empty() && !is_license_expression(&d.license_expression) {
                // SPDX readers refuse the whole document over one malformed expression.
                p.insert(
                    "licenseComments".into(),
                    json!(format!(
                        "METADATA's License-Expression is not an SPDX license expression: {}",
                        d.license_expression
                    )),
                );
            } else if !d.license_expression.is_empty() {
                p.insert("licenseDeclared".into(), json!(d.license_expression));
                for token in d
                    .license_expression
                    .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
                {
                    if token.starts_with("LicenseRef-") {
                        license_refs.entry(token.to_string()).or_insert_with(|| {
                            format!(
                                "Declared by {} {} in the License-Expression of its METADATA{}",
                                d.name,
                                d.version,
                                if d.license_text.is_empty() {
                                    String::new()
                                } else {
                                    format!(": {}", d.license_text)
                                }
                            )
                        });
                    }
                }
            } else if !d.license_text.is_empty() {
                p.insert(
                    "licenseComments".into(),
                    json!(format!("METADATA says: {}", d.license_text)),
                );
            }
            if !d.summary.is_empty() {
                p.insert("summary".into(), json!(d.summary));
            }
            if !d.record_sha256.is_empty() {
                p.insert("checksums".into(), sha256_checksum(&d.record_sha256));
            }
            p.insert(
                "comment".into(),
                json!(format!(
                    "Installed at /{} in layer {}; {} files, {} bytes in the image.{}",
                    d.dist_info,
                    c.name,
                    d.files,
                    d.bytes,
                    if d.record_sha256.is_empty() {
                        " Its RECORD is not in the image, so no checksum is given."
                    } else {
                        " The checksum is of its RECORD, which lists the SHA-256 of every file it installed."
                    }
                )),
            );
            p.insert(
                "externalRefs".into(),
                json!([{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": pypi_purl(&d.name, &d.version)}]),
            );
            p.insert("primaryPackagePurpose".into(), json!("LIBRARY"));
            packages.push(Value::Object(p));
            relate(&layer_id, "CONTAINS", &id);
        }
    }
    let document = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} Python SBOM", report.label),
        "documentNamespace": format!("https://spdx.org/spdxdocs/rules_pyimage/{}", hex(&namespace.finalize())),
        "creationInfo": {
            "created": utc_timestamp(mtime),
            "creators": [format!("Tool: rules_pyimage-{tool_version}")],
        },
        "packages": packages,
        "relationships": relationships,
    });
    let mut document = document;
    if !license_refs.is_empty() {
        document["hasExtractedLicensingInfos"] = license_refs
            .into_iter()
            .map(|(id, text)| json!({"licenseId": id, "extractedText": text}))
            .collect();
    }
    serde_json::to_string_pretty(&document).expect("a JSON value serialises") + "\n"
}

/// Whether `text` is an SPDX 2.3 license expression (Annex D): license ids (with an
/// optional `+`) and `[DocumentRef-…:]LicenseRef-…` joined by `AND` and `OR`, a `WITH`
/// exception after an id, parentheses. The syntax only: an unknown but well-formed id
/// passes (the SPDX license list is not consulted).
pub fn is_license_expression(text: &str) -> bool {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut at = 0;
    expression(&tokens, &mut at) && at == tokens.len()
}

/// `term (("AND" | "OR") term)*`
fn expression(tokens: &[&str], at: &mut usize) -> bool {
    if !term(tokens, at) {
        return false;
    }
    while matches!(tokens.get(*at), Some(&"AND") | Some(&"OR")) {
        *at += 1;
        if !term(tokens, at) {
            return false;
        }
    }
    true
}

/// `"(" expression ")"` or `simple ["WITH" exception]`
fn term(tokens: &[&str], at: &mut usize) -> bool {
    let Some(&token) = tokens.get(*at) else {
        return false;
    };
    *at += 1;
    if token == "(" {
        return expression(tokens, at) && tokens.get(*at) == Some(&")") && {
            *at += 1;
            true
        };
    }
    let simple = match token.strip_prefix("DocumentRef-") {
        Some(rest) => rest
            .split_once(':')
            .is_some_and(|(doc, license)| idstring(doc) && license_ref(license)),
        None if token.starts_with("LicenseRef-") => license_ref(token),
        None => idstring(token.strip_suffix('+').unwrap_or(token)),
    };
    if !simple || matches!(token, "AND" | "OR" | "WITH") {
        return false;
    }
    if tokens.get(*at) == Some(&"WITH") {
        *at += 1;
        let exception = tokens.get(*at).copied().unwrap_or("");
        *at += 1;
        return idstring(exception) && !matches!(exception, "AND" | "OR" | "WITH");
    }
    true
}

fn license_ref(token: &str) -> bool {
    token.strip_prefix("LicenseRef-").is_some_and(idstring)
}

/// `1*(ALPHA / DIGIT / "-" / ".")`
fn idstring(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_expressions() {
        // Examples from SPDX 2.3 Annex D and PEP 639, and what METADATA files get wrong.
        for good in [
            "MIT",
            "BSD-3-Clause",
            "GPL-2.0-or-later",
            "LGPL-2.1+",
            "Apache-2.0 WITH LLVM-exception",
            "(MIT OR Apache-2.0) AND BSD-2-Clause",
            "LGPL-2.1-only OR BSD-3-Clause AND MIT",
            "((MIT))",
            "LicenseRef-NVIDIA-Proprietary",
            "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
            "(GPL-3.0-or-later WITH Classpath-exception-2.0 OR MIT)",
        ] {
            assert!(is_license_expression(good), "{good}");
        }
        for bad in [
            "",
            "BSD License",
            "GPLv2 or later",
            "MIT or Apache-2.0",
            "MIT AND",
            "AND MIT",
            "(MIT",
            "MIT)",
            "MIT Apache-2.0",
            "Apache-2.0 WITH",
            "Apache-2.0 WITH (LLVM-exception)",
            "MIT WITH AND",
            "LicenseRef-",
            "DocumentRef-x",
            "MIT/X11",
            "Apache 2.0",
            "()",
        ] {
            assert!(!is_license_expression(bad), "{bad:?}");
        }
    }

    #[test]
    fn malformed_expressions_are_not_declared() {
        let doc = sbom_of(&[("good", "MIT OR Apache-2.0"), ("bad", "BSD License")]);
        let find = |name: &str| {
            doc["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(find("good")["licenseDeclared"], "MIT OR Apache-2.0");
        let bad = find("bad");
        assert_eq!(bad["licenseDeclared"], "NOASSERTION");
        assert!(bad["licenseComments"]
            .as_str()
            .unwrap()
            .contains("not an SPDX license expression: BSD License"));
    }

    /// The SBOM of an image whose one layer holds distributions `(name, License-Expression)`
    /// at version 1.
    fn sbom_of(distributions: &[(&str, &str)]) -> Value {
        use crate::contents::{Distribution, LayerContents};
        use crate::report::{ImageReport, ReportLayer};
        let distributions = distributions
            .iter()
            .map(|(name, expression)| Distribution {
                name: name.to_string(),
                version: "1".into(),
                license_expression: expression.to_string(),
                ..Distribution::default()
            })
            .collect();
        let report = ImageReport {
            label: "//:i".into(),
            base: None,
            layers: vec![ReportLayer {
                contents: LayerContents {
                    name: "deps".into(),
                    digest: format!("sha256:{}", "0".repeat(64)),
                    distributions,
                    ..LayerContents::default()
                },
                described: true,
            }],
        };
        serde_json::from_str(&spdx(&report, None, 0, "0")).unwrap()
    }

    #[test]
    fn license_refs_are_declared() {
        let doc = sbom_of(&[("nvidia-x", "(LicenseRef-NVIDIA-Proprietary OR MIT)")]);
        let refs = doc["hasExtractedLicensingInfos"].as_array().unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0]["licenseId"], "LicenseRef-NVIDIA-Proprietary");
        assert!(refs[0]["extractedText"]
            .as_str()
            .unwrap()
            .contains("nvidia-x 1"));
    }

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_798_761_599), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn purls() {
        assert_eq!(pypi_purl("Flask", "3.1.2"), "pkg:pypi/flask@3.1.2");
        assert_eq!(
            pypi_purl("typing_extensions", "4.16.0"),
            "pkg:pypi/typing-extensions@4.16.0"
        );
        assert_eq!(
            pypi_purl("zope.interface", "7.0+local"),
            "pkg:pypi/zope-interface@7.0%2Blocal"
        );
        assert_eq!(
            spdx_id(&["SPDXRef-Dist", "2", "zope.interface_x"]),
            "SPDXRef-Dist-2-zope.interface-x"
        );
    }
}
