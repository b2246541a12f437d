//! Outputs that appear only when complete, and only all together.
//!
//! Each output is written to a temporary file in its target's directory. Where the
//! filesystem supports it that file has no name (`O_TMPFILE`): nothing can see it, and it
//! vanishes with the process however the process ends, `SIGKILL` included. Elsewhere it
//! is a hidden `.NAME.tmp-PID` created exclusively, so never through an existing file or
//! symlink of that name; dropped uncommitted, it is removed, and [`crate::signals`]
//! removes it when the run is interrupted.
//!
//! [`OutputSet::commit`] moves every output of a run into place, or none: each output
//! first gets a visible temporary name next to its target, then the targets are replaced
//! one by one; if one cannot be, those already replaced get their previous content back
//! (or are removed if they did not exist) before the error is returned.
//!
//! [`check_output_paths`] refuses, before any work, outputs that are the same file under
//! two spellings, outputs that are directories, and outputs that are one of the run's
//! inputs.

use std::collections::BTreeSet;
use std::ffi::{CString, OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

/// Visible temporary files of this process (named temporaries, staged outputs, backups).
static VISIBLE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn visible() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    VISIBLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every visible temporary file of this process and returns with the registry
/// locked, so that no new one appears and no commit runs until the process exits. A
/// commit in progress finishes first (it holds the lock), so an interrupted run leaves
/// all of its outputs or none.
pub(crate) fn remove_all_temporaries() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    let mut registry = visible();
    for path in registry.iter() {
        let _ = fs::remove_file(path);
    }
    registry.clear();
    registry
}

/// Whether unnamed temporary files can be given a name later (`linkat` through
/// `/proc/self/fd`).
#[cfg(target_os = "linux")]
fn proc_fd_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| Path::new("/proc/self/fd").is_dir())
}

