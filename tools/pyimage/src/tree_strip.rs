//! Applying strip rules to a directory on disk: a dry run (count and list, change nothing),
//! strip in place, or write a stripped copy (symlinks kept as symlinks). Every mode walks
//! the tree the same way and records the same removals, so a dry run shows exactly what a
//! real run removes.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::atomic::TempOutput;
use crate::elf::{examine, DebugStrip, DebugStripStats};
use crate::error::{Error, Result};
use crate::strip::{StripRules, StripStats};

/// What to do with the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeStripMode {
    /// Count and list what would be removed; change nothing.
    Report,
    /// Remove files from the tree itself.
    InPlace,
    /// Write a stripped copy into this (new or empty) directory.
    OutputDir(PathBuf),
}

/// What a tree strip did (or, in report mode, would do).
#[derive(Debug, Clone, Default)]
pub struct TreeStripSummary {
    /// Per-rule counts.
    pub stats: StripStats,
    /// Whether debug stripping was asked for.
    pub strip_debug: bool,
    /// What debug stripping did (or would do).
    pub debug_strip: DebugStripStats,
    /// Files (and symlinks) kept.
    pub kept_files: u64,
    /// Bytes of the kept files after stripping.
    pub kept_bytes: u64,
    /// Everything removed (or that would be), in walk order: parents after their children.
    pub removed: Vec<Removed>,
}

/// One path a strip rule removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// Relative to the tree's root; a directory's ends with `/`.
    pub path: String,
    /// Index of the rule in [`StripStats::rules`].
    pub rule: usize,
    /// The file's or symlink's size; `None` for a directory.
    pub bytes: Option<u64>,
}

impl TreeStripSummary {
    /// A table of the rules, debug stripping and the totals.
    pub fn table(&self) -> String {
        let mut out = self.stats.table();
        out += "\n";
        if self.strip_debug {
            out += &self.debug_strip.report();
        } else {
            out += "strip-debug: off\n";
        }
        out += &format!(
            "kept: {} files, {} bytes\n",
            self.kept_files, self.kept_bytes
        );
        out
    }

    /// One line per removed path: `RULE<TAB>BYTES<TAB>PATH` (`-` for a directory).
    pub fn list(&self) -> String {
        let mut out = String::new();
        for removed in &self.removed {
            let bytes = removed.bytes.map_or("-".to_string(), |b| b.to_string());
            let rule = &self.stats.rules[removed.rule].0;
            out += &format!("{rule}\t{bytes}\t{}\n", removed.path);
        }
        out
    }
}

/// Strips the tree at `root`.
pub fn strip_tree(
    root: &Path,
    rules: &StripRules,
    strip_debug: bool,
    mode: &TreeStripMode,
) -> Result<TreeStripSummary> {
    let meta = fs::metadata(root).map_err(|e| {
        Error::io(
            format!("cannot read {}; give an existing directory", root.display()),
            e,
        )
    })?;
    if !meta.is_dir() {
        return Err(Error::io(
            format!(
                "{} is not a directory; give the root of the tree to strip",
                root.display()
            ),
            io::Error::from(io::ErrorKind::InvalidInput),
        ));
    }
    if let TreeStripMode::OutputDir(out) = mode {
        if out.exists()
            && fs::read_dir(out)
                .map_err(|e| Error::io(format!("reading {}", out.display()), e))?
                .next()
                .is_some()
        {
            return Err(Error::io(
                format!(
                    "output directory {} is not empty; give a new or empty directory",
                    out.display()
                ),
                io::Error::from(io::ErrorKind::AlreadyExists),
            ));
        }
        fs::create_dir_all(out).map_err(|e| Error::io(format!("creating {}", out.display()), e))?;
        let (root_abs, out_abs) = (fs::canonicalize(root), fs::canonicalize(out));
        if let (Ok(root_abs), Ok(out_abs)) = (root_abs, out_abs) {
            if out_abs.starts_with(&root_abs) {
                let _ = fs::remove_dir(out);
                return Err(Error::io(
                    format!(
                        "output directory {} is inside {}; write the copy outside the tree",
                        out.display(),
                        root.display()
                    ),
                    io::Error::from(io::ErrorKind::InvalidInput),
                ));
            }
        }
    }
    let mut walker = Walker {
        rules,
        strip_debug,
        mode,
        summary: TreeStripSummary {
            stats: StripStats::new(rules),
            strip_debug,
            ..Default::default()
        },
    };
    walker.visit(root, "")?;
    Ok(walker.summary)
}

struct Walker<'a> {
    rules: &'a StripRules,
    strip_debug: bool,
    mode: &'a TreeStripMode,
    summary: TreeStripSummary,
}

fn io_at(what: &str, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let context = format!("{what} {}", path.display());
    move |e| Error::io(context, e)
}

