//! `layer-splitter`: manifest in, one deterministic compressed OCI layer blob and its
//! descriptor out. See tools/README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pyimage::{
    CompressOptions, Compression, LayerOptions, SplitConfig, Stamp, StripArgs, StripProfile,
};

/// Turn a manifest of in-image paths into one deterministic, compressed OCI layer blob.
///
/// Arguments may also come from `@PARAMFILE` (one argument per line).
#[derive(Debug, Parser)]
#[command(name = "layer-splitter", version)]
struct Args {
    /// The manifest: one entry per line, fields separated by TAB (`file`, `tree`,
    /// `symlink`, `rawlink`, `link`, `output`, `dir`, `empty`, each optionally followed
    /// by `mode=`, `uid=`, `gid=`, `uname=`, `gname=` attributes; see tools/README.md).
    #[arg(long, value_name = "PATH")]
    manifest: PathBuf,

    /// Where the layer's blob goes.
    #[arg(long, value_name = "PATH")]
    output: PathBuf,

    /// Where the layer's descriptor JSON (digest, size, diff ID) goes.
    #[arg(long, value_name = "PATH")]
    descriptor: PathBuf,

    /// The layer's name, used in the report and in messages.
    #[arg(long, value_name = "NAME", default_value = pyimage::split::DEFAULT_LAYER_NAME)]
    name: String,

    /// Blob compression.
    #[arg(long, value_name = "none|gzip|zstd", default_value = "gzip")]
    compression: Compression,

    /// Compression level (gzip 0-12 as in libdeflate, default 5; zstd -7..22, default 3).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    level: Option<i32>,

    /// Compression threads; 0 uses every core. At most 2 per core and what memory allows
    /// (more are lowered, with a warning). The output is identical for any value.
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,

    /// Modification time of every member, in seconds since the epoch.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    mtime: u64,

    /// Numeric owner of every member.
    #[arg(long, value_name = "UID:GID", default_value = "0:0", value_parser = owner)]
    owner: (u64, u64),

    /// Keep setuid/setgid bits given in manifest modes (dropped with a warning otherwise).
    #[arg(long)]
    allow_setuid: bool,

    /// Copy what a symlink inside a `tree` source points to when it leaves the tree
    /// (absolute, or relative and climbing out); such links are refused otherwise.
    #[arg(long)]
    follow_external_symlinks: bool,

    /// Accept a manifest with no entries (writes an empty layer).
    #[arg(long)]
    allow_empty: bool,

    /// Built-in strip rules.
    #[arg(long, value_name = "none|python|site-packages", default_value = "none")]
    strip_profile: StripProfile,

    #[command(flatten)]
    strip: StripArgs,

    /// Store regular files with identical content and mode once: every later
    /// one (in archive order) becomes a hard link to the first.
    #[arg(long)]
    hardlink_duplicates: bool,

    /// Write a text report (the layer's sizes, per strip rule savings) to PATH.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,

    /// Write what the layer holds as JSON to PATH: its descriptor, per strip rule
    /// savings, the Python distributions (name, version, licence from `.dist-info`) and
    /// every regular file with its size; read by `pyimage-meta report`.
    #[arg(long, value_name = "PATH")]
    contents: Option<PathBuf>,

    /// Also write the layer's metadata as rules_img reads it (`SingleLayerInfo.metadata`:
    /// exactly `diff_id`, `mediaType`, `digest`, `size` and `history`) to PATH, so that
    /// rules_img's image rules take the layer without hashing it again.
    #[arg(long, value_name = "PATH")]
    img_metadata: Option<PathBuf>,

    /// The `created_by` of the history entry in --img-metadata, such as
    /// `bazel build //app:layers (deps)`; without it the metadata has no history.
    #[arg(long, value_name = "TEXT")]
    created_by: Option<String>,

    /// Warn (on stderr and in the report) about each --package directory whose files in
    /// the layer add up to more than BYTES; 0 turns the warning off.
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    large_package_bytes: u64,

    /// An in-image directory holding one package, and the `groups` entry that would give
    /// it a layer of its own (such as `"torch": ["@pypi_torch"]`). Repeatable.
    #[arg(long, value_name = "DIR=ENTRY", value_parser = package)]
    package: Vec<(String, String)>,
}

fn package(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((dir, hint)) if !dir.trim_matches('/').is_empty() => {
            Ok((dir.to_string(), hint.to_string()))
        }
        _ => Err(format!(
            "expected DIR=ENTRY with an in-image directory such as /app/external/pypi_torch, got {arg:?}"
        )),
    }
}

fn owner(arg: &str) -> Result<(u64, u64), String> {
    let parsed = arg
        .split_once(':')
        .and_then(|(u, g)| Some((u.parse().ok()?, g.parse().ok()?)));
    parsed.ok_or_else(|| format!("expected numeric UID:GID such as 0:0 or 1000:1000, got {arg:?}"))
}

fn run() -> anyhow::Result<()> {
    pyimage::signals::clean_up_on_termination()?;
    let (argv, param_files) = pyimage::paramfile::expand_paramfiles_listing(std::env::args_os())?;
    let args = Args::try_parse_from(argv).unwrap_or_else(|e| e.exit());
    let level = args.level.unwrap_or(args.compression.default_level());
    args.compression
        .check_level(level)
        .map_err(anyhow::Error::msg)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let (threads, note) = pyimage::compress::bounded_threads(
        args.threads,
        cores,
        pyimage::compress::available_memory(),
    );
    if let Some(note) = note {
        eprintln!("layer-splitter: warning: {note}");
    }
    let config = SplitConfig {
        manifest: args.manifest,
        name: args.name,
        output: args.output,
        descriptor: args.descriptor,
        report: args.report,
        contents: args.contents,
        img_metadata: args.img_metadata,
        created_by: args.created_by,
        layer: LayerOptions {
            compress: CompressOptions {
                compression: args.compression,
                level,
                threads,
            },
            stamp: Stamp {
                mtime: args.mtime,
                uid: args.owner.0,
                gid: args.owner.1,
            },
            strip_debug: args.strip.strip_debug,
            hardlink_duplicates: args.hardlink_duplicates,
        },
        strip_profile: args.strip_profile,
        exclude: args.strip.exclude,
        include: args.strip.include,
        allow_setuid: args.allow_setuid,
        allow_empty: args.allow_empty,
        follow_external_symlinks: args.follow_external_symlinks,
        param_files,
        large_packages: pyimage::split::LargePackages {
            threshold: args.large_package_bytes,
            packages: args.package,
        },
    };
    let outcome = pyimage::split_layer(&config)?;
    for warning in outcome.warnings {
        eprintln!("layer-splitter: warning: {warning}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("layer-splitter: error: {}", pyimage::error::chain(&*e));
            ExitCode::from(1)
        }
    }
}