/// The directory and file name of an output path.
fn split_target(target: &Path) -> Result<(PathBuf, OsString)> {
    let name = match target.file_name() {
        Some(name) if !target.as_os_str().as_bytes().ends_with(b"/") => name.to_os_string(),
        _ => {
            return Err(Error::LayerSpec(format!(
                "output path {} has no file name; give a file path such as out/layer.tar.gz",
                target.display()
            )))
        }
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

/// A temporary file that becomes `target` when committed.
#[derive(Debug)]
pub struct TempOutput {
    target: PathBuf,
    dir: PathBuf,
    name: OsString,
    /// Keeps an unnamed file alive until it is linked.
    file: File,
    /// The visible temporary name, if the file has one.
    named: Option<PathBuf>,
}

impl TempOutput {
    /// Creates the temporary file for `target` in `target`'s directory; returns it and a
    /// handle to write it through.
    pub fn create(target: &Path) -> Result<(TempOutput, File)> {
        let (dir, name) = split_target(target)?;
        let cannot = |e: io::Error| {
            Error::io(
                format!(
                    "cannot create a temporary file for {} in {}; check that the directory exists and is writable",
                    target.display(),
                    dir.display()
                ),
                e,
            )
        };
        let (file, named) = match open_unnamed(&dir).map_err(cannot)? {
            Some(file) => (file, None),
            None => {
                let (file, path) = create_named(&dir, &name, "tmp").map_err(cannot)?;
                (file, Some(path))
            }
        };
        let writer = file.try_clone().map_err(cannot)?;
        Ok((
            TempOutput {
                target: target.to_path_buf(),
                dir,
                name,
                file,
                named,
            },
            writer,
        ))
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Whether the temporary file is unnamed (invisible until committed).
    pub fn is_unnamed(&self) -> bool {
        self.named.is_none()
    }

    /// Moves the temporary file to the target (an [`OutputSet`] of one).
    pub fn commit(self) -> Result<()> {
        OutputSet::from(vec![self]).commit()
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if let Some(path) = self.named.take() {
            let mut registry = visible();
            let _ = fs::remove_file(&path);
            registry.remove(&path);
        }
    }
}

/// Opens an unnamed temporary file in `dir`; `None` where the filesystem (or kernel)
/// does not support them.
#[cfg(target_os = "linux")]
fn open_unnamed(dir: &Path) -> io::Result<Option<File>> {
    if !proc_fd_available() {
        return Ok(None);
    }
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o666)
        .custom_flags(libc::O_TMPFILE)
        .open(dir);
    match opened {
        Ok(file) => Ok(Some(file)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Unnamed temporary files are a Linux feature (`O_TMPFILE`); elsewhere (macOS build
/// hosts) every temporary file is a named one.
#[cfg(not(target_os = "linux"))]
fn open_unnamed(_dir: &Path) -> io::Result<Option<File>> {
    Ok(None)
}

/// The `n`th candidate for a visible temporary name of `name` in `dir`.
fn temp_name(dir: &Path, name: &OsStr, tag: &str, n: u32) -> PathBuf {
    let mut file = OsString::from(".");
    file.push(name);
    file.push(format!(".{tag}-{}", std::process::id()));
    if n > 0 {
        file.push(format!("-{n}"));
    }
    dir.join(file)
}

/// Creates a new, visible temporary file: exclusively, so an existing file or symlink of
/// that name is never opened (another name is tried instead). Registered for removal.
fn create_named(dir: &Path, name: &OsStr, tag: &str) -> io::Result<(File, PathBuf)> {
    for n in 0..1000 {
        let path = temp_name(dir, name, tag, n);
        let mut registry = visible();
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&path)
        {
            Ok(file) => {
                registry.insert(path.clone());
                return Ok((file, path));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from(io::ErrorKind::AlreadyExists))
}

fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Gives an unnamed file the name `path` (which must not exist).
#[cfg(target_os = "linux")]
fn link_unnamed(file: &File, path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let to = cstring(path)?;
    let from = cstring(Path::new(&format!("/proc/self/fd/{}", file.as_raw_fd())))?;
    // SAFETY: both strings are valid and NUL-terminated for the duration of the call.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn link_unnamed(_file: &File, _path: &Path) -> io::Result<()> {
    unreachable!("open_unnamed gives no unnamed files on this system")
}

/// Links `file` (unnamed) or `existing` (a path) under a fresh visible temporary name next
/// to `name` in `dir`, registered for removal.
fn link_fresh(
    registry: &mut BTreeSet<PathBuf>,
    dir: &Path,
    name: &OsStr,
    tag: &str,
    from: LinkSource<'_>,
) -> io::Result<PathBuf> {
    for n in 0..1000 {
        let path = temp_name(dir, name, tag, n);
        let linked = match from {
            LinkSource::Unnamed(file) => link_unnamed(file, &path),
            LinkSource::Path(existing) => fs::hard_link(existing, &path),
        };
        match linked {
            Ok(()) => {
                registry.insert(path.clone());
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from(io::ErrorKind::AlreadyExists))
}

#[derive(Clone, Copy)]
enum LinkSource<'a> {
    Unnamed(&'a File),
    Path(&'a Path),
}

/// Every output of one run, committed together.
#[derive(Debug, Default)]
pub struct OutputSet {
    outputs: Vec<TempOutput>,
}

impl From<Vec<TempOutput>> for OutputSet {
    fn from(outputs: Vec<TempOutput>) -> Self {
        OutputSet { outputs }
    }
}

impl OutputSet {
    /// Adds an output.
    pub fn push(&mut self, output: TempOutput) {
        self.outputs.push(output);
    }

    /// Adds outputs.
    pub fn extend(&mut self, outputs: impl IntoIterator<Item = TempOutput>) {
        self.outputs.extend(outputs);
    }

    /// Moves every output to its target, or (on error) none: targets already replaced are
    /// restored before the error is returned, and no temporary file remains.
    pub fn commit(mut self) -> Result<()> {
        let mut registry = visible();
        let result = commit_all(&mut registry, &mut self.outputs);
        // Whatever happened, nothing visible of these outputs remains but their targets.
        for output in &mut self.outputs {
            if let Some(path) = output.named.take() {
                let _ = fs::remove_file(&path);
                registry.remove(&path);
            }
        }
        result
    }
}

/// A target replaced during a commit, and how to undo it.
struct Replaced {
    target: PathBuf,
    /// A hard link to the target's previous content, if it had one.
    backup: Option<PathBuf>,
}

fn commit_all(registry: &mut BTreeSet<PathBuf>, outputs: &mut [TempOutput]) -> Result<()> {
    // 1. Every output gets a visible name next to its target; nothing is replaced yet.
    for output in outputs.iter_mut() {
        if output.named.is_none() {
            let path = link_fresh(
                registry,
                &output.dir,
                &output.name,
                "tmp",
                LinkSource::Unnamed(&output.file),
            )
            .map_err(|e| {
                Error::io(
                    format!(
                        "cannot write {} into {}; check that the directory is writable",
                        output.target.display(),
                        output.dir.display()
                    ),
                    e,
                )
            })?;
            output.named = Some(path);
        }
    }
    // 2. Replace the targets, keeping a link to what each held so it can be put back.
    let mut replaced: Vec<Replaced> = Vec::new();
    let mut failure = None;
    for output in outputs.iter() {
        let staged = output.named.as_deref().unwrap_or(Path::new(""));
        let backup = match fs::symlink_metadata(&output.target) {
            Ok(meta) if !meta.is_dir() => link_fresh(
                registry,
                &output.dir,
                &output.name,
                "old",
                LinkSource::Path(&output.target),
            )
            .ok(),
            _ => None,
        };
        match fs::rename(staged, &output.target) {
            Ok(()) => replaced.push(Replaced {
                target: output.target.clone(),
                backup,
            }),
            Err(e) => {
                if let Some(backup) = backup {
                    let _ = fs::remove_file(&backup);
                    registry.remove(&backup);
                }
                failure = Some(Error::io(
                    format!(
                        "cannot move the finished output into place at {}{}; no output of this run was kept",
                        output.target.display(),
                        if output.target.is_dir() {
                            " (it is a directory; remove it or give another path)"
                        } else {
                            ""
                        }
                    ),
                    e,
                ));
                break;
            }
        }
    }
    match failure {
        None => {
            for r in replaced {
                if let Some(backup) = r.backup {
                    let _ = fs::remove_file(&backup);
                    registry.remove(&backup);
                }
            }
            Ok(())
        }
        Some(error) => {
            // 3. Undo, newest first.
            for r in replaced.into_iter().rev() {
                match r.backup {
                    Some(backup) => {
                        let _ = fs::rename(&backup, &r.target);
                        registry.remove(&backup);
                    }
                    None => {
                        let _ = fs::remove_file(&r.target);
                    }
                }
            }
            Err(error)
        }
    }
}

/// `(device, inode)` of an existing file, following symlinks.
pub type Identity = (u64, u64);

/// One output, as resolved by [`check_output_paths`].
#[derive(Debug, Clone)]
pub struct ResolvedOutput {
    /// What the output is, for messages (`--output`, `--report`, ...).
    pub role: String,
    /// The path as given.
    pub path: PathBuf,
    /// The resolved directory joined with the file name: the directory entry a commit
    /// replaces, whatever the spelling of the path.
    pub key: PathBuf,
    /// The existing file's identity (following symlinks), if it exists.
    pub identity: Option<Identity>,
    /// The existing directory entry's own identity (not following a symlink).
    pub entry_identity: Option<Identity>,
}

/// Resolves every output path and refuses, before any work: an output whose directory
/// does not exist or is not writable, an output that is a directory, two outputs that
/// are one file under different spellings (relative or absolute, through a symlinked
/// directory, hard links), and an output that is one of `inputs` (`(role, path)`).
pub fn check_output_paths(
    outputs: &[(String, PathBuf)],
    inputs: &[(String, PathBuf)],
) -> Result<Vec<ResolvedOutput>> {
    let mut resolved: Vec<ResolvedOutput> = Vec::new();
    for (role, path) in outputs {
        let output = resolve_output(role, path)?;
        for other in &resolved {
            let same_entry = other.key == output.key;
            let same_file = output.identity.is_some() && output.identity == other.identity;
            if same_entry || same_file {
                return Err(Error::LayerSpec(format!(
                    "{} {} and {} {} are the same file{}; give every output its own path",
                    other.role,
                    other.path.display(),
                    output.role,
                    output.path.display(),
                    if same_entry {
                        format!(" ({})", output.key.display())
                    } else {
                        " (hard links or a symlink to one file)".to_string()
                    }
                )));
            }
        }
        resolved.push(output);
    }
    for (role, path) in inputs {
        let Ok(meta) = fs::metadata(path) else {
            continue;
        };
        let identity = (meta.dev(), meta.ino());
        let key = split_target(path)
            .ok()
            .and_then(|(dir, name)| Some(fs::canonicalize(dir).ok()?.join(name)));
        for output in &resolved {
            if output.identity == Some(identity) || key.as_ref() == Some(&output.key) {
                return Err(output.is_input(role, path));
            }
        }
    }
    Ok(resolved)
}

impl ResolvedOutput {
    /// The error for an output that is also the input `role` at `path`.
    pub fn is_input(&self, role: &str, path: &Path) -> Error {
        Error::LayerSpec(format!(
            "{} {} is the {role} {}, an input of this run; write the output to another path (it would replace the input)",
            self.role,
            self.path.display(),
            path.display()
        ))
    }
}

fn resolve_output(role: &str, path: &Path) -> Result<ResolvedOutput> {
    let (dir, name) = split_target(path)?;
    if name == ".." || name == "." {
        return Err(Error::LayerSpec(format!(
            "{role} {} names a directory; give a file path",
            path.display()
        )));
    }
    let resolved_dir = fs::canonicalize(&dir).map_err(|e| {
        Error::io(
            format!(
                "{role} {}: its directory {} does not exist or cannot be reached; create it as a writable directory first",
                path.display(),
                dir.display()
            ),
            e,
        )
    })?;
    if !resolved_dir.is_dir() {
        return Err(Error::LayerSpec(format!(
            "{role} {}: {} is not a directory; give a path in an existing directory",
            path.display(),
            dir.display()
        )));
    }
    let c_dir = cstring(&resolved_dir).map_err(|e| Error::io("output directory", e))?;
    // SAFETY: c_dir is a valid NUL-terminated string.
    if unsafe { libc::access(c_dir.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        return Err(Error::io(
            format!(
                "{role} {}: directory {} is not writable; make it writable or write elsewhere",
                path.display(),
                dir.display()
            ),
            io::Error::last_os_error(),
        ));
    }
    let key = resolved_dir.join(&name);
    let entry = fs::symlink_metadata(&key).ok();
    if let Some(meta) = &entry {
        if meta.is_dir() {
            return Err(Error::LayerSpec(format!(
                "{role} {} is a directory; remove it or give a file path",
                path.display()
            )));
        }
    }
    let identity = fs::metadata(&key).ok().map(|m| (m.dev(), m.ino()));
    Ok(ResolvedOutput {
        role: role.to_string(),
        path: path.to_path_buf(),
        key,
        identity,
        entry_identity: entry.map(|m| (m.dev(), m.ino())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pyimage-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = scratch("basic");
        let target = dir.join("out.bin");
        let (temp, mut file) = TempOutput::create(&target).unwrap();
        file.write_all(b"x").unwrap();
        drop(file);
        assert!(!target.exists());
        temp.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"x");

        let other = dir.join("never.bin");
        let (temp, _file) = TempOutput::create(&other).unwrap();
        drop(temp);
        assert!(!other.exists());
        assert_eq!(names(&dir), ["out.bin"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failing_output_puts_back_the_ones_already_moved() {
        let dir = scratch("rollback");
        let first = dir.join("a.tgz");
        let fresh = dir.join("b.json");
        let last = dir.join("c.txt");
        fs::write(&first, b"previous").unwrap();
        let mut set = OutputSet::default();
        for (target, content) in [(&first, b"new a"), (&fresh, b"new b"), (&last, b"new c")] {
            let (temp, mut file) = TempOutput::create(target).unwrap();
            file.write_all(content).unwrap();
            set.push(temp);
        }
        // The last target turns into a directory after the outputs were written.
        fs::create_dir(&last).unwrap();
        fs::write(last.join("inside"), b"x").unwrap();
        let err = set.commit().unwrap_err().to_string();
        assert!(err.contains("c.txt") && err.contains("directory"), "{err}");
        assert_eq!(fs::read(&first).unwrap(), b"previous");
        assert!(!fresh.exists());
        assert_eq!(names(&dir), ["a.tgz", "c.txt"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_at_the_temporary_name_is_never_written_through() {
        let dir = scratch("no-follow");
        let outside = dir.join("outside.txt");
        fs::write(&outside, b"keep me").unwrap();
        let out = dir.join("out");
        fs::create_dir(&out).unwrap();
        for tag in ["tmp", "old"] {
            std::os::unix::fs::symlink(&outside, temp_name(&out, OsStr::new("x.bin"), tag, 0))
                .unwrap();
        }
        let target = out.join("x.bin");
        fs::write(&target, b"previous").unwrap();
        // Named temporaries (what filesystems without O_TMPFILE get) and staged ones.
        let (file, path) = create_named(&out, OsStr::new("x.bin"), "tmp").unwrap();
        assert_ne!(path, temp_name(&out, OsStr::new("x.bin"), "tmp", 0));
        drop(file);
        fs::remove_file(&path).unwrap();
        visible().remove(&path);
        let (temp, mut file) = TempOutput::create(&target).unwrap();
        file.write_all(b"new").unwrap();
        temp.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(fs::read(&outside).unwrap(), b"keep me");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn one_file_under_two_spellings_is_refused() {
        let dir = scratch("alias");
        let real = dir.join("real");
        fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.join("via")).unwrap();
        let role = |r: &str, p: &Path| (r.to_string(), p.to_path_buf());
        let check = |outputs: &[(String, PathBuf)], inputs: &[(String, PathBuf)]| {
            check_output_paths(outputs, inputs).map_err(|e| e.to_string())
        };
        // Through a symlinked directory, and with `..`.
        let err = check(
            &[
                role("--output", &real.join("a")),
                role("--report", &dir.join("via/a")),
            ],
            &[],
        )
        .unwrap_err();
        assert!(
            err.contains("same file") && err.contains("--report"),
            "{err}"
        );
        let err = check(
            &[
                role("--output", &real.join("a")),
                role("--descriptor", &dir.join("via/../real/./a")),
            ],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("same file"), "{err}");
        // Hard links.
        fs::write(real.join("h1"), b"x").unwrap();
        fs::hard_link(real.join("h1"), real.join("h2")).unwrap();
        let err = check(
            &[
                role("--output", &real.join("h1")),
                role("--descriptor", &real.join("h2")),
            ],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("hard links"), "{err}");
        // An input, by another spelling.
        fs::write(real.join("manifest"), b"x").unwrap();
        let err = check(
            &[role("--output", &dir.join("via/manifest"))],
            &[role("manifest", &real.join("manifest"))],
        )
        .unwrap_err();
        assert!(err.contains("input") && err.contains("manifest"), "{err}");
        // A directory, and a missing directory.
        let err = check(&[role("--output", &real)], &[]).unwrap_err();
        assert!(err.contains("is a directory"), "{err}");
        let err = check(&[role("--output", &dir.join("nope/x"))], &[]).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        // Distinct files pass.
        assert!(check(
            &[
                role("--output", &real.join("a")),
                role("--descriptor", &real.join("b"))
            ],
            &[role("manifest", &real.join("manifest"))],
        )
        .is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }
}
