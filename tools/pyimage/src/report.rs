//! The image report (`pyimage-meta report`): one self-contained HTML page, a text summary
//! and warnings, from the contents files of the layers the rules wrote and the member
//! lists of layer tars other tools wrote.
//!
//! The page needs no network and no script: layers in image order with their sizes as
//! bars, each layer's Python distributions and biggest files, what each strip rule
//! removed, and the files that sit in more than one layer (the upper copy wins, the
//! lower one is shipped for nothing).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::contents::{read_contents, Distribution, LayerContents};
use crate::error::Result;
use crate::tar_list::{list_tar_file, MemberKind};

/// How many of each layer's biggest files the page lists.
pub const BIGGEST_FILES: usize = 15;

/// One layer of the image, as the report shows it.
#[derive(Debug, Clone)]
pub struct ReportLayer {
    /// The layer's contents; for a tar another tool wrote, only `name`, `size` and
    /// `files` are known.
    pub contents: LayerContents,
    /// False for a layer tar another tool wrote (its members listed from the tar).
    pub described: bool,
}

/// The image as the report sees it.
#[derive(Debug, Clone, Default)]
pub struct ImageReport {
    /// The image target.
    pub label: String,
    /// `PLATFORM DIGEST` of the base image (from `pyimage-meta check-base`), if any.
    pub base: Option<(String, String)>,
    /// The layers above the base, in image order.
    pub layers: Vec<ReportLayer>,
}

/// A regular file that is in more than one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// In-image path.
    pub path: String,
    /// `(layer index, bytes)` of each copy, lowest layer first.
    pub copies: Vec<(usize, u64)>,
}

