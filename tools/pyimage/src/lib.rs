//! Building blocks for small, reproducible Python container images.
//!
//! `layer-splitter` turns a manifest of in-image paths into one OCI layer blob
//! (deterministic tar, compressed in parallel, with digests); `stripper` removes what a
//! runtime image does not need from an interpreter or site-packages tree; `pyimage-meta`
//! reads the JSON and status files the rules need facts from (a base image's platform,
//! the version tag). The binaries are thin wrappers over this library:
//!
//! - [`manifest`]: the manifest format and its parser.
//! - [`path`]: in-image path normalisation and symlink target rewriting.
//! - [`inputs`]: inspecting sources, walking trees, merging duplicates, refusing conflicts.
//! - [`strip`]: strip profiles and rules; [`tree_strip`] applies them to a directory;
//!   [`elf`] removes debug sections.
//! - [`tar`]: the deterministic ustar/PAX header writer.
//! - [`compress`]: parallel gzip and zstd; [`deflate_scan`] finds block boundaries so
//!   independently deflated blocks chain into one stream; [`offload`]: hashing and writing
//!   on threads of their own.
//! - [`digest`], [`descriptor`]: digests and the layer descriptor JSON; [`media_type`]: the
//!   OCI media types; [`img_metadata`]: the same facts as rules_img's layer metadata.
//! - [`dedup`]: identical files of a layer stored once (`--hardlink-duplicates`).
//! - [`contents`]: what a layer holds (distributions, files), for the image report.
//! - [`layer`], [`split`]: writing the layer; [`atomic`]: outputs that appear only when done;
//!   [`sparse`]: uncompressed blobs keep holes where pages are zero.
//! - [`oci_layout`]: a base image's platform, from its OCI layout; [`status`]: the version
//!   tag from Bazel's workspace status file (both for `pyimage-meta`).
//! - [`report`], [`sbom`]: the image report (HTML, summary, files in two layers) and the
//!   SPDX SBOM, from [`contents`] files and [`tar_list`] member lists (for `pyimage-meta`).
//! - [`fuzzing`]: the fuzz harnesses (manifest, parameter file, tree walk, tar listing,
//!   contents files).
//! - [`signals`]: interrupted runs remove their temporary files.
//! - [`paramfile`]: `@paramfile` expansion; [`cli`]: strip options two binaries share.

#![deny(missing_docs)]

pub mod atomic;
pub mod cli;
pub mod compress;
pub mod contents;
pub mod dedup;
pub mod deflate_scan;
pub mod descriptor;
pub mod digest;
pub mod elf;
pub mod error;
pub mod fuzzing;
pub mod img_metadata;
pub mod inputs;
pub mod layer;
pub mod manifest;
pub mod media_type;
pub mod oci_layout;
pub mod offload;
pub mod parallel;
pub mod paramfile;
pub mod path;
pub mod report;
pub mod sbom;
pub mod signals;
pub mod sparse;
pub mod split;
pub mod status;
pub mod strip;
pub mod tar;
pub mod tar_list;
pub mod tree_strip;

pub use cli::StripArgs;
pub use compress::{CompressOptions, Compression};
pub use error::{Error, Result};
pub use layer::LayerOptions;
pub use manifest::{parse_manifest, parse_manifest_bytes, ManifestEntry, ManifestLine};
pub use paramfile::expand_paramfiles;
pub use path::{normalize_dest, relative_link};
pub use split::{split_layer, SplitConfig, SplitOutcome};
pub use strip::{StripProfile, StripRules};
pub use tar::Stamp;
pub use tree_strip::{strip_tree, TreeStripMode, TreeStripSummary};
