//! The library's error type: every variant names the offending path and says what to do.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while reading a manifest, collecting inputs, stripping or
/// writing a layer. Messages are meant to be read by the person whose build failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest file could not be read.
    #[error("cannot read manifest {path}: {source}; check that the file exists and is readable")]
    ManifestRead {
        /// The manifest path.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// A manifest line is not valid UTF-8.
    #[error("manifest line {line} is not valid UTF-8 (read as {lossy:?}); the manifest must be UTF-8 text")]
    ManifestNotUtf8 {
        /// 1-based line number.
        line: usize,
        /// The line with invalid bytes replaced.
        lossy: String,
    },

    /// A manifest line does not follow `kind<TAB>dest[<TAB>...]`.
    #[error("manifest line {line}: {message}")]
    ManifestSyntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// An in-image path is not acceptable.
    #[error("manifest line {line}: path {path:?} {reason}")]
    BadPath {
        /// 1-based line number (0 when the path came from a directory walk).
        line: usize,
        /// The path as written.
        path: String,
        /// Why it is refused, with the fix.
        reason: String,
    },

    /// A file name found on disk cannot become an image path.
    #[error("file {path:?} {reason}")]
    BadFileName {
        /// The file on disk.
        path: PathBuf,
        /// Why it is refused, with the fix.
        reason: String,
    },

    /// The manifest has no entries.
    #[error("manifest {path} has no entries; pass --allow-empty if an empty layer is intended")]
    EmptyManifest {
        /// The manifest path.
        path: PathBuf,
    },

    /// A source file or directory does not exist.
    #[error(
        "{dest}: source {src:?} does not exist{}; check the manifest or the action's inputs",
        whitespace_note(src)
    )]
    MissingSource {
        /// In-image destination.
        dest: String,
        /// Source path on disk.
        src: PathBuf,
    },

    /// A source is a symlink whose target does not exist.
    #[error("{dest}: source {src} is a symlink to {target}, which does not exist; add the target to the action's inputs or fix the link")]
    DanglingSymlink {
        /// In-image destination.
        dest: String,
        /// Source path on disk.
        src: PathBuf,
        /// Where the symlink points.
        target: PathBuf,
    },

    /// A source symlink chain loops.
    #[error("{dest}: source {src} is part of a symlink loop; break the loop on disk")]
    SymlinkLoop {
        /// In-image destination.
        dest: String,
        /// Source path on disk.
        src: PathBuf,
    },

    /// A source is a fifo, socket or device.
    #[error("{dest}: source {src} is a {kind}, which cannot go into an image; only regular files, directories and symlinks can")]
    SpecialFile {
        /// In-image destination.
        dest: String,
        /// Source path on disk.
        src: PathBuf,
        /// "fifo", "socket", "character device", ...
        kind: &'static str,
    },

    /// A source has the wrong type for its manifest entry kind.
    #[error("{dest}: source {src} is {actual}; {fix}")]
    WrongSourceType {
        /// In-image destination.
        dest: String,
        /// Source path on disk.
        src: PathBuf,
        /// What the source is.
        actual: &'static str,
        /// How to fix the manifest.
        fix: &'static str,
    },

    /// A file name on disk is not UTF-8.
    #[error("file name {lossy:?} is not valid UTF-8; rename it (image paths must be UTF-8)")]
    NonUtf8Name {
        /// The path with invalid bytes replaced.
        lossy: String,
    },

    /// A source could not be read or inspected.
    #[error("{dest}: cannot read {src}: {source}; check permissions")]
    Unreadable {
        /// In-image destination.
        dest: String,
        /// Source path on disk.
        src: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// A source says it is empty but has content.
    #[error("{dest}: source {src} reports a size of 0 bytes but has content: it is generated as it is read (like the files under /proc and /sys), so its size is not known in advance; copy it to a regular file in a build step and name that file instead")]
    SizeNotKnown {
        /// In-image destination.
        dest: String,
        /// Source path on disk.
        src: PathBuf,
    },

    /// A file changed size while it was being archived.
    #[error("{dest}: source {src} changed while being read (expected {expected} bytes, got {actual}); do not modify inputs during the build, and copy files generated as they are read (like those under /proc and /sys) to regular files first")]
    FileChanged {
        /// In-image destination.
        dest: String,
        /// Source path on disk.
        src: PathBuf,
        /// Size when first inspected.
        expected: u64,
        /// Size actually read.
        actual: u64,
    },

    /// A `link` entry's source symlink has a target no image symlink can have.
    #[error("{dest}: source symlink {src} points to {target:?}, which {reason}; change the symlink's target")]
    BadLinkTarget {
        /// In-image destination.
        dest: String,
        /// The symlink on disk.
        src: PathBuf,
        /// Its target (invalid UTF-8 replaced).
        target: String,
        /// Why it is refused.
        reason: &'static str,
    },

    /// A text input (manifest, parameter file) has CRLF line endings.
    #[error("{what} {path} has CRLF (Windows) line endings (line {line} ends with a carriage return); convert line endings with dos2unix or sed 's/\\r$//'")]
    CrlfLineEndings {
        /// "manifest" or "parameter file".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// 1-based number of the first such line.
        line: usize,
    },

    /// A symlink inside a `tree` source has a target no image symlink can have.
    #[error("{dest}: symlink {link} in tree {tree} points to {target:?}, which {reason}; change the link's target or remove the link from the tree")]
    TreeLinkTarget {
        /// Why it is refused.
        reason: &'static str,
        /// In-image path of the link.
        dest: String,
        /// The symlink on disk.
        link: PathBuf,
        /// The tree named in the manifest.
        tree: PathBuf,
        /// Its target, invalid bytes replaced.
        target: String,
    },

    /// A symlink inside a `tree` source leads out of the tree.
    #[error("{dest}: symlink {link} in tree {tree} points to {target:?}, which {how}; copying it would put the build machine's files into the image. Store the link itself with a `symlink` manifest line for {dest}, remove it from the tree, or pass --follow-external-symlinks to copy what it points to")]
    ExternalTreeLink {
        /// In-image path of the link.
        dest: String,
        /// The symlink on disk.
        link: PathBuf,
        /// Its target.
        target: String,
        /// The tree named in the manifest.
        tree: PathBuf,
        /// "is an absolute path outside the tree" or "climbs out of the tree".
        how: &'static str,
    },

    /// A symlink target leaves the image root.
    #[error("symlink {dest} points to {target:?}, which is outside the image root; use a target that stays inside the image")]
    SymlinkEscapes {
        /// In-image path of the symlink.
        dest: String,
        /// The target as written.
        target: String,
    },

    /// A symlink target is an absolute path into the build's working directory.
    #[error("symlink {dest} points to {target:?}, a path on the build machine; use a path relative to the link or an absolute path inside the image")]
    HostPathSymlink {
        /// In-image path of the symlink.
        dest: String,
        /// The target as written.
        target: String,
    },

    /// Two different entries claim one in-image path.
    #[error("two different entries for {path}: {first} and {second} ({difference}); remove one of them or make them identical")]
    Conflict {
        /// What differs: type, mode, content or symlink target.
        difference: String,
        /// The in-image path.
        path: String,
        /// Where the first entry came from.
        first: String,
        /// Where the second entry came from.
        second: String,
    },

    /// An entry is used as the parent directory of another, but is not a directory.
    #[error(
        "{parent} is a {kind} ({origin}) but {child} needs it to be a directory; move one of them"
    )]
    ParentNotDirectory {
        /// The in-image path of the non-directory.
        parent: String,
        /// What it is.
        kind: &'static str,
        /// Where it came from.
        origin: String,
        /// The entry below it.
        child: String,
    },

    /// A glob pattern does not compile.
    #[error("invalid glob {glob:?} in {flag}: {source}")]
    Glob {
        /// The pattern.
        glob: String,
        /// The flag that carried it.
        flag: &'static str,
        /// The parser's complaint.
        source: globset::Error,
    },

    /// A JSON document of an OCI layout does not parse, or not as what it should be.
    #[error("{path} is not a valid {what}: {source}; check that the base is an OCI image layout, or pull it again")]
    Json {
        /// The file.
        path: PathBuf,
        /// What it should be ("image index", "image config", ...).
        what: &'static str,
        /// The parser's complaint, with line and column.
        source: serde_json::Error,
    },

    /// An input file parses but its content is unusable.
    #[error("{path}: {message}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A base image is not for the platform being built.
    #[error("{0}")]
    Platform(String),

    /// The layer options are inconsistent.
    #[error("{0}")]
    LayerSpec(String),

    /// A parameter file could not be read.
    #[error("cannot read parameter file {path}: {source}")]
    ParamFile {
        /// The parameter file.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// Writing an output or working in a directory failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying I/O error.
        source: io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// A note for a path that starts or ends with white space (easy to miss in a message).
fn whitespace_note(path: &std::path::Path) -> &'static str {
    let text = path.as_os_str().as_encoded_bytes();
    let space = |b: Option<&u8>| b.is_some_and(u8::is_ascii_whitespace);
    match (space(text.first()), space(text.last())) {
        (true, true) => " (note the spaces at both ends)",
        (true, false) => " (note the leading space)",
        (false, true) => " (note the trailing space)",
        _ => "",
    }
}

/// Shorthand for results carrying [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Renders an error and its causes as `outer: inner: ...`, skipping a cause whose text
/// the previous message already contains (library messages embed their I/O cause).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut last = out.clone();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !last.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
        source = cause.source();
    }
    out
}