impl ImageReport {
    /// Reads the layers: `tars` (layer tars given as they are, the image's lowest layers
    /// above the base), then `contents` (contents files of the layers written here).
    pub fn read(
        label: &str,
        base_check: Option<&Path>,
        tars: &[&Path],
        contents: &[&Path],
    ) -> Result<ImageReport> {
        let mut layers = Vec::new();
        for tar in tars {
            let members = list_tar_file(tar)?;
            let size = std::fs::metadata(tar)
                .map_err(|e| crate::Error::io(format!("reading {}", tar.display()), e))?
                .len();
            let file_name = tar
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            // The name without its archive suffix, as the layers written here are named.
            let name = [".tar.gz", ".tgz", ".tar.zst", ".tar"]
                .iter()
                .find_map(|suffix| file_name.strip_suffix(suffix))
                .filter(|stem| !stem.is_empty())
                .unwrap_or(&file_name)
                .to_string();
            let files = members
                .iter()
                .filter(|m| m.kind == MemberKind::File)
                .map(|m| (m.path.clone(), m.size, None))
                .collect();
            layers.push(ReportLayer {
                contents: LayerContents {
                    name,
                    size,
                    entries: members.len() as u64,
                    uncompressed_size: members.iter().map(|m| m.size).sum(),
                    files,
                    ..LayerContents::default()
                },
                described: false,
            });
        }
        for path in contents {
            layers.push(ReportLayer {
                contents: read_contents(path)?,
                described: true,
            });
        }
        let base = match base_check {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| crate::Error::io(format!("reading {}", path.display()), e))?;
                let mut words = text.split_whitespace();
                match (words.next(), words.next()) {
                    (Some(platform), Some(digest)) => {
                        Some((platform.to_string(), digest.to_string()))
                    }
                    _ => {
                        return Err(crate::Error::BadFile {
                            path: path.to_path_buf(),
                            message:
                                "is not `PLATFORM DIGEST` as pyimage-meta check-base writes it"
                                    .into(),
                        })
                    }
                }
            }
            None => None,
        };
        Ok(ImageReport {
            label: label.to_string(),
            base,
            layers,
        })
    }

    /// Regular files in more than one layer, by path.
    pub fn duplicates(&self) -> Vec<Duplicate> {
        let mut seen: BTreeMap<&str, Vec<(usize, u64)>> = BTreeMap::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for (path, size, _) in &layer.contents.files {
                seen.entry(path).or_default().push((i, *size));
            }
        }
        seen.into_iter()
            .filter(|(_, copies)| copies.len() > 1)
            .map(|(path, copies)| Duplicate {
                path: path.to_string(),
                copies,
            })
            .collect()
    }

    /// The warning for files in more than one layer, or `None` when there are none.
    pub fn duplicate_warning(&self) -> Option<String> {
        let dups = self.duplicates();
        if dups.is_empty() {
            return None;
        }
        let wasted: u64 = dups.iter().map(wasted_bytes).sum();
        let shown: Vec<String> = dups
            .iter()
            .take(5)
            .map(|d| format!("/{} ({})", d.path, self.layer_names(d).join(", ")))
            .collect();
        let more = if dups.len() > shown.len() {
            format!(" and {} more", dups.len() - shown.len())
        } else {
            String::new()
        };
        Some(format!(
            "{}: {} file{} in more than one layer, {} shipped for nothing (the upper layer's copy wins): {}{more}; leave each out of all but one layer (py_image `excludes`, or the extra layer's own srcs)",
            self.label,
            dups.len(),
            if dups.len() == 1 { " is" } else { "s are" },
            human_bytes(wasted),
            shown.join(", "),
        ))
    }

    fn layer_names(&self, dup: &Duplicate) -> Vec<String> {
        dup.copies
            .iter()
            .map(|(i, _)| self.layers[*i].contents.name.clone())
            .collect()
    }

    /// `NAME DIGEST` per layer, one per line (a tar given as it is has its file name and
    /// the SHA-256 of nothing known: `-`).
    pub fn digests(&self) -> String {
        self.layers
            .iter()
            .map(|l| {
                let digest = if l.described {
                    l.contents.digest.as_str()
                } else {
                    "-"
                };
                format!("{} {}\n", l.contents.name, digest)
            })
            .collect()
    }

    /// The text summary `bazel run :<image>_report` prints.
    pub fn summary(&self) -> String {
        let mut out = format!("{}: {} layers above ", self.label, self.layers.len());
        match &self.base {
            Some((platform, digest)) => {
                let _ = writeln!(out, "the base {digest} ({platform})");
            }
            None => out += "an empty base\n",
        }
        let width = self
            .layers
            .iter()
            .map(|l| l.contents.name.len())
            .chain([5])
            .max()
            .unwrap_or(5);
        let _ = writeln!(
            out,
            "\n{:>3}  {:<width$}  {:>8}  {:>12}  {:>12}  {:>12}  {:>5}",
            "#", "layer", "entries", "uncompressed", "compressed", "stripped", "dists"
        );
        for (i, l) in self.layers.iter().enumerate() {
            let c = &l.contents;
            let stripped = stripped_bytes(c);
            let _ = writeln!(
                out,
                "{:>3}  {:<width$}  {:>8}  {:>12}  {:>12}  {:>12}  {:>5}",
                i + 1,
                c.name,
                c.entries,
                human_bytes(c.uncompressed_size),
                human_bytes(c.size),
                if l.described {
                    human_bytes(stripped)
                } else {
                    "-".into()
                },
                c.distributions.len()
            );
        }
        let total: u64 = self.layers.iter().map(|l| l.contents.size).sum();
        let _ = writeln!(
            out,
            "\ncompressed, all layers above the base: {}",
            human_bytes(total)
        );
        match self.duplicate_warning() {
            Some(w) => {
                let _ = writeln!(out, "warning: {w}");
            }
            None => out += "no file is in more than one layer\n",
        }
        out
    }

    /// The self-contained HTML page.
    pub fn html(&self) -> String {
        let mut out = String::new();
        let title = format!("{} — image report", self.label);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            esc(&title),
            esc(&self.label)
        );
        let total: u64 = self.layers.iter().map(|l| l.contents.size).sum();
        let uncompressed: u64 = self
            .layers
            .iter()
            .map(|l| l.contents.uncompressed_size)
            .sum();
        let _ = writeln!(
            out,
            "<p id=\"summary\">{} layers above {}: <b>{}</b> compressed, {} uncompressed.</p>",
            self.layers.len(),
            match &self.base {
                Some((platform, digest)) =>
                    format!("the base <code>{}</code> ({})", esc(digest), esc(platform)),
                None => "an empty base".into(),
            },
            human_bytes(total),
            human_bytes(uncompressed)
        );

        // Layers in image order, bars scaled to the biggest.
        let biggest = self
            .layers
            .iter()
            .map(|l| l.contents.size)
            .max()
            .unwrap_or(0);
        out += "<h2>Layers</h2>\n<table id=\"layers\">\n<tr><th>#</th><th>layer</th><th>compressed</th><th></th><th>uncompressed</th><th>entries</th><th>stripped</th><th>digest</th></tr>\n";
        for (i, l) in self.layers.iter().enumerate() {
            let c = &l.contents;
            let stripped = stripped_bytes(c);
            let _ = writeln!(
                out,
                "<tr class=\"layer\" data-layer=\"{}\"><td>{}</td><td><a href=\"#layer-{i}\">{}</a></td><td class=\"n\">{}</td><td class=\"bar\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td></tr>",
                esc(&c.name),
                i + 1,
                esc(&c.name),
                human_bytes(c.size),
                bar(c.size, biggest),
                human_bytes(c.uncompressed_size),
                c.entries,
                if l.described { human_bytes(stripped) } else { "–".into() },
                if l.described { esc(&c.digest) } else { "given as a tar".into() },
            );
        }
        out += "</table>\n";

        // Files in more than one layer.
        let dups = self.duplicates();
        out += "<h2>Files in more than one layer</h2>\n";
        if dups.is_empty() {
            out += "<p id=\"duplicates\" class=\"ok\">No file is in more than one layer.</p>\n";
        } else {
            let _ = writeln!(
                out,
                "<p class=\"warn\">{} file{}, {} shipped for nothing: the upper layer's copy wins.</p>\n<table id=\"duplicates\">\n<tr><th>path</th><th>layers (lowest first)</th><th>bytes</th></tr>",
                dups.len(),
                if dups.len() == 1 { "" } else { "s" },
                human_bytes(dups.iter().map(wasted_bytes).sum())
            );
            for d in &dups {
                let _ = writeln!(
                    out,
                    "<tr class=\"duplicate\"><td><code>/{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
                    esc(&d.path),
                    esc(&self.layer_names(d).join(", ")),
                    human_bytes(wasted_bytes(d))
                );
            }
            out += "</table>\n";
        }

        for (i, l) in self.layers.iter().enumerate() {
            self.layer_section(&mut out, i, l);
        }
        out += "</body>\n</html>\n";
        out
    }

    fn layer_section(&self, out: &mut String, i: usize, layer: &ReportLayer) {
        let c = &layer.contents;
        let _ = writeln!(
            out,
            "<section class=\"layer-detail\" id=\"layer-{i}\" data-layer=\"{}\">\n<h2>Layer {}: {}</h2>",
            esc(&c.name),
            i + 1,
            esc(&c.name)
        );
        if !layer.described {
            out.push_str("<p>A layer tar given as it is: its members are listed, not its packages or what stripping did.</p>\n");
        }
        if !c.distributions.is_empty() {
            let mut dists: Vec<&Distribution> = c.distributions.iter().collect();
            dists.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
            let biggest = dists.first().map_or(0, |d| d.bytes);
            out.push_str("<h3>Python distributions</h3>\n<table class=\"distributions\">\n<tr><th>distribution</th><th>version</th><th>licence</th><th>files</th><th>bytes</th><th></th></tr>\n");
            for d in dists {
                let licence = if d.license_expression.is_empty() {
                    &d.license_text
                } else {
                    &d.license_expression
                };
                let _ = writeln!(
                    out,
                    "<tr class=\"distribution\"><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"bar\">{}</td></tr>",
                    esc(&d.name),
                    esc(&d.version),
                    esc(licence),
                    d.files,
                    human_bytes(d.bytes),
                    bar(d.bytes, biggest)
                );
            }
            out.push_str("</table>\n");
        }
        let mut files: Vec<&(String, u64, Option<usize>)> = c.files.iter().collect();
        files.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        files.truncate(BIGGEST_FILES);
        if !files.is_empty() {
            let biggest = files[0].1;
            let _ = writeln!(
                out,
                "<h3>Biggest files ({} of {})</h3>\n<table class=\"files\">\n<tr><th>path</th><th>distribution</th><th>bytes</th><th></th></tr>",
                files.len(),
                c.files.len()
            );
            for (path, size, dist) in files {
                let dist = dist.map_or(String::new(), |d| esc(&c.distributions[d].name));
                let _ = writeln!(
                    out,
                    "<tr class=\"file\"><td><code>/{}</code></td><td>{dist}</td><td class=\"n\">{}</td><td class=\"bar\">{}</td></tr>",
                    esc(path),
                    human_bytes(*size),
                    bar(*size, biggest)
                );
            }
            out.push_str("</table>\n");
        }
        let removed: Vec<&(String, u64, u64)> = c.strip.iter().filter(|r| r.1 > 0).collect();
        if layer.described && (!removed.is_empty() || c.debug_strip.1 > 0) {
            out.push_str("<h3>Stripped</h3>\n<table class=\"strip\">\n<tr><th>rule</th><th>files</th><th>bytes saved</th></tr>\n");
            for (rule, files, bytes) in removed {
                let _ = writeln!(
                    out,
                    "<tr class=\"strip-rule\"><td>{}</td><td class=\"n\">{files}</td><td class=\"n\">{}</td></tr>",
                    esc(rule),
                    human_bytes(*bytes)
                );
            }
            if c.debug_strip.1 > 0 {
                let _ = writeln!(
                    out,
                    "<tr class=\"strip-rule\"><td>ELF debug sections</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    c.debug_strip.1,
                    human_bytes(c.debug_strip.0)
                );
            }
            out.push_str("</table>\n");
        }
        out.push_str("</section>\n");
    }
}

