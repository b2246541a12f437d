//! `layer-splitter`: manifest in, deterministic compressed OCI layer blobs and
//! descriptors out. See tools/README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pyimage::{
    CompressOptions, Compression, LayerOptions, SplitConfig, Stamp, StripArgs, StripProfile,
};

/// Turn a manifest of in-image paths into deterministic, compressed OCI layer blobs.
///
/// Arguments may also come from `@PARAMFILE` (one argument per line).
#[derive(Debug, Parser)]
#[command(name = "layer-splitter", version)]
struct Args {
    /// The manifest: one entry per line, fields separated by TAB (`file`, `tree`,
    /// `symlink`, `link`, `dir`, `empty`; see tools/README.md).
    #[arg(long, value_name = "PATH")]
    manifest: PathBuf,

    /// Where layer NAME's blob goes. Repeat once per layer.
    #[arg(long = "output", value_name = "NAME=PATH", value_parser = named_path)]
    outputs: Vec<(String, PathBuf)>,

    /// Where layer NAME's descriptor JSON goes. Repeat once per layer.
    #[arg(long = "descriptor", value_name = "NAME=PATH", value_parser = named_path)]
    descriptors: Vec<(String, PathBuf)>,

    /// Send entries whose in-image path matches GLOB (and everything below it) to layer
    /// NAME. The first matching route wins, in argument order.
    #[arg(long = "route", value_name = "NAME=GLOB", value_parser = named_glob)]
    routes: Vec<(String, String)>,

    /// The layer that receives entries no route matches.
    #[arg(long, value_name = "NAME", default_value = "layer")]
    default_layer: String,

    /// Blob compression.
    #[arg(long, value_name = "none|gzip|zstd", default_value = "gzip")]
    compression: Compression,

    /// Compression level (gzip 0-12 as in libdeflate, default 5; zstd -7..22, default 3).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    level: Option<i32>,

    /// Compression threads; 0 uses every core. The output is identical for any value.
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

    /// Accept a manifest with no entries (writes empty layers).
    #[arg(long)]
    allow_empty: bool,

    /// Built-in strip rules.
    #[arg(long, value_name = "none|python|site-packages", default_value = "none")]
    strip_profile: StripProfile,

    #[command(flatten)]
    strip: StripArgs,

    /// Store regular files with identical content and mode once per layer: every later
    /// one (in archive order) becomes a hard link to the first.
    #[arg(long)]
    hardlink_duplicates: bool,

    /// Write a text report (per layer sizes, per strip rule savings) to PATH.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
}

fn named_path(arg: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = named(arg, "PATH")?;
    Ok((name, PathBuf::from(path)))
}

fn named_glob(arg: &str) -> Result<(String, String), String> {
    named(arg, "GLOB")
}

fn named(arg: &str, what: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, value)) if !name.is_empty() && !value.is_empty() => {
            Ok((name.to_string(), value.to_string()))
        }
        _ => Err(format!("expected NAME={what}, got {arg:?}")),
    }
}

fn owner(arg: &str) -> Result<(u64, u64), String> {
    let parsed = arg
        .split_once(':')
        .and_then(|(u, g)| Some((u.parse().ok()?, g.parse().ok()?)));
    parsed.ok_or_else(|| format!("expected numeric UID:GID such as 0:0 or 1000:1000, got {arg:?}"))
}

fn run() -> anyhow::Result<()> {
    let argv = pyimage::expand_paramfiles(std::env::args_os())?;
    let args = Args::try_parse_from(argv).unwrap_or_else(|e| e.exit());
    let level = args.level.unwrap_or(args.compression.default_level());
    args.compression
        .check_level(level)
        .map_err(anyhow::Error::msg)?;
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n.min(256),
    };
    let config = SplitConfig {
        manifest: args.manifest,
        outputs: args.outputs,
        descriptors: args.descriptors,
        routes: args.routes,
        default_layer: args.default_layer,
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
        report: args.report,
    };
    let outcome = pyimage::split_layers(&config)?;
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
