//! The whole `layer-splitter` run: manifest in, strip rules applied, the layer written,
//! outputs committed only when all of them succeeded.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::atomic::{check_output_paths, OutputSet, ResolvedOutput, TempOutput};
use crate::contents::render_contents;
use crate::error::{Error, Result};
use crate::img_metadata::render_img_metadata;
use crate::inputs::{collect_inputs, Entry, EntryKind, InputOptions};
use crate::layer::{write_layer, LayerOptions, LayerTarget, WrittenLayer};
use crate::manifest::{read_manifest, ManifestEntry, ManifestLine};
use crate::report::human_bytes;
use crate::strip::{StripProfile, StripRules, StripStats};

/// The layer name used when none is given.
pub const DEFAULT_LAYER_NAME: &str = "layer";

/// Everything `layer-splitter` was asked to do.
#[derive(Debug, Clone)]
pub struct SplitConfig {
    /// The manifest file.
    pub manifest: PathBuf,
    /// The layer's name, used in the report and in messages.
    pub name: String,
    /// Where the blob goes.
    pub output: PathBuf,
    /// Where the descriptor JSON goes.
    pub descriptor: PathBuf,
    /// Where to write the text report.
    pub report: Option<PathBuf>,
    /// Where to write the contents JSON (see [`crate::contents`]).
    pub contents: Option<PathBuf>,
    /// Where to write rules_img's layer metadata JSON (see [`crate::img_metadata`]).
    pub img_metadata: Option<PathBuf>,
    /// The history entry's `created_by` in the rules_img metadata.
    pub created_by: Option<String>,
    /// Compression, owner, mtime, debug stripping.
    pub layer: LayerOptions,
    /// Built-in strip rules.
    pub strip_profile: StripProfile,
    /// Extra globs to drop.
    pub exclude: Vec<String>,
    /// Globs to keep whatever the rules say.
    pub include: Vec<String>,
    /// Keep setuid/setgid bits.
    pub allow_setuid: bool,
    /// Accept a manifest without entries.
    pub allow_empty: bool,
    /// Copy what symlinks inside `tree` sources point to when they leave the tree.
    pub follow_external_symlinks: bool,
    /// The `@PARAMFILE`s the arguments came from (inputs no output may replace).
    pub param_files: Vec<PathBuf>,
    /// Packages to warn about when one holds more than a threshold of the layer.
    pub large_packages: LargePackages,
}

/// `--large-package-bytes` and `--package`: in-image directories (one per package) that
/// get a warning, with the `groups` entry that gives the package a layer of its own, when
/// the files the layer keeps of one add up to more than `threshold` bytes.
#[derive(Debug, Clone, Default)]
pub struct LargePackages {
    /// Bytes; 0 turns the check off.
    pub threshold: u64,
    /// (in-image directory, its `groups` entry such as `"torch": ["@pypi_torch"]`).
    pub packages: Vec<(String, String)>,
}

impl LargePackages {
    /// A warning for each package over the threshold, biggest first.
    pub fn warnings(&self, layer: &str, kept: &[&Entry]) -> Vec<String> {
        if self.threshold == 0 || self.packages.is_empty() {
            return Vec::new();
        }
        let size = |entry: &Entry| match entry.kind {
            EntryKind::File { size, .. } => size,
            _ => 0,
        };
        let total: u64 = kept.iter().map(|e| size(e)).sum();
        let mut found: Vec<(u64, usize, &str, &str)> = Vec::new();
        for (dir, hint) in &self.packages {
            let dir = dir.trim_matches('/');
            let inside = |path: &str| {
                path.strip_prefix(dir)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            };
            let files: Vec<u64> = kept
                .iter()
                .filter(|e| inside(&e.path) && matches!(e.kind, EntryKind::File { .. }))
                .map(|e| size(e))
                .collect();
            let bytes = files.iter().sum();
            if bytes > self.threshold {
                found.push((bytes, files.len(), dir, hint));
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(b.2)));
        let mut warnings: Vec<String> = found
            .iter()
            .map(|(bytes, files, dir, entry)| {
                format!(
                    "layer {layer:?}: /{dir} holds {} in {files} files, {:.0}% of the layer's {} (more than the {} this warning is set to); every change to any dependency writes and pushes this layer again: give it a layer of its own with groups = {{{entry}}}",
                    human_bytes(*bytes),
                    100.0 * *bytes as f64 / total.max(1) as f64,
                    human_bytes(total),
                    human_bytes(self.threshold),
                )
            })
            .collect();
        if found.len() > 1 {
            let entries: Vec<&str> = found.iter().map(|f| f.3).collect();
            warnings.push(format!(
                "layer {layer:?}: all {} of them at once: groups = {{{}}}",
                found.len(),
                entries.join(", ")
            ));
        }
        warnings
    }
}

