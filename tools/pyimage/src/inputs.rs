//! Collecting a manifest's entries from disk into one validated, sorted set of image
//! entries: sources are inspected (not yet read), trees are walked, duplicates merged,
//! conflicts and type clashes refused.
//!
//! A file whose manifest line gives no mode is `0755` when it is an ELF binary or a `#!`
//! script and `0644` otherwise, read from its first bytes. Its executable bits on disk are
//! not used: they do not travel with the file everywhere Bazel moves it (remote execution
//! marks every input executable, and every action output is executable), so a mode taken
//! from them would make a layer's bytes depend on where its action ran.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::manifest::{ManifestEntry, ManifestLine, Owner};
use crate::parallel::map_ordered;
use crate::path::{ancestors, relative_link, resolve_link};

/// What an image entry is.
#[derive(Debug, Clone)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file; `src` is `None` for an empty file.
    File {
        /// Where the content comes from.
        src: Option<PathBuf>,
        /// Size in bytes when inspected.
        size: u64,
        /// `(device, inode)` of the source, to merge duplicates cheaply.
        identity: (u64, u64),
    },
    /// A symbolic link with a normalised, relative target.
    Symlink {
        /// The relative target.
        target: String,
    },
}

impl EntryKind {
    /// "directory", "file" or "symlink".
    pub fn describe(&self) -> &'static str {
        match self {
            EntryKind::Dir => "directory",
            EntryKind::File { .. } => "file",
            EntryKind::Symlink { .. } => "symlink",
        }
    }
}

/// One entry of the image, after normalisation.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Normalised in-image path, no leading or trailing `/`.
    pub path: String,
    /// Type and content.
    pub kind: EntryKind,
    /// Permission bits (`0o7777` at most).
    pub mode: u32,
    /// Owner ids and names the manifest gave (the layer's `--owner` for the rest).
    pub owner: Owner,
    /// Where the entry came from, for error messages.
    pub origin: String,
}

impl Entry {
    /// An entry owned as the layer's `--owner` says.
    pub fn new(path: String, kind: EntryKind, mode: u32, origin: String) -> Entry {
        Entry {
            path,
            kind,
            mode,
            owner: Owner::default(),
            origin,
        }
    }
}

/// Options for [`collect_inputs`].
#[derive(Debug, Clone, Default)]
pub struct InputOptions {
    /// Keep setuid/setgid bits of explicit modes (dropped with a warning otherwise).
    pub allow_setuid: bool,
    /// Absolute symlink targets under this directory are host paths and refused (the
    /// build's working directory; `None` disables the check).
    pub host_root: Option<PathBuf>,
    /// Follow symlinks inside `tree` sources that leave the tree (absolute, or relative
    /// and climbing out), copying what they point to. Refused otherwise.
    pub follow_external_symlinks: bool,
    /// Threads for reading files' first bytes (their modes); 0 or 1: one.
    pub threads: usize,
}

/// The validated entries of a manifest, keyed and sorted bytewise by path.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Entries by path.
    pub entries: BTreeMap<String, Entry>,
    /// Non-fatal notes (dropped setuid bits).
    pub warnings: Vec<String>,
}

/// Inspects every manifest entry's source, walks trees, merges identical duplicates and
/// refuses conflicts.
pub fn collect_inputs(lines: &[ManifestLine], options: &InputOptions) -> Result<Inputs> {
    let mut collector = Collector {
        inputs: Inputs::default(),
        options,
        owner: Owner::default(),
        tree_file_mode: None,
        mode_from_content: BTreeSet::new(),
    };
    for line in lines {
        collector.add_line(line)?;
    }
    let mut inputs = collector.inputs;
    check_parents(&inputs.entries)?;
    let pending: Vec<&Entry> = collector
        .mode_from_content
        .iter()
        .map(|path| &inputs.entries[path])
        .collect();
    let modes = map_ordered(
        &pending,
        options.threads,
        || (),
        |entry, _| mode_from_content(entry),
    )?;
    for (path, mode) in collector.mode_from_content.iter().zip(modes) {
        inputs
            .entries
            .get_mut(path)
            .expect("pending entries exist")
            .mode = mode;
    }
    Ok(inputs)
}