/// Bytes the strip rules and ELF debug stripping removed from a layer.
fn stripped_bytes(c: &LayerContents) -> u64 {
    c.strip.iter().map(|r| r.2).sum::<u64>() + c.debug_strip.0
}

/// Bytes that all but the uppermost copy of a file occupy.
fn wasted_bytes(d: &Duplicate) -> u64 {
    d.copies[..d.copies.len() - 1].iter().map(|c| c.1).sum()
}

fn bar(value: u64, max: u64) -> String {
    let percent = if max == 0 {
        0.0
    } else {
        100.0 * value as f64 / max as f64
    };
    format!("<div class=\"fill\" style=\"width:{percent:.1}%\"></div>")
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin-bottom:1em}\
td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}\
td.n{text-align:right;white-space:nowrap}\
td.bar{width:30em}\
.fill{background:#3a7bd5;height:1em;min-width:1px}\
.warn{color:#a40}.ok{color:#270}\
code{font-size:12px;word-break:break-all}";

/// Escapes text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Bytes in B, kB, MB or GB with one decimal (powers of 1000, as registries show sizes).
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(name: &str, files: &[(&str, u64)]) -> ReportLayer {
        ReportLayer {
            contents: LayerContents {
                name: name.into(),
                digest: format!("sha256:{}", "0".repeat(64)),
                files: files
                    .iter()
                    .map(|(p, s)| (p.to_string(), *s, None))
                    .collect(),
                ..LayerContents::default()
            },
            described: true,
        }
    }

    #[test]
    fn duplicates_name_layers_and_wasted_bytes() {
        let report = ImageReport {
            label: "//:image".into(),
            base: None,
            layers: vec![
                layer("config", &[("etc/app.toml", 100), ("etc/only", 1)]),
                layer("app", &[("etc/app.toml", 120), ("app/main.py", 5)]),
            ],
        };
        let dups = report.duplicates();
        assert_eq!(
            dups,
            [Duplicate {
                path: "etc/app.toml".into(),
                copies: vec![(0, 100), (1, 120)]
            }]
        );
        let warning = report.duplicate_warning().unwrap();
        assert!(
            warning.contains("1 file is in more than one layer, 100 B shipped for nothing")
                && warning.contains("/etc/app.toml (config, app)"),
            "{warning}"
        );
        assert!(report.html().contains(
            "<tr class=\"duplicate\"><td><code>/etc/app.toml</code></td><td>config, app</td>"
        ));
        let clean = ImageReport {
            layers: vec![layer("a", &[("x", 1)]), layer("b", &[("y", 1)])],
            ..report
        };
        assert!(clean.duplicate_warning().is_none());
        assert!(clean
            .summary()
            .contains("no file is in more than one layer"));
    }

    #[test]
    fn hostile_names_are_escaped() {
        let report = ImageReport {
            label: "//:<script>alert(1)</script>".into(),
            base: None,
            layers: vec![layer("a\"b", &[("x/<img src=x onerror=alert(1)>.py", 3)])],
        };
        let html = report.html();
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;.py"));
        assert!(html.contains("data-layer=\"a&quot;b\""));
    }

    #[test]
    fn sizes_read_as_registries_show_them() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(201_200_000), "201.2 MB");
        assert_eq!(human_bytes(1_100_000_000), "1.1 GB");
    }
}