/// What a successful run produced.
#[derive(Debug)]
pub struct SplitOutcome {
    /// The human-readable report (also written to `--report`).
    pub report: String,
    /// Non-fatal notes for stderr.
    pub warnings: Vec<String>,
}

/// Runs `layer-splitter`: writes the layer's blob, its descriptor and the report.
pub fn split_layer(config: &SplitConfig) -> Result<SplitOutcome> {
    config.layer.stamp.check().map_err(Error::LayerSpec)?;
    let resolved = check_outputs(config)?;
    let rules = StripRules::new(config.strip_profile, &config.exclude, &config.include)?;

    let lines = read_manifest(&config.manifest)?;
    if lines.is_empty() && !config.allow_empty {
        return Err(Error::EmptyManifest {
            path: config.manifest.clone(),
        });
    }
    let options = InputOptions {
        allow_setuid: config.allow_setuid,
        host_root: std::env::current_dir().ok(),
        follow_external_symlinks: config.follow_external_symlinks,
        threads: config.layer.compress.threads,
    };
    let inputs = collect_inputs(&lines, &options)?;
    check_outputs_are_not_sources(&resolved, &lines, &inputs.entries)?;

    let mut stats = StripStats::new(&rules);
    let mut kept: Vec<&Entry> = Vec::new();
    for entry in inputs.entries.values() {
        match rules.rule_for(&entry.path) {
            Some(rule) => match &entry.kind {
                EntryKind::File { size, .. } => stats.record(rule, *size),
                EntryKind::Symlink { .. } => stats.record(rule, 0),
                EntryKind::Dir => {}
            },
            None => kept.push(entry),
        }
    }

    let target = LayerTarget {
        name: config.name.clone(),
        blob: config.output.clone(),
        descriptor: config.descriptor.clone(),
    };
    let written = write_layer(&target, &kept, &config.layer)?;

    let large = config.large_packages.warnings(&config.name, &kept);
    let mut report = render_report(config, &written, &stats);
    for warning in &large {
        report += &format!("\nwarning: {warning}\n");
    }
    let mut warnings = inputs.warnings;
    warnings.extend(large);
    warnings.extend(written.debug_strip.warnings());
    let report_output = match &config.report {
        Some(path) => Some(write_text(path, "report", &report)?),
        None => None,
    };
    let contents_output = match &config.contents {
        Some(path) => {
            let json = render_contents(&written, &stats, &inputs.entries, &kept)?;
            Some(write_text(path, "contents", &json)?)
        }
        None => None,
    };
    let img_metadata_output = match &config.img_metadata {
        Some(path) => {
            let json = render_img_metadata(&written.descriptor, config.created_by.as_deref());
            Some(write_text(path, "rules_img metadata", &json)?)
        }
        None => None,
    };
    // Every output of the run (blob, descriptor, report, contents, rules_img metadata)
    // appears, or none does.
    let mut outputs = OutputSet::from(written.into_outputs());
    outputs.extend(report_output);
    outputs.extend(contents_output);
    outputs.extend(img_metadata_output);
    outputs.commit()?;
    Ok(SplitOutcome { report, warnings })
}

/// Stages `text` for `path`, committed with the run's other outputs.
fn write_text(path: &std::path::Path, what: &str, text: &str) -> Result<TempOutput> {
    let (output, mut file) = TempOutput::create(path)?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io(format!("writing {what} {}", path.display()), e))?;
    Ok(output)
}

