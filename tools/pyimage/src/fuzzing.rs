//! Fuzz harnesses: property checks over arbitrary bytes, shared by the cargo-fuzz targets
//! in `tools/fuzz` and by `tests/fuzz_harness.rs`, which runs them over generated inputs
//! on a stable toolchain. Each one panics when a property does not hold.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::inputs::{collect_inputs, EntryKind, InputOptions};
use crate::manifest::{parse_manifest_bytes, ManifestEntry, ManifestLine};
use crate::paramfile::parse_paramfile;
use crate::path::{normalize_dest, relative_link, resolve_link};

/// The manifest parser and the path rules it relies on: any input gives `Ok` or `Err`,
/// never a panic; accepted destinations are normalised; a symlink target rewritten to its
/// relative form resolves to the same in-image path as the original; a `link` or `output`
/// entry names a non-empty source.
pub fn manifest(data: &[u8]) {
    let Ok(lines) = parse_manifest_bytes(data) else {
        return;
    };
    for line in lines {
        let dest = line.entry.dest();
        assert_eq!(normalize_dest(dest).as_deref(), Ok(dest));
        match &line.entry {
            ManifestEntry::Symlink { dest, target } => {
                if let Some(relative) = relative_link(dest, target) {
                    assert!(!relative.starts_with('/'));
                    assert_eq!(resolve_link(dest, &relative), resolve_link(dest, target));
                }
            }
            ManifestEntry::Link { src, .. } | ManifestEntry::Output { src, .. } => {
                assert!(!src.as_os_str().is_empty())
            }
            _ => {}
        }
    }
}

/// The parameter-file parser: accepted input is UTF-8 without CRLF line endings, and its
/// arguments joined by newlines give the text back (less one final newline); refused
/// input is not UTF-8 or has CRLF, and the message names the file.
pub fn paramfile(data: &[u8]) {
    let path = Path::new("fuzz-params.txt");
    let crlf = data.windows(2).any(|w| w == b"\r\n");
    match parse_paramfile(path, data) {
        Ok(args) => {
            let text = std::str::from_utf8(data).expect("only UTF-8 is accepted");
            assert!(!crlf, "CRLF accepted: {text:?}");
            let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
            assert!(args.iter().all(|a| !a.contains('\n')));
            assert_eq!(args.join("\n"), text.strip_suffix('\n').unwrap_or(text));
        }
        Err(e) => {
            assert!(std::str::from_utf8(data).is_err() || crlf, "refused: {e}");
            assert!(e.to_string().contains("fuzz-params.txt"), "{e}");
        }
    }
}

/// File names the tree harness uses: plain, odd, not UTF-8, with control characters.
const NAMES: &[&[u8]] = &[
    b"a",
    b"b",
    b"pkg",
    b"__pycache__",
    b"..x",
    b" sp ",
    "é".as_bytes(),
    b"caf\xe9",
    b"t\tab",
    b"n\nl",
    b"mod.py",
    b"lib",
];

/// Creates a new file, never through an existing name: the tree being built holds
/// symlinks that point anywhere, and writing through one would create files outside the
/// scratch directory.
fn new_file(path: &Path, content: &[u8]) {
    use std::io::Write;
    if let Ok(mut file) = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        let _ = file.write_all(content);
    }
}

