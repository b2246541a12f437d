//! `pyimage-meta`: facts the rules need from JSON and status files, read with real
//! parsers. See tools/README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pyimage::oci_layout::{check_base, write_base_check, Platform};
use pyimage::status::write_version_tag;

/// Read what the image rules need from a base image's OCI layout and from Bazel's
/// workspace status file.
///
/// Arguments may also come from `@PARAMFILE` (one argument per line).
#[derive(Debug, Parser)]
#[command(name = "pyimage-meta", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that a base image layout holds an image for the platform being built; write
    /// `os/architecture[/variant] MANIFEST-DIGEST` to FILE.
    CheckBase {
        /// The base image: an OCI image layout directory (index.json, blobs/sha256/).
        #[arg(long, value_name = "DIR")]
        layout: PathBuf,

        /// The operating system being built for.
        #[arg(long, value_name = "OS", value_parser = ["linux"])]
        os: String,

        /// The CPU architecture being built for.
        #[arg(long, value_name = "ARCH", value_parser = ["amd64", "arm64"])]
        architecture: String,

        /// The architecture variant (such as `v8`); any variant matches when not given.
        #[arg(long, value_name = "V")]
        variant: Option<String>,

        /// The image target, for messages.
        #[arg(long, value_name = "LABEL")]
        label: String,

        /// Where the result goes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },

    /// Write the version tag from Bazel's workspace status file: TEXT, then KEY's value and
    /// a newline if the file has it.
    VersionTag {
        /// The workspace status file (lines `KEY VALUE`).
        #[arg(long, value_name = "FILE")]
        status: PathBuf,

        /// The key that holds the version, such as STABLE_VERSION.
        #[arg(long, value_name = "KEY")]
        key: String,

        /// Where the tags go.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,

        /// Written first, verbatim (fixed tags, one per line).
        #[arg(long, value_name = "TEXT", default_value = "")]
        prefix: String,
    },
}

fn run() -> anyhow::Result<()> {
    pyimage::signals::clean_up_on_termination()?;
    let argv = pyimage::expand_paramfiles(std::env::args_os())?;
    let args = Args::try_parse_from(argv).unwrap_or_else(|e| e.exit());
    match args.command {
        Command::CheckBase {
            layout,
            os,
            architecture,
            variant,
            label,
            out,
        } => {
            let want = Platform {
                os,
                architecture,
                variant,
            };
            let base = check_base(&layout, &want, &label)?;
            write_base_check(&out, &base)?;
        }
        Command::VersionTag {
            status,
            key,
            out,
            prefix,
        } => write_version_tag(&status, &key, &prefix, &out)?,
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pyimage-meta: error: {}", pyimage::error::chain(&*e));
            ExitCode::from(1)
        }
    }
}
