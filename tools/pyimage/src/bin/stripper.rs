//! `stripper`: remove what a runtime image does not need from an interpreter or
//! site-packages tree. No rule runs it (`layer-splitter` applies the same rules while it
//! writes a layer); it is for previewing and performing a strip by hand, with
//! `bazel run`. See tools/README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{ArgGroup, Parser};
use pyimage::{StripArgs, StripProfile, TreeStripMode};

/// Remove test suites, caches, static libraries, headers and debug info from a Python
/// interpreter or site-packages tree.
///
/// Arguments may also come from `@PARAMFILE` (one argument per line).
#[derive(Debug, Parser)]
#[command(name = "stripper", version)]
#[command(group(ArgGroup::new("mode").required(true).args(["dry_run", "in_place", "output_dir"])))]
struct Args {
    /// Built-in strip rules: `python` for an interpreter tree, `site-packages` for wheels.
    #[arg(long, value_name = "none|python|site-packages")]
    profile: StripProfile,

    #[command(flatten)]
    strip: StripArgs,

    /// Print what would be removed, per rule (files, bytes); change nothing.
    #[arg(long, visible_alias = "report")]
    dry_run: bool,

    /// Also print every path removed (or that would be): rule, bytes and path, separated
    /// by TABs.
    #[arg(long)]
    list: bool,

    /// Strip ROOT itself.
    #[arg(long)]
    in_place: bool,

    /// Write a stripped copy of ROOT into DIR (new or empty); symlinks stay symlinks.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,

    /// The tree to strip.
    #[arg(value_name = "ROOT")]
    root: PathBuf,
}

/// A relative path as the user meant it: under `bazel run`, which starts the program in
/// its runfiles directory, relative to the directory `bazel run` was called from.
fn user_path(path: PathBuf) -> PathBuf {
    match std::env::var_os("BUILD_WORKING_DIRECTORY") {
        Some(dir) if path.is_relative() && !dir.is_empty() => PathBuf::from(dir).join(path),
        _ => path,
    }
}

/// True when `root` is named `site-packages` or `dist-packages`.
fn is_site_packages(root: &std::path::Path) -> bool {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    root.file_name()
        .is_some_and(|name| name == "site-packages" || name == "dist-packages")
}

fn run() -> anyhow::Result<()> {
    pyimage::signals::clean_up_on_termination()?;
    let argv = pyimage::expand_paramfiles(std::env::args_os())?;
    let mut args = Args::try_parse_from(argv).unwrap_or_else(|e| e.exit());
    args.root = user_path(args.root);
    let rules = args.strip.rules(args.profile)?;
    if args.profile == StripProfile::SitePackages && is_site_packages(&args.root) {
        // Paths are matched relative to ROOT, and package-tests looks for `tests` below a
        // `site-packages/` component: from inside, it would find none.
        eprintln!(
            "stripper: note: {} is a site-packages directory itself; give the directory that holds it (a pip repository, a venv) for site-packages:package-tests to see its packages",
            args.root.display()
        );
    }
    let mode = match (args.dry_run, args.in_place, args.output_dir) {
        (_, _, Some(dir)) => TreeStripMode::OutputDir(user_path(dir)),
        (_, true, None) => TreeStripMode::InPlace,
        _ => TreeStripMode::Report,
    };
    let summary = pyimage::strip_tree(&args.root, &rules, args.strip.strip_debug, &mode)
        .with_context(|| format!("stripping {} failed", args.root.display()))?;
    let verb = if mode == TreeStripMode::Report {
        "would remove"
    } else {
        "removed"
    };
    println!("stripper: {} ({verb}):", args.root.display());
    if args.list {
        print!("{}", summary.list());
        println!();
    }
    print!("{}", summary.table());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stripper: error: {}", pyimage::error::chain(&*e));
            ExitCode::from(1)
        }
    }
}