impl Walker<'_> {
    fn out_path(&self, rel: &str) -> Option<PathBuf> {
        match self.mode {
            TreeStripMode::OutputDir(out) if rel.is_empty() => Some(out.clone()),
            TreeStripMode::OutputDir(out) => Some(out.join(rel)),
            _ => None,
        }
    }

    /// Visits directory `dir` (relative path `rel`). Returns true when it ends up empty.
    fn visit(&mut self, dir: &Path, rel: &str) -> Result<bool> {
        let mut names = Vec::new();
        for child in fs::read_dir(dir).map_err(io_at("reading", dir))? {
            let child = child.map_err(io_at("reading", dir))?;
            let name = child.file_name();
            let name = name.to_str().ok_or_else(|| Error::NonUtf8Name {
                lossy: child.path().to_string_lossy().into_owned(),
            })?;
            names.push(name.to_string());
        }
        names.sort();
        let mut kept_any = false;
        for name in names {
            let path = dir.join(&name);
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let meta = fs::symlink_metadata(&path).map_err(io_at("inspecting", &path))?;
            let kind = meta.file_type();
            if kind.is_dir() {
                if let Some(out) = self.out_path(&child_rel) {
                    fs::create_dir(&out).map_err(io_at("creating", &out))?;
                }
                let empty = self.visit(&path, &child_rel)?;
                if let Some(out) = self.out_path(&child_rel) {
                    // After the children: a read-only directory must be filled first.
                    if !(empty && self.rules.removes(&child_rel)) {
                        fs::set_permissions(&out, fs::Permissions::from_mode(meta.mode() & 0o7777))
                            .map_err(io_at("setting permissions of", &out))?;
                    }
                }
                if let Some(rule) = self.rules.rule_for(&child_rel).filter(|_| empty) {
                    self.summary.removed.push(Removed {
                        path: format!("{child_rel}/"),
                        rule,
                        bytes: None,
                    });
                    match self.mode {
                        TreeStripMode::InPlace => {
                            fs::remove_dir(&path).map_err(io_at("removing", &path))?
                        }
                        TreeStripMode::OutputDir(_) => {
                            let out = self.out_path(&child_rel).unwrap_or_default();
                            fs::remove_dir(&out).map_err(io_at("removing", &out))?
                        }
                        TreeStripMode::Report => {}
                    }
                } else {
                    kept_any = true;
                }
                continue;
            }
            if let Some(rule) = self.rules.rule_for(&child_rel) {
                self.summary.stats.record(rule, meta.len());
                self.summary.removed.push(Removed {
                    path: child_rel,
                    rule,
                    bytes: Some(meta.len()),
                });
                if *self.mode == TreeStripMode::InPlace {
                    fs::remove_file(&path).map_err(io_at("removing", &path))?;
                }
                continue;
            }
            kept_any = true;
            self.summary.kept_files += 1;
            if kind.is_symlink() {
                self.summary.kept_bytes += meta.len();
                if let Some(out) = self.out_path(&child_rel) {
                    let target = fs::read_link(&path).map_err(io_at("reading link", &path))?;
                    symlink(&target, &out).map_err(io_at("creating link", &out))?;
                }
            } else if kind.is_file() {
                self.file(&path, &child_rel, &meta)?;
            } else {
                return Err(Error::SpecialFile {
                    dest: child_rel,
                    src: path,
                    kind: "special file",
                });
            }
        }
        Ok(!kept_any)
    }

    fn file(&mut self, path: &Path, rel: &str, meta: &fs::Metadata) -> Result<()> {
        let plan = if self.strip_debug && meta.len() >= 64 {
            let file = File::open(path).map_err(io_at("opening", path))?;
            let outcome = examine(&file, meta.len()).map_err(io_at("reading", path))?;
            self.summary.debug_strip.record(rel, &outcome);
            match outcome {
                DebugStrip::Strip(p) => Some((file, p)),
                _ => None,
            }
        } else {
            None
        };
        let size = plan.as_ref().map_or(meta.len(), |(_, p)| p.stripped_size);
        self.summary.kept_bytes += size;
        let permissions = fs::Permissions::from_mode(meta.mode() & 0o7777);
        match (self.mode, plan) {
            (TreeStripMode::Report, _) => {}
            (TreeStripMode::InPlace, None) => {}
            (TreeStripMode::InPlace, Some((file, plan))) => {
                let (output, mut temp) = TempOutput::create(path)?;
                io::copy(&mut plan.reader(&file), &mut temp)
                    .map_err(io_at("writing stripped copy of", path))?;
                temp.set_permissions(permissions)
                    .map_err(io_at("setting permissions of", path))?;
                temp.flush().map_err(io_at("writing", path))?;
                output.commit()?;
            }
            (TreeStripMode::OutputDir(_), plan) => {
                let out = self.out_path(rel).unwrap_or_default();
                let mut dest = File::create(&out).map_err(io_at("creating", &out))?;
                match plan {
                    Some((file, plan)) => io::copy(&mut plan.reader(&file), &mut dest),
                    None => {
                        let mut src = File::open(path).map_err(io_at("opening", path))?;
                        io::copy(&mut src, &mut dest)
                    }
                }
                .map_err(io_at("writing", &out))?;
                dest.set_permissions(permissions)
                    .map_err(io_at("setting permissions of", &out))?;
            }
        }
        Ok(())
    }
}