/// The `tree` source being walked.
struct Tree<'a> {
    /// The directory named in the manifest.
    src: &'a Path,
    /// Where its entries come from, for messages.
    origin: &'a str,
}

/// Lexically normalised components of a path, made absolute against the working
/// directory (`..` removes the previous component).
fn normal_components(path: &Path) -> Vec<std::ffi::OsString> {
    use std::path::Component;
    let absolute;
    let path = if path.is_absolute() {
        path
    } else {
        absolute = std::env::current_dir().unwrap_or_default().join(path);
        &absolute
    };
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => parts.push(name.to_os_string()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts
}

/// Whether the absolute symlink at `rel` inside the tree `tree` is the way Bazel's
/// sandbox presents a file of a tree artifact: a link to the same path (the tree's name,
/// then `rel`) in another copy of the tree, whose content stays inside that copy.
fn sandbox_link(tree: &Path, rel: &str, target: &Path) -> bool {
    let Some(name) = normal_components(tree).pop() else {
        return false;
    };
    let mut suffix = vec![name];
    suffix.extend(rel.split('/').map(std::ffi::OsString::from));
    let target_parts = normal_components(target);
    if target_parts.len() <= suffix.len() || !target_parts.ends_with(&suffix) {
        return false;
    }
    let real_tree: PathBuf = std::iter::once(std::ffi::OsString::from("/"))
        .chain(
            target_parts[..target_parts.len() - suffix.len() + 1]
                .iter()
                .cloned(),
        )
        .collect();
    match (fs::canonicalize(target), fs::canonicalize(&real_tree)) {
        (Ok(target), Ok(real_tree)) => target.starts_with(real_tree),
        // A dangling link is reported as such when it is followed.
        _ => true,
    }
}

struct Collector<'a> {
    inputs: Inputs,
    options: &'a InputOptions,
    /// The owner the current line gives every entry it adds.
    owner: Owner,
    /// The mode the current `tree` line gives its regular files.
    tree_file_mode: Option<u32>,
    /// Files whose mode is still to be read from their content (after the walk, on
    /// several threads), by path.
    mode_from_content: BTreeSet<String>,
}

