//! `pyimage-meta`: facts the rules need from JSON and status files, read with real
//! parsers. See tools/README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pyimage::atomic::{OutputSet, TempOutput};
use pyimage::oci_layout::{
    check_base, check_layer_count, write_base_check, write_empty_base, write_layout_digest,
    write_sbom_referrer, Platform,
};
use pyimage::report::ImageReport;
use pyimage::sbom::{spdx, Interpreter};
use pyimage::status::{write_defined_version_tag, write_version_tag};
use std::io::Write as _;

/// Read and write what the image rules need besides layers: a base image's platform, an
/// empty base image, the version tag, the image report and SBOM, the SBOM's referrer.
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

        /// The CPU architecture being built for, as OCI names it (amd64, arm64, arm, 386, ...).
        #[arg(long, value_name = "ARCH")]
        architecture: String,

        /// The architecture variant (such as `v8`); any variant matches when not given.
        #[arg(long, value_name = "V")]
        variant: Option<String>,

        /// The image target, for messages.
        #[arg(long, value_name = "LABEL")]
        label: String,

        /// How many layers the image adds on top of the base; with the base's, at most
        /// 127.
        #[arg(long, value_name = "N", default_value_t = 0)]
        layers_above: usize,

        /// Where the result goes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },

    /// Write the digest of the image or index an OCI layout holds (`index.json`'s one
    /// entry) to FILE, as `sha256:<hex>` and a newline.
    LayoutDigest {
        /// The OCI image layout directory.
        #[arg(long, value_name = "DIR")]
        layout: PathBuf,

        /// Where the digest goes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },

    /// Write an OCI layout holding one empty image (no layers) for a platform, to build
    /// an image without a base on.
    EmptyBase {
        /// The operating system.
        #[arg(long, value_name = "OS", value_parser = ["linux"])]
        os: String,

        /// The CPU architecture, as OCI names it (amd64, arm64, arm, 386, ...).
        #[arg(long, value_name = "ARCH")]
        architecture: String,

        /// The architecture variant (such as `v7` for arm).
        #[arg(long, value_name = "V")]
        variant: Option<String>,

        /// The layout directory to write (new or empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },

    /// Write the image report: a self-contained HTML page, a text summary, the layers'
    /// digests and an SPDX 2.3 SBOM, from the layers' contents files (layer-splitter
    /// --contents) and the member lists of layer tars given as they are. Warns about
    /// files that are in more than one layer.
    Report {
        /// The image target, for the page and messages.
        #[arg(long, value_name = "LABEL")]
        label: String,

        /// The base image check (`PLATFORM DIGEST`, as check-base writes it).
        #[arg(long, value_name = "FILE")]
        base_check: Option<PathBuf>,

        /// A layer tar given as it is (the image's lowest layers, in order). Repeatable.
        #[arg(long, value_name = "FILE")]
        tar: Vec<PathBuf>,

        /// A layer's contents file, in image order after the tars. Repeatable.
        #[arg(long, value_name = "FILE")]
        contents: Vec<PathBuf>,

        /// The version of the interpreter the image carries, for the SBOM.
        #[arg(long, value_name = "X.Y[.Z]", requires = "python_source")]
        python_version: Option<String>,

        /// Where that interpreter comes from (its Bazel repository).
        #[arg(long, value_name = "REPOSITORY")]
        python_source: Option<String>,

        /// The layers' modification time, the SBOM's creation time (seconds since the epoch).
        #[arg(long, value_name = "SECONDS", default_value_t = 0)]
        mtime: u64,

        /// Where the HTML page goes.
        #[arg(long, value_name = "FILE")]
        html: PathBuf,

        /// Where the text summary goes.
        #[arg(long, value_name = "FILE")]
        summary: PathBuf,

        /// Where `NAME DIGEST` per layer goes.
        #[arg(long, value_name = "FILE")]
        digests: PathBuf,

        /// Where the SPDX 2.3 JSON goes.
        #[arg(long, value_name = "FILE")]
        sbom: PathBuf,
    },

    /// Write an OCI layout holding the SBOM as an artifact that refers to an image (its
    /// `subject`), to push next to it: registries then list it among the image's
    /// referrers.
    SbomReferrer {
        /// The image: an OCI image layout of one image or index (an oci_image).
        #[arg(long, value_name = "DIR")]
        image: PathBuf,

        /// The SPDX JSON of the image (the `report` subcommand's `--sbom`).
        #[arg(long, value_name = "FILE")]
        sbom: PathBuf,

        /// The layout directory to write (new or empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },

    /// Write the version tag file: TEXT, then the version and a newline if there is one.
    /// The version is an OCI tag from `--define` or from Bazel's workspace status file.
    #[command(group = clap::ArgGroup::new("source").required(true).args(["define", "status"]))]
    VersionTag {
        /// The version given on Bazel's command line, as `NAME=VALUE` (for messages).
        #[arg(long, value_name = "NAME=VALUE", conflicts_with_all = ["status", "key"])]
        define: Option<String>,

        /// The workspace status file (lines `KEY VALUE`).
        #[arg(long, value_name = "FILE", requires = "key")]
        status: Option<PathBuf>,

        /// The key that holds the version, such as STABLE_VERSION.
        #[arg(long, value_name = "KEY")]
        key: Option<String>,

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
            layers_above,
            out,
        } => {
            let want = Platform {
                os,
                architecture,
                variant,
            };
            let base = check_base(&layout, &want, &label)?;
            check_layer_count(&base, layers_above, &label)?;
            write_base_check(&out, &base)?;
        }
        Command::Report {
            label,
            base_check,
            tar,
            contents,
            python_version,
            python_source,
            mtime,
            html,
            summary,
            digests,
            sbom,
        } => {
            let tars: Vec<&std::path::Path> = tar.iter().map(PathBuf::as_path).collect();
            let contents: Vec<&std::path::Path> = contents.iter().map(PathBuf::as_path).collect();
            let report = ImageReport::read(&label, base_check.as_deref(), &tars, &contents)?;
            let interpreter = python_version.map(|version| Interpreter {
                version,
                source: python_source.unwrap_or_default(),
            });
            let sbom_json = spdx(
                &report,
                interpreter.as_ref(),
                mtime,
                env!("CARGO_PKG_VERSION"),
            );
            let mut outputs = OutputSet::default();
            for (path, text) in [
                (&html, report.html()),
                (&summary, report.summary()),
                (&digests, report.digests()),
                (&sbom, sbom_json),
            ] {
                let (output, mut file) = TempOutput::create(path)?;
                file.write_all(text.as_bytes())
                    .map_err(|e| pyimage::Error::io(format!("writing {}", path.display()), e))?;
                outputs.extend(Some(output));
            }
            outputs.commit()?;
            if let Some(warning) = report.duplicate_warning() {
                eprintln!("pyimage-meta: warning: {warning}");
            }
        }
        Command::LayoutDigest { layout, out } => write_layout_digest(&layout, &out)?,
        Command::SbomReferrer { image, sbom, out } => write_sbom_referrer(&image, &sbom, &out)?,
        Command::EmptyBase {
            os,
            architecture,
            variant,
            out,
        } => write_empty_base(
            &out,
            &Platform {
                os,
                architecture,
                variant,
            },
        )?,
        Command::VersionTag {
            define,
            status,
            key,
            out,
            prefix,
        } => match (define, status, key) {
            (Some(define), _, _) => write_defined_version_tag(&define, &prefix, &out)?,
            (None, Some(status), Some(key)) => write_version_tag(&status, &key, &prefix, &out)?,
            _ => unreachable!("clap requires --define or --status with --key"),
        },
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