/// Builds a small directory tree under `scratch` from `data` (directories, files,
/// relative and absolute symlinks: into the tree, out of it, to the host, to a copy of
/// the tree as Bazel's sandbox makes, dangling, looping), then collects it as a `tree`
/// entry without `--follow-external-symlinks`. Properties: no panic; when accepted,
/// every entry is a normalised path under the tree's destination, every symlink kept
/// resolves inside it, and every file's content comes from the tree or its sandbox copy,
/// never from elsewhere on the machine; when refused for a link that leaves the tree, the
/// message names the fix.
pub fn tree_walk(data: &[u8], scratch: &Path) {
    let _ = fs::remove_dir_all(scratch);
    let tree = scratch.join("tree");
    let real = scratch.join("real/tree");
    let outside = scratch.join("outside");
    fs::create_dir_all(&tree).unwrap();
    fs::create_dir_all(&real).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret"), b"host content").unwrap();
    symlink(scratch.join("self-loop"), scratch.join("self-loop")).unwrap();

    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    // (directory on disk, its path relative to the tree)
    let mut stack: Vec<(PathBuf, PathBuf)> = vec![(tree.clone(), PathBuf::new())];
    let mut made = 0;
    while let Some(op) = next() {
        if made >= 48 {
            break;
        }
        made += 1;
        let (dir, rel) = stack.last().cloned().unwrap();
        let name = OsStr::from_bytes(NAMES[usize::from(next().unwrap_or(0)) % NAMES.len()]);
        let path = dir.join(name);
        match op % 7 {
            0 => {
                if fs::create_dir(&path).is_ok() && stack.len() < 6 {
                    stack.push((path, rel.join(name)));
                }
            }
            1 => {
                let len = usize::from(next().unwrap_or(0));
                new_file(&path, &vec![b'x'; len]);
            }
            2 => {
                // A relative target of up to four components.
                let mut target = PathBuf::new();
                for _ in 0..(next().unwrap_or(0) % 4 + 1) {
                    let pick = next().unwrap_or(0);
                    match pick % 4 {
                        0 => target.push(".."),
                        1 => target.push("."),
                        2 => target.push("missing"),
                        _ => target.push(OsStr::from_bytes(NAMES[usize::from(pick) % NAMES.len()])),
                    }
                }
                let _ = symlink(&target, &path);
            }
            3 => {
                let target = match next().unwrap_or(0) % 5 {
                    0 => outside.join("secret"),
                    1 => outside.clone(),
                    2 => tree.join(&rel).join(name),
                    3 => PathBuf::from("/etc"),
                    _ => scratch.join("self-loop"),
                };
                let _ = symlink(&target, &path);
            }
            4 => {
                // What the sandbox does: the real file in the copy, an absolute link here.
                let copy = real.join(&rel).join(name);
                if let Some(parent) = copy.parent() {
                    let _ = fs::create_dir_all(parent);
                }
                new_file(&copy, b"real tree content");
                let _ = symlink(&copy, &path);
            }
            5 => {
                if stack.len() > 1 {
                    stack.pop();
                }
            }
            _ => {
                let _ = symlink(name, &path);
            }
        }
    }

    let lines = [ManifestLine {
        line: 1,
        entry: ManifestEntry::Tree {
            dest: "opt".to_string(),
            src: tree.clone(),
        },
        attributes: Default::default(),
    }];
    let options = InputOptions {
        allow_setuid: false,
        host_root: None,
        follow_external_symlinks: false,
        threads: 1,
    };
    match collect_inputs(&lines, &options) {
        Ok(inputs) => {
            let scratch = fs::canonicalize(scratch).unwrap();
            let outside = fs::canonicalize(&outside).unwrap();
            for entry in inputs.entries.values() {
                assert!(
                    entry.path == "opt" || entry.path.starts_with("opt/"),
                    "{}",
                    entry.path
                );
                assert_eq!(
                    normalize_dest(&entry.path).as_deref(),
                    Ok(entry.path.as_str())
                );
                match &entry.kind {
                    EntryKind::Symlink { target } => {
                        let resolved = resolve_link(&entry.path, target)
                            .unwrap_or_else(|| panic!("{} -> {target} escapes", entry.path));
                        assert!(
                            resolved == "opt" || resolved.starts_with("opt/"),
                            "{} -> {target} leaves the tree",
                            entry.path
                        );
                    }
                    EntryKind::File { src: Some(src), .. } => {
                        let content = fs::canonicalize(src).unwrap();
                        assert!(
                            content.starts_with(&scratch) && !content.starts_with(&outside),
                            "{} copies {} from outside the tree",
                            entry.path,
                            content.display()
                        );
                    }
                    _ => {}
                }
            }
        }
        Err(e @ Error::ExternalTreeLink { .. }) => {
            assert!(e.to_string().contains("--follow-external-symlinks"), "{e}");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// The layer tar lister: any bytes give `Ok` or `Err`, never a panic; every listed path is
/// normalised (no empty, `.` or leading-`/` component) and only regular files have a size.
pub fn tar_list(data: &[u8]) {
    let Ok(members) = crate::tar_list::list_tar(data) else {
        return;
    };
    for member in members {
        assert!(!member.path.starts_with('/') && !member.path.ends_with('/'));
        assert!(member
            .path
            .split('/')
            .all(|c| c != "." && (!c.is_empty() || member.path.is_empty())));
        if member.kind != crate::tar_list::MemberKind::File {
            assert_eq!(member.size, 0);
        }
    }
}

/// The contents file reader: any bytes give `Ok` or `Err`, never a panic, and a file's
/// distribution index is always in range.
pub fn contents(data: &[u8], scratch: &Path) {
    fs::write(scratch, data).expect("scratch file");
    if let Ok(contents) = crate::contents::read_contents(scratch) {
        for (_, _, dist) in &contents.files {
            assert!(dist.is_none_or(|d| d < contents.distributions.len()));
        }
    }
}