impl Collector<'_> {
    fn add_line(&mut self, line: &ManifestLine) -> Result<()> {
        let n = line.line;
        self.owner = line.attributes.owner.clone();
        let mode = line
            .attributes
            .mode
            .map(|mode| self.explicit_mode(line.entry.dest(), mode));
        self.tree_file_mode = None;
        match &line.entry {
            ManifestEntry::File { dest, src } => {
                let meta = stat_source(dest, src)?;
                let origin = format!("manifest line {n} (file from {})", src.display());
                self.add_file(dest, src, &meta, mode, origin)
            }
            ManifestEntry::Tree { dest, src } => {
                let meta = stat_source(dest, src)?;
                if !meta.is_dir() {
                    return Err(Error::WrongSourceType {
                        dest: dest.clone(),
                        src: src.clone(),
                        actual: "not a directory",
                        fix: "use a `file` entry for single files",
                    });
                }
                let origin = format!("manifest line {n} (tree {})", src.display());
                self.tree_file_mode = mode;
                let mut stack = vec![(meta.dev(), meta.ino())];
                let tree = Tree {
                    src,
                    origin: &origin,
                };
                self.walk(&tree, src, dest, "", &mut stack)
            }
            ManifestEntry::Symlink { dest, target } => {
                let origin = format!("manifest line {n} (symlink to {target})");
                self.add_symlink(dest, target, origin)
            }
            ManifestEntry::RawLink { dest, target } => {
                self.check_host_target(dest, target)?;
                self.insert(Entry::new(
                    dest.clone(),
                    EntryKind::Symlink {
                        target: target.clone(),
                    },
                    0o777,
                    format!("manifest line {n} (rawlink to {target})"),
                ))
            }
            ManifestEntry::Link { dest, src } => {
                let target = read_link_source(dest, src)?;
                let origin = format!("manifest line {n} (link {} to {target})", src.display());
                self.add_symlink(dest, &target, origin)
            }
            ManifestEntry::Output { dest, src } => {
                // read_link fails unless `src` is a symlink.
                if fs::read_link(src).is_ok_and(|target| target.is_relative()) {
                    let target = read_link_source(dest, src)?;
                    let origin = format!(
                        "manifest line {n} (output {}, a symlink to {target})",
                        src.display()
                    );
                    self.add_symlink(dest, &target, origin)
                } else {
                    let meta = stat_source(dest, src)?;
                    let origin = format!("manifest line {n} (output {})", src.display());
                    self.add_file(dest, src, &meta, mode, origin)
                }
            }
            ManifestEntry::Dir { dest } => self.insert(Entry::new(
                dest.clone(),
                EntryKind::Dir,
                mode.unwrap_or(0o755),
                format!("manifest line {n} (dir)"),
            )),
            ManifestEntry::Empty { dest } => self.insert(Entry::new(
                dest.clone(),
                EntryKind::File {
                    src: None,
                    size: 0,
                    identity: (0, 0),
                },
                mode.unwrap_or(0o644),
                format!("manifest line {n} (empty file)"),
            )),
        }
    }

    /// Refuses an absolute link target that is a path of the build's machine.
    fn check_host_target(&self, dest: &str, target: &str) -> Result<()> {
        if let Some(root) = &self.options.host_root {
            if target.starts_with('/')
                && root != Path::new("/")
                && Path::new(target).starts_with(root)
            {
                return Err(Error::HostPathSymlink {
                    dest: dest.to_string(),
                    target: target.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Adds a symlink whose target is as written in a manifest (relative to `dest`'s
    /// directory or absolute in-image), stored in its canonical relative form.
    fn add_symlink(&mut self, dest: &str, target: &str, origin: String) -> Result<()> {
        self.check_host_target(dest, target)?;
        let relative = relative_link(dest, target).ok_or_else(|| Error::SymlinkEscapes {
            dest: dest.to_string(),
            target: target.to_string(),
        })?;
        self.insert(Entry::new(
            dest.to_string(),
            EntryKind::Symlink { target: relative },
            0o777,
            origin,
        ))
    }

    fn explicit_mode(&mut self, dest: &str, mode: u32) -> u32 {
        if mode & 0o6000 != 0 && !self.options.allow_setuid {
            self.inputs.warnings.push(format!(
                "{dest}: dropping setuid/setgid bits from mode {mode:04o}; pass --allow-setuid to keep them"
            ));
            mode & !0o6000
        } else {
            mode
        }
    }

    fn add_file(
        &mut self,
        dest: &str,
        src: &Path,
        meta: &Metadata,
        mode: Option<u32>,
        origin: String,
    ) -> Result<()> {
        let kind = meta.file_type();
        if kind.is_dir() {
            return Err(Error::WrongSourceType {
                dest: dest.to_string(),
                src: src.to_path_buf(),
                actual: "a directory",
                fix: "use a `tree` entry to copy a directory",
            });
        }
        if !kind.is_file() {
            return Err(special(dest, src, meta));
        }
        if meta.len() == 0 {
            // Files generated as they are read (procfs, sysfs, some FUSE filesystems) say
            // 0 bytes: reading is the only way to tell them from empty files.
            let unreadable = |source| Error::Unreadable {
                dest: dest.to_string(),
                src: src.to_path_buf(),
                source,
            };
            let mut file = File::open(src).map_err(unreadable)?;
            if read_full(&mut file, &mut [0u8; 1]).map_err(unreadable)? > 0 {
                return Err(Error::SizeNotKnown {
                    dest: dest.to_string(),
                    src: src.to_path_buf(),
                });
            }
        }
        let entry = Entry::new(
            dest.to_string(),
            EntryKind::File {
                src: (meta.len() > 0).then(|| src.to_path_buf()),
                size: meta.len(),
                identity: (meta.dev(), meta.ino()),
            },
            mode.unwrap_or(0o644),
            origin,
        );
        self.insert_with(entry, mode.is_none())
    }

    /// Walks `dir` (on disk) whose in-image path is `dest` and whose path inside the tree
    /// artifact is `rel` (`""` for the tree's root). `stack` holds the `(dev, ino)` of the
    /// directories being walked, to detect loops through followed symlinks.
    fn walk(
        &mut self,
        tree: &Tree<'_>,
        dir: &Path,
        dest: &str,
        rel: &str,
        stack: &mut Vec<(u64, u64)>,
    ) -> Result<()> {
        let origin = tree.origin;
        let unreadable = |source| Error::Unreadable {
            dest: dest.to_string(),
            src: dir.to_path_buf(),
            source,
        };
        let mut children = Vec::new();
        for child in fs::read_dir(dir).map_err(unreadable)? {
            let child = child.map_err(unreadable)?;
            let name = child.file_name();
            let name = name.to_str().ok_or_else(|| Error::NonUtf8Name {
                lossy: child.path().to_string_lossy().into_owned(),
            })?;
            if name.contains(['\t', '\n', '\r', '\0']) {
                return Err(Error::BadFileName {
                    path: child.path(),
                    reason: crate::path::PathProblem::ControlCharacter
                        .explain()
                        .to_string(),
                });
            }
            children.push(name.to_string());
        }
        children.sort();
        if children.is_empty() || self.owner != Owner::default() {
            // An owned tree's directories are its owner's too (so that owner can write
            // in them), not implied ones of the layer's owner.
            self.insert(Entry::new(
                dest.to_string(),
                EntryKind::Dir,
                0o755,
                origin.to_string(),
            ))?;
        }
        if children.is_empty() {
            return Ok(());
        }
        for name in children {
            let disk = dir.join(&name);
            let child_dest = format!("{dest}/{name}");
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let lmeta = fs::symlink_metadata(&disk).map_err(|source| Error::Unreadable {
                dest: child_dest.clone(),
                src: disk.clone(),
                source,
            })?;
            let meta = if lmeta.file_type().is_symlink() {
                let target = fs::read_link(&disk).map_err(|source| Error::Unreadable {
                    dest: child_dest.clone(),
                    src: disk.clone(),
                    source,
                })?;
                let bad_target = |reason| Error::TreeLinkTarget {
                    reason,
                    dest: child_dest.clone(),
                    link: disk.clone(),
                    tree: tree.src.to_path_buf(),
                    target: target.to_string_lossy().into_owned(),
                };
                let target_str = target
                    .to_str()
                    .ok_or_else(|| bad_target("is not valid UTF-8 (image paths must be UTF-8)"))?;
                // A relative link that stays inside the tree is kept as a link.
                let relative = !target_str.starts_with('/');
                if relative && resolve_link(&child_rel, target_str).is_some() {
                    if target_str.contains(['\t', '\n', '\r', '\0']) {
                        return Err(bad_target(
                            "contains a TAB, newline, carriage return or NUL character",
                        ));
                    }
                    let relative = relative_link(&child_rel, target_str).unwrap_or_default();
                    self.insert(Entry::new(
                        child_dest,
                        EntryKind::Symlink { target: relative },
                        0o777,
                        origin.to_string(),
                    ))?;
                    continue;
                }
                // Any other link would bring in content from outside the tree, unless it
                // is how Bazel's sandbox presents the tree's own file (an absolute link to
                // the same path in the real tree) or the user asked for it.
                if !self.options.follow_external_symlinks
                    && (relative || !sandbox_link(tree.src, &child_rel, &target))
                {
                    return Err(Error::ExternalTreeLink {
                        dest: child_dest,
                        link: disk,
                        target: target_str.to_string(),
                        tree: tree.src.to_path_buf(),
                        how: if relative {
                            "climbs out of the tree"
                        } else {
                            "is an absolute path outside the tree"
                        },
                    });
                }
                stat_source(&child_dest, &disk)?
            } else {
                lmeta
            };
            if meta.is_dir() {
                let id = (meta.dev(), meta.ino());
                if stack.contains(&id) {
                    return Err(Error::SymlinkLoop {
                        dest: child_dest,
                        src: disk,
                    });
                }
                stack.push(id);
                self.walk(tree, &disk, &child_dest, &child_rel, stack)?;
                stack.pop();
            } else {
                let mode = self.tree_file_mode;
                self.add_file(&child_dest, &disk, &meta, mode, origin.to_string())?;
            }
        }
        Ok(())
    }

    fn insert(&mut self, entry: Entry) -> Result<()> {
        self.insert_with(entry, false)
    }

    /// Adds `entry`, or checks it against the entry already at its path. `from_content`:
    /// its mode is to be read from its content (it is `0644` until then).
    fn insert_with(&mut self, mut entry: Entry, from_content: bool) -> Result<()> {
        entry.owner = self.owner.clone();
        let Some(existing) = self.inputs.entries.get_mut(&entry.path) else {
            if from_content {
                self.mode_from_content.insert(entry.path.clone());
            }
            self.inputs.entries.insert(entry.path.clone(), entry);
            return Ok(());
        };
        // When only one of the two has its mode from the manifest, the other's is needed
        // now to compare them. (When both read it from content, equal contents mean equal
        // modes.)
        if from_content && !self.mode_from_content.contains(&entry.path) {
            entry.mode = mode_from_content(&entry)?;
        } else if !from_content && self.mode_from_content.remove(&entry.path) {
            existing.mode = mode_from_content(existing)?;
        }
        match difference(existing, &entry)? {
            None => Ok(()),
            Some(difference) => Err(Error::Conflict {
                path: entry.path.clone(),
                first: existing.origin.clone(),
                second: entry.origin,
                difference,
            }),
        }
    }
}

/// What differs between two entries for one path (`None`: they are the same).
fn difference(a: &Entry, b: &Entry) -> Result<Option<String>> {
    let mut differences: Vec<String> = content_difference(a, b)?.into_iter().collect();
    if a.owner != b.owner {
        differences.push(format!(
            "owners differ: {} vs {}",
            describe_owner(&a.owner),
            describe_owner(&b.owner)
        ));
    }
    Ok((!differences.is_empty()).then(|| differences.join("; ")))
}

/// `uid=1000 uname=app`, or "the layer's owner" when the manifest gave none.
fn describe_owner(owner: &Owner) -> String {
    let mut parts = Vec::new();
    if let Some(uid) = owner.uid {
        parts.push(format!("uid={uid}"));
    }
    if let Some(gid) = owner.gid {
        parts.push(format!("gid={gid}"));
    }
    if !owner.uname.is_empty() {
        parts.push(format!("uname={}", owner.uname));
    }
    if !owner.gname.is_empty() {
        parts.push(format!("gname={}", owner.gname));
    }
    if parts.is_empty() {
        "the layer's owner".to_string()
    } else {
        parts.join(" ")
    }
}

/// What differs between two entries' types, modes and contents.
fn content_difference(a: &Entry, b: &Entry) -> Result<Option<String>> {
    Ok(match (&a.kind, &b.kind) {
        (EntryKind::Dir, EntryKind::Dir) => {
            (a.mode != b.mode).then(|| format!("modes differ: {:04o} vs {:04o}", a.mode, b.mode))
        }
        (EntryKind::Symlink { target: x }, EntryKind::Symlink { target: y }) => {
            (x != y).then(|| format!("symlink targets differ: {x:?} vs {y:?}"))
        }
        (EntryKind::File { size: za, .. }, EntryKind::File { size: zb, .. }) => {
            let mut differences = Vec::new();
            if a.mode != b.mode {
                differences.push(format!("modes differ: {:04o} vs {:04o}", a.mode, b.mode));
            }
            if za != zb {
                differences.push(format!("contents differ: {za} vs {zb} bytes"));
            } else if !same_content(a, b)? {
                differences.push(format!(
                    "contents differ: same size ({za} bytes), different bytes"
                ));
            }
            (!differences.is_empty()).then(|| differences.join("; "))
        }
        (x, y) => Some(format!(
            "types differ: a {} vs a {}",
            x.describe(),
            y.describe()
        )),
    })
}

/// Whether two file entries of equal size have the same bytes.
fn same_content(a: &Entry, b: &Entry) -> Result<bool> {
    Ok(match (&a.kind, &b.kind) {
        (
            EntryKind::File {
                src: sa,
                size: za,
                identity: ia,
            },
            EntryKind::File {
                src: sb,
                size: zb,
                identity: ib,
            },
        ) => {
            za == zb
                && match (sa, sb) {
                    (None, None) => true,
                    (Some(pa), Some(pb)) => ia == ib || same_bytes(&a.path, pa, pb)?,
                    _ => false,
                }
        }
        _ => false,
    })
}

fn same_bytes(dest: &str, a: &Path, b: &Path) -> Result<bool> {
    let open = |p: &Path| {
        File::open(p).map_err(|source| Error::Unreadable {
            dest: dest.to_string(),
            src: p.to_path_buf(),
            source,
        })
    };
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let mut ba = vec![0u8; 64 * 1024];
    let mut bb = vec![0u8; 64 * 1024];
    loop {
        let na = read_full(&mut fa, &mut ba).map_err(|source| Error::Unreadable {
            dest: dest.to_string(),
            src: a.to_path_buf(),
            source,
        })?;
        let nb = read_full(&mut fb, &mut bb).map_err(|source| Error::Unreadable {
            dest: dest.to_string(),
            src: b.to_path_buf(),
            source,
        })?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

/// Reads the target of the symlink `src` (once, without following it) for a `link` entry,
/// refusing anything a `symlink` manifest line could not have said.
fn read_link_source(dest: &str, src: &Path) -> Result<String> {
    let unreadable = |source| Error::Unreadable {
        dest: dest.to_string(),
        src: src.to_path_buf(),
        source,
    };
    let meta = match fs::symlink_metadata(src) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::MissingSource {
                dest: dest.to_string(),
                src: src.to_path_buf(),
            })
        }
        Err(e) => return Err(unreadable(e)),
    };
    if !meta.file_type().is_symlink() {
        let (actual, fix) = if meta.is_dir() {
            (
                "a directory, not a symlink",
                "use a `tree` entry to copy a directory, or pass the symlink itself",
            )
        } else {
            (
                "not a symlink",
                "use a `file` entry to copy a file's content, or pass the symlink itself",
            )
        };
        return Err(Error::WrongSourceType {
            dest: dest.to_string(),
            src: src.to_path_buf(),
            actual,
            fix,
        });
    }
    let target = fs::read_link(src).map_err(unreadable)?;
    let bad_target = |reason: &'static str| Error::BadLinkTarget {
        dest: dest.to_string(),
        src: src.to_path_buf(),
        target: target.to_string_lossy().into_owned(),
        reason,
    };
    let text = target
        .to_str()
        .ok_or_else(|| bad_target("is not valid UTF-8; image paths must be UTF-8"))?;
    if text.is_empty() {
        return Err(bad_target("is empty"));
    }
    if text.contains(['\t', '\n', '\r', '\0']) {
        return Err(bad_target(
            "contains a TAB, newline, carriage return or NUL character",
        ));
    }
    Ok(text.to_string())
}

/// Reads until `buf` is full or the end of the file.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The mode of a file entry whose manifest line gives none: `0755` for an ELF binary or a
/// `#!` script, `0644` for anything else (empty files included), from its first bytes.
fn mode_from_content(entry: &Entry) -> Result<u32> {
    let EntryKind::File { src: Some(src), .. } = &entry.kind else {
        return Ok(0o644);
    };
    let unreadable = |source| Error::Unreadable {
        dest: entry.path.clone(),
        src: src.clone(),
        source,
    };
    let mut magic = [0u8; 4];
    let mut file = File::open(src).map_err(unreadable)?;
    let n = read_full(&mut file, &mut magic).map_err(unreadable)?;
    let executable = magic[..n].starts_with(b"#!") || (n == 4 && magic == *b"\x7fELF");
    Ok(if executable { 0o755 } else { 0o644 })
}

#[cfg(target_os = "linux")]
const ELOOP: i32 = 40;
#[cfg(not(target_os = "linux"))]
const ELOOP: i32 = 62;

/// `stat`s a source following symlinks, turning failures into precise errors.
pub(crate) fn stat_source(dest: &str, src: &Path) -> Result<Metadata> {
    match fs::metadata(src) {
        Ok(meta) => Ok(meta),
        Err(e) if e.raw_os_error() == Some(ELOOP) => Err(Error::SymlinkLoop {
            dest: dest.to_string(),
            src: src.to_path_buf(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::read_link(src) {
            Ok(target) => Err(Error::DanglingSymlink {
                dest: dest.to_string(),
                src: src.to_path_buf(),
                target,
            }),
            Err(_) => Err(Error::MissingSource {
                dest: dest.to_string(),
                src: src.to_path_buf(),
            }),
        },
        Err(source) => Err(Error::Unreadable {
            dest: dest.to_string(),
            src: src.to_path_buf(),
            source,
        }),
    }
}

fn special(dest: &str, src: &Path, meta: &Metadata) -> Error {
    let t = meta.file_type();
    let kind = if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_char_device() {
        "character device"
    } else {
        "special file"
    };
    Error::SpecialFile {
        dest: dest.to_string(),
        src: src.to_path_buf(),
        kind,
    }
}

/// Refuses entries whose ancestors are files or symlinks.
fn check_parents(entries: &BTreeMap<String, Entry>) -> Result<()> {
    for entry in entries.values() {
        for ancestor in ancestors(&entry.path) {
            if let Some(parent) = entries.get(ancestor) {
                if !matches!(parent.kind, EntryKind::Dir) {
                    return Err(Error::ParentNotDirectory {
                        parent: parent.path.clone(),
                        kind: parent.kind.describe(),
                        origin: parent.origin.clone(),
                        child: entry.path.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_manifest;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pyimage-inputs-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn collect(text: &str, host_root: Option<&Path>) -> Result<Inputs> {
        let options = InputOptions {
            allow_setuid: false,
            host_root: host_root.map(Path::to_path_buf),
            follow_external_symlinks: false,
            threads: 2,
        };
        collect_inputs(&parse_manifest(text)?, &options)
    }

    fn link_target(inputs: &Inputs, path: &str) -> String {
        match &inputs.entries[path].kind {
            EntryKind::Symlink { target } => target.clone(),
            other => panic!("{path} is a {}", other.describe()),
        }
    }

    #[test]
    fn modes_come_from_content_not_from_executable_bits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("modes");
        let files: [(&str, &[u8], u32); 8] = [
            ("elf", b"\x7fELF\x02\x01\x01", 0o644),
            ("script", b"#!/bin/sh\necho hi\n", 0o644),
            ("bang", b"#!", 0o600),
            ("plain-exec", b"print('hi')\n", 0o755),
            ("almost-elf", b"\x7fEL", 0o755),
            ("space-bang", b" #!/bin/sh\n", 0o755),
            ("empty", b"", 0o755),
            ("tree/sub/tool", b"\x7fELF....", 0o600),
        ];
        for (name, content, mode) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, content).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        }
        fs::write(dir.join("tree/data.txt"), "x").unwrap();
        fs::set_permissions(dir.join("tree/data.txt"), fs::Permissions::from_mode(0o777)).unwrap();
        let mut text: String = files[..7]
            .iter()
            .map(|(name, ..)| format!("file\tbin/{name}\t{}\n", dir.join(name).display()))
            .collect();
        text += &format!("tree\topt\t{}\n", dir.join("tree").display());
        text += &format!(
            "file\tetc/explicit\t{}\tmode=0600\n",
            dir.join("script").display()
        );
        let inputs = collect(&text, None).unwrap();
        let mode = |path: &str| inputs.entries[path].mode;
        assert_eq!(mode("bin/elf"), 0o755);
        assert_eq!(mode("bin/script"), 0o755);
        assert_eq!(mode("bin/bang"), 0o755);
        assert_eq!(mode("bin/plain-exec"), 0o644);
        assert_eq!(mode("bin/almost-elf"), 0o644);
        assert_eq!(mode("bin/space-bang"), 0o644);
        assert_eq!(mode("bin/empty"), 0o644);
        assert_eq!(mode("opt/sub/tool"), 0o755);
        assert_eq!(mode("opt/data.txt"), 0o644);
        assert_eq!(mode("etc/explicit"), 0o600);

        // One path named twice, once with a mode and once without: the same when the
        // content says the same mode, a conflict when it does not, in either order.
        let script = dir.join("script").display().to_string();
        for (first, second) in [("", "\tmode=0755"), ("\tmode=0755", "")] {
            let text = format!("file\tx\t{script}{first}\nfile\tx\t{script}{second}\n");
            assert_eq!(collect(&text, None).unwrap().entries["x"].mode, 0o755);
        }
        for (first, second) in [("", "\tmode=0644"), ("\tmode=0644", "")] {
            let text = format!("file\tx\t{script}{first}\nfile\tx\t{script}{second}\n");
            let error = collect(&text, None).unwrap_err().to_string();
            assert!(error.contains("modes differ"), "{error}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn link_copies_the_target_of_a_symlink_on_disk_without_following_it() {
        let dir = scratch("link-ok");
        // Dangling on disk on purpose: the target is an in-image path, never followed.
        symlink("libfoo.so.1.2", dir.join("rel")).unwrap();
        symlink("/usr/lib/x86_64/libbar.so.3", dir.join("abs")).unwrap();
        symlink("./../share//data", dir.join("up")).unwrap();
        let text = format!(
            "link\tusr/lib/libfoo.so\t{}\nlink\t/usr/bin/bar\t{}\nlink\tusr/lib/data\t{}\n",
            dir.join("rel").display(),
            dir.join("abs").display(),
            dir.join("up").display(),
        );
        let inputs = collect(&text, Some(&dir)).unwrap();
        assert_eq!(link_target(&inputs, "usr/lib/libfoo.so"), "libfoo.so.1.2");
        assert_eq!(
            link_target(&inputs, "usr/bin/bar"),
            "../lib/x86_64/libbar.so.3"
        );
        assert_eq!(link_target(&inputs, "usr/lib/data"), "../share/data");
        assert_eq!(inputs.entries["usr/bin/bar"].mode, 0o777);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn link_merges_with_an_identical_symlink_and_conflicts_with_a_different_one() {
        let dir = scratch("link-merge");
        symlink("/opt/python/bin/python3.11", dir.join("py")).unwrap();
        let src = dir.join("py").display().to_string();
        let merged = collect(
            &format!("link\tusr/bin/python3\t{src}\nsymlink\tusr/bin/python3\t../../opt/python/bin/python3.11\nlink\tusr/bin/python3\t{src}\n"),
            None,
        )
        .unwrap();
        assert_eq!(merged.entries.len(), 1);
        let err = collect(
            &format!("link\tusr/bin/python3\t{src}\nsymlink\tusr/bin/python3\tpython3.12\n"),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("usr/bin/python3"), "{err}");
        assert!(err.contains("line 1") && err.contains("line 2"), "{err}");
        assert!(err.contains(&src), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn link_refuses_what_a_symlink_line_refuses() {
        let dir = scratch("link-bad");
        symlink("../../../etc/passwd", dir.join("escape")).unwrap();
        let host = dir.join("host-target");
        symlink(&host, dir.join("host")).unwrap();
        let err = |name: &str| {
            collect(
                &format!("link\tapp/bin/x\t{}\n", dir.join(name).display()),
                Some(&dir),
            )
            .unwrap_err()
        };
        assert!(matches!(err("escape"), Error::SymlinkEscapes { .. }));
        let message = err("escape").to_string();
        assert!(message.contains("app/bin/x") && message.contains("../../../etc/passwd"));
        assert!(matches!(err("host"), Error::HostPathSymlink { .. }));
        assert!(err("host")
            .to_string()
            .contains(&host.display().to_string()));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn link_needs_a_symlink_with_a_printable_utf8_target() {
        let dir = scratch("link-type");
        fs::write(dir.join("plain"), b"x").unwrap();
        symlink("a\nb", dir.join("newline")).unwrap();
        symlink(std::ffi::OsStr::from_bytes(b"caf\xe9"), dir.join("latin1")).unwrap();
        let err = |name: &str| {
            collect(
                &format!("link\tapp/x\t{}\n", dir.join(name).display()),
                None,
            )
            .unwrap_err()
            .to_string()
        };
        let plain = err("plain");
        assert!(plain.contains("app/x"), "{plain}");
        assert!(
            plain.contains(&dir.join("plain").display().to_string()),
            "{plain}"
        );
        assert!(
            plain.contains("is not a symlink; use a `file` entry"),
            "{plain}"
        );
        assert!(err(".").contains("use a `tree` entry"));
        assert!(err("missing").contains("does not exist"));
        assert!(err("newline").contains("newline"));
        assert!(err("latin1").contains("not valid UTF-8"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
