//! The whole `layer-splitter` run: manifest in, strip rules applied, entries routed to
//! layers, every layer written, outputs committed only when all of them succeeded.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use crate::atomic::TempOutput;
use crate::error::{Error, Result};
use crate::inputs::{collect_inputs, Entry, EntryKind, InputOptions};
use crate::layer::{write_layer, LayerOptions, LayerTarget, WrittenLayer};
use crate::manifest::read_manifest;
use crate::route::Router;
use crate::strip::{StripProfile, StripRules, StripStats};

/// Everything `layer-splitter` was asked to do.
#[derive(Debug, Clone)]
pub struct SplitConfig {
    /// The manifest file.
    pub manifest: PathBuf,
    /// `--output NAME=PATH`, in order.
    pub outputs: Vec<(String, PathBuf)>,
    /// `--descriptor NAME=PATH`, in order.
    pub descriptors: Vec<(String, PathBuf)>,
    /// `--route NAME=GLOB`, in order.
    pub routes: Vec<(String, String)>,
    /// Where unrouted entries go.
    pub default_layer: String,
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
    /// Where to write the text report.
    pub report: Option<PathBuf>,
}

/// What a successful run produced.
#[derive(Debug)]
pub struct SplitOutcome {
    /// The human-readable report (also written to `--report`).
    pub report: String,
    /// Non-fatal notes for stderr.
    pub warnings: Vec<String>,
}

/// Runs `layer-splitter`.
pub fn split_layers(config: &SplitConfig) -> Result<SplitOutcome> {
    let targets = layer_targets(config)?;
    let router = Router::new(&config.routes, &config.default_layer)?;
    for (layer, glob) in router.routes() {
        if !targets.contains_key(layer) {
            return Err(Error::LayerSpec(format!(
                "--route {layer}={glob} sends entries to layer {layer:?}, which has no outputs; add --output {layer}=PATH --descriptor {layer}=PATH"
            )));
        }
    }
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
    };
    let inputs = collect_inputs(&lines, &options)?;

    let mut stats = StripStats::new(&rules);
    let mut by_layer: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for entry in inputs.entries.values() {
        if let Some(rule) = rules.rule_for(&entry.path) {
            match &entry.kind {
                EntryKind::File { size, .. } => stats.record(rule, *size),
                EntryKind::Symlink { .. } => stats.record(rule, 0),
                EntryKind::Dir => {}
            }
            continue;
        }
        let layer = router.layer_for(&entry.path);
        if !targets.contains_key(layer) {
            return Err(Error::LayerSpec(format!(
                "{} goes to layer {layer:?}, which has no outputs; add --output {layer}=PATH --descriptor {layer}=PATH, or a --route that sends it to another layer",
                entry.path
            )));
        }
        by_layer.entry(layer).or_default().push(entry);
    }

    let mut written: Vec<WrittenLayer> = Vec::new();
    for (name, target) in &targets {
        let entries = by_layer.remove(name.as_str()).unwrap_or_default();
        written.push(write_layer(target, &entries, &config.layer)?);
    }

    let report = render_report(config, &written, &stats);
    let report_output = match &config.report {
        Some(path) => {
            let (output, mut file) = TempOutput::create(path)?;
            file.write_all(report.as_bytes())
                .map_err(|e| Error::io(format!("writing report {}", path.display()), e))?;
            Some(output)
        }
        None => None,
    };
    for layer in written {
        layer.commit()?;
    }
    if let Some(output) = report_output {
        output.commit()?;
    }
    Ok(SplitOutcome {
        report,
        warnings: inputs.warnings,
    })
}

/// Pairs `--output` and `--descriptor` by layer name.
fn layer_targets(config: &SplitConfig) -> Result<BTreeMap<String, LayerTarget>> {
    let mut blobs = BTreeMap::new();
    for (name, path) in &config.outputs {
        if blobs.insert(name.clone(), path.clone()).is_some() {
            return Err(Error::LayerSpec(format!(
                "--output {name}=... is given twice; give one path per layer"
            )));
        }
    }
    let mut descriptors = BTreeMap::new();
    for (name, path) in &config.descriptors {
        if descriptors.insert(name.clone(), path.clone()).is_some() {
            return Err(Error::LayerSpec(format!(
                "--descriptor {name}=... is given twice; give one path per layer"
            )));
        }
    }
    let names: BTreeSet<&String> = blobs.keys().chain(descriptors.keys()).collect();
    let mut targets = BTreeMap::new();
    for name in names {
        let blob = blobs.get(name).ok_or_else(|| {
            Error::LayerSpec(format!(
                "layer {name:?} has --descriptor but no --output; add --output {name}=PATH"
            ))
        })?;
        let descriptor = descriptors.get(name).ok_or_else(|| {
            Error::LayerSpec(format!(
                "layer {name:?} has --output but no --descriptor; add --descriptor {name}=PATH"
            ))
        })?;
        targets.insert(
            name.clone(),
            LayerTarget {
                name: name.clone(),
                blob: blob.clone(),
                descriptor: descriptor.clone(),
            },
        );
    }
    if targets.is_empty() {
        return Err(Error::LayerSpec(
            "no layer outputs; add --output NAME=PATH --descriptor NAME=PATH".to_string(),
        ));
    }
    let mut seen = BTreeMap::new();
    for target in targets.values() {
        for path in [&target.blob, &target.descriptor] {
            if let Some(other) = seen.insert(path.clone(), target.name.clone()) {
                return Err(Error::LayerSpec(format!(
                    "{} is used for two outputs (layers {other:?} and {:?}); give every output its own path",
                    path.display(),
                    target.name
                )));
            }
        }
    }
    Ok(targets)
}

fn render_report(config: &SplitConfig, layers: &[WrittenLayer], stats: &StripStats) -> String {
    let mut out = format!(
        "layer-splitter report: manifest {}, compression {} level {}\n\n",
        config.manifest.display(),
        config.layer.compress.compression,
        config.layer.compress.level
    );
    let width = layers
        .iter()
        .map(|l| l.name.len())
        .chain([5])
        .max()
        .unwrap_or(5);
    out += &format!(
        "{:<width$}  {:>8}  {:>14}  {:>14}  {:>6}\n",
        "layer", "entries", "uncompressed", "compressed", "ratio"
    );
    for layer in layers {
        let d = &layer.descriptor;
        let ratio = if d.blob.size == 0 {
            0.0
        } else {
            d.tar.size as f64 / d.blob.size as f64
        };
        out += &format!(
            "{:<width$}  {:>8}  {:>14}  {:>14}  {:>6.2}\n",
            layer.name, d.entries, d.tar.size, d.blob.size, ratio
        );
    }
    if !stats.rules.is_empty() {
        out += "\nstrip rules (files removed, bytes saved):\n";
        out += &stats.table();
    }
    if config.layer.strip_debug {
        let files: u64 = layers.iter().map(|l| l.elf_files_stripped).sum();
        let bytes: u64 = layers.iter().map(|l| l.elf_bytes_saved).sum();
        out += &format!("\nstrip-debug: {files} ELF files, {bytes} bytes saved\n");
    }
    if config.layer.hardlink_duplicates {
        out += "\nhardlink-duplicates (files stored as hard links, bytes not stored again):\n";
        for layer in layers {
            out += &format!(
                "{:<width$}  {:>8}  {:>14}\n",
                layer.name, layer.hardlinked_files, layer.hardlinked_bytes
            );
        }
    }
    out
}
