//! The whole `layer-splitter` run: manifest in, strip rules applied, the layer written,
//! outputs committed only when all of them succeeded.

use std::io::Write;
use std::path::PathBuf;

use crate::atomic::TempOutput;
use crate::error::{Error, Result};
use crate::inputs::{collect_inputs, Entry, EntryKind, InputOptions};
use crate::layer::{write_layer, LayerOptions, LayerTarget, WrittenLayer};
use crate::manifest::read_manifest;
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
    check_outputs(config)?;
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
    written.commit()?;
    if let Some(output) = report_output {
        output.commit()?;
    }
    Ok(SplitOutcome {
        report,
        warnings: inputs.warnings,
    })
}

/// Refuses a layer name the report cannot hold and outputs that share a path.
fn check_outputs(config: &SplitConfig) -> Result<()> {
    if config.name.is_empty() || config.name.chars().any(char::is_control) {
        return Err(Error::LayerSpec(format!(
            "--name {:?} is not a usable layer name; give a non-empty name without control characters, such as {DEFAULT_LAYER_NAME:?}",
            config.name
        )));
    }
    let mut outputs = vec![
        ("--output", &config.output),
        ("--descriptor", &config.descriptor),
    ];
    if let Some(report) = &config.report {
        outputs.push(("--report", report));
    }
    for (i, (flag, path)) in outputs.iter().enumerate() {
        if let Some((other, _)) = outputs[..i].iter().find(|(_, p)| p == path) {
            return Err(Error::LayerSpec(format!(
                "{} is given as both {other} and {flag}; give every output its own path",
                path.display()
            )));
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
        out += &format!(
            "\nstrip-debug: {} ELF files, {} bytes saved\n",
            layer.elf_files_stripped, layer.elf_bytes_saved
        );
    }
    if config.layer.hardlink_duplicates {
        out += &format!(
            "\nhardlink-duplicates: {} files stored as hard links, {} bytes not stored again\n",
            layer.hardlinked_files, layer.hardlinked_bytes
        );
    }
    out
}