/// Refuses a layer name the report cannot hold and a history entry without the file it
/// goes to, and resolves every output of the run (blob, descriptor, report, contents,
/// rules_img metadata), refusing before any work two that are one file, one that
/// is a directory or in a missing or read-only directory, and one that is the manifest
/// or a parameter file.
fn check_outputs(config: &SplitConfig) -> Result<Vec<ResolvedOutput>> {
    if config.name.is_empty() || config.name.chars().any(char::is_control) {
        return Err(Error::LayerSpec(format!(
            "--name {:?} is not a usable layer name; give a non-empty name without control characters, such as {DEFAULT_LAYER_NAME:?}",
            config.name
        )));
    }
    if config.created_by.is_some() && config.img_metadata.is_none() {
        return Err(Error::LayerSpec(
            "--created-by is the history entry of the rules_img metadata: give --img-metadata FILE too, or leave --created-by out".to_string(),
        ));
    }
    let mut outputs = vec![
        ("--output".to_string(), config.output.clone()),
        ("--descriptor".to_string(), config.descriptor.clone()),
    ];
    if let Some(report) = &config.report {
        outputs.push(("--report".to_string(), report.clone()));
    }
    if let Some(contents) = &config.contents {
        outputs.push(("--contents".to_string(), contents.clone()));
    }
    if let Some(img_metadata) = &config.img_metadata {
        outputs.push(("--img-metadata".to_string(), img_metadata.clone()));
    }
    let mut inputs = vec![("manifest".to_string(), config.manifest.clone())];
    for param_file in &config.param_files {
        inputs.push(("parameter file".to_string(), param_file.clone()));
    }
    check_output_paths(&outputs, &inputs)
}

/// Refuses an output that is one of the sources the manifest names (a file's content, a
/// file inside a tree, a symlink whose target is read).
fn check_outputs_are_not_sources(
    outputs: &[ResolvedOutput],
    lines: &[ManifestLine],
    entries: &BTreeMap<String, Entry>,
) -> Result<()> {
    for entry in entries.values() {
        if let EntryKind::File { src, identity, .. } = &entry.kind {
            if *identity == (0, 0) {
                continue;
            }
            for output in outputs {
                if output.identity == Some(*identity) {
                    let src = src.clone().unwrap_or_default();
                    return Err(output.is_input(&format!("source of {}", entry.path), &src));
                }
            }
        }
    }
    for line in lines {
        let (ManifestEntry::Link { dest, src } | ManifestEntry::Output { dest, src }) = &line.entry
        else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(src) else {
            continue;
        };
        let identity = Some((meta.dev(), meta.ino()));
        for output in outputs {
            if output.entry_identity == identity {
                return Err(output.is_input(&format!("source of {dest}"), src));
            }
        }
    }
    Ok(())
}

fn render_report(config: &SplitConfig, layer: &WrittenLayer, stats: &StripStats) -> String {
    let mut out = format!(
        "layer-splitter report: manifest {}, compression {} level {}\n\n",
        config.manifest.display(),
        config.layer.compress.compression,
        config.layer.compress.level
    );
    let width = layer.name.len().max(5);
    let d = &layer.descriptor;
    let ratio = if d.blob.size == 0 {
        0.0
    } else {
        d.tar.size as f64 / d.blob.size as f64
    };
    out += &format!(
        "{:<width$}  {:>8}  {:>14}  {:>14}  {:>6}\n",
        "layer", "entries", "uncompressed", "compressed", "ratio"
    );
    out += &format!(
        "{:<width$}  {:>8}  {:>14}  {:>14}  {:>6.2}\n",
        layer.name, d.entries, d.tar.size, d.blob.size, ratio
    );
    if !stats.rules.is_empty() {
        out += "\nstrip rules (files removed, bytes saved):\n";
        out += &stats.table();
    }
    if config.layer.strip_debug {
        out += "\n";
        out += &layer.debug_strip.report();
    }
    if config.layer.hardlink_duplicates {
        out += &format!(
            "\nhardlink-duplicates: {} files stored as hard links, {} bytes not stored again\n",
            layer.hardlinked_files, layer.hardlinked_bytes
        );
    }
    out
}
