//! `pyimage-meta`: facts the rules need from JSON files, read with a real parser. See tools/README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pyimage::oci_layout::{check_base, write_base_check, Platform};

/// Read what the image rules need from a base image's OCI layout.
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
}

fn run() -> anyhow::Result<()> {
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
