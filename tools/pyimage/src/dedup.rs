//! Finding regular files of one layer that can be stored once, for `--hardlink-duplicates`:
//! every later file (in the archive's bytewise path order) with the same content, mode and
//! owner as an earlier one becomes a hard link to it.
//!
//! Only files whose size (> 0) is shared with another file of the layer are read and
//! hashed (SHA-256), each inode once, on up to `threads` threads. The result depends only
//! on the paths, modes, owners and contents, never on the thread count or the manifest's order.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::inputs::{read_full, Entry, EntryKind};
use crate::manifest::Owner;
use crate::parallel::map_ordered;

/// For each file to be stored as a hard link, the path of the earlier file it links to.
/// `entries` may come in any order.
pub fn duplicate_files<'a>(
    entries: &[&'a Entry],
    threads: usize,
) -> Result<BTreeMap<&'a str, &'a str>> {
    // Candidates: non-empty regular files, grouped by size; a size seen once is unique.
    let mut by_size: HashMap<u64, Vec<&'a Entry>> = HashMap::new();
    for entry in entries {
        if let EntryKind::File {
            src: Some(_), size, ..
        } = entry.kind
        {
            if size > 0 {
                by_size.entry(size).or_default().push(entry);
            }
        }
    }
    let mut candidates: Vec<&'a Entry> = by_size
        .into_values()
        .filter(|group| group.len() > 1)
        .flatten()
        .collect();
    if candidates.is_empty() {
        return Ok(BTreeMap::new());
    }
    candidates.sort_by(|a, b| a.path.cmp(&b.path));

    // Hash each distinct inode once.
    let mut jobs: Vec<((u64, u64), &'a Entry)> = Vec::new();
    let mut seen = HashMap::new();
    for entry in &candidates {
        let identity = identity(entry);
        if seen.insert(identity, ()).is_none() {
            jobs.push((identity, entry));
        }
    }
    let digests = hash_all(&jobs, threads)?;

    // The first file (in path order) with a given (size, mode, owner, content) is stored;
    // later ones link to it (a hard link shares its target's owner and mode).
    let mut first: HashMap<(u64, u32, &'a Owner, [u8; 32]), &'a str> = HashMap::new();
    let mut links = BTreeMap::new();
    for entry in candidates {
        let EntryKind::File { size, .. } = entry.kind else {
            unreachable!("only files are candidates")
        };
        let key = (size, entry.mode, &entry.owner, digests[&identity(entry)]);
        match first.get(&key) {
            Some(target) => {
                links.insert(entry.path.as_str(), *target);
            }
            None => {
                first.insert(key, entry.path.as_str());
            }
        }
    }
    Ok(links)
}

fn identity(entry: &Entry) -> (u64, u64) {
    match entry.kind {
        EntryKind::File { identity, .. } => identity,
        _ => (0, 0),
    }
}

/// SHA-256 of every job's source, by identity, hashed on up to `threads` threads.
fn hash_all(
    jobs: &[((u64, u64), &Entry)],
    threads: usize,
) -> Result<HashMap<(u64, u64), [u8; 32]>> {
    let digests = map_ordered(
        jobs,
        threads,
        || vec![0u8; 256 * 1024],
        |(_, entry), buffer| hash_file(entry, buffer),
    )?;
    Ok(jobs
        .iter()
        .map(|(identity, _)| *identity)
        .zip(digests)
        .collect())
}

fn hash_file(entry: &Entry, buffer: &mut [u8]) -> Result<[u8; 32]> {
    let EntryKind::File {
        src: Some(src),
        size,
        ..
    } = &entry.kind
    else {
        unreachable!("only files with a source are hashed")
    };
    let unreadable = |source| Error::Unreadable {
        dest: entry.path.clone(),
        src: src.clone(),
        source,
    };
    let mut file = File::open(src).map_err(unreadable)?;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    loop {
        let n = read_full(&mut file, buffer).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
    if total != *size {
        return Err(changed(entry, src, *size, total));
    }
    Ok(hasher.finalize().into())
}

fn changed(entry: &Entry, src: &Path, expected: u64, actual: u64) -> Error {
    Error::FileChanged {
        dest: entry.path.clone(),
        src: src.to_path_buf(),
        expected,
        actual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::MetadataExt;
    use std::path::PathBuf;

    fn file(dir: &Path, path: &str, content: &[u8], mode: u32) -> Entry {
        let src = dir.join(path.replace('/', "_"));
        fs::write(&src, content).unwrap();
        let meta = fs::metadata(&src).unwrap();
        Entry::new(
            path.to_string(),
            EntryKind::File {
                src: (!content.is_empty()).then_some(src),
                size: content.len() as u64,
                identity: (meta.dev(), meta.ino()),
            },
            mode,
            String::new(),
        )
    }

    fn owned(mut entry: Entry, uid: u64) -> Entry {
        entry.owner = Owner {
            uid: Some(uid),
            ..Owner::default()
        };
        entry
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pyimage-dedup-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn later_identical_files_link_to_the_first_in_path_order() {
        let dir = scratch("links");
        let entries = [
            file(&dir, "b/copy.py", b"same\n", 0o644),
            file(&dir, "a/orig.py", b"same\n", 0o644),
            file(&dir, "c/exec.py", b"same\n", 0o755),
            file(&dir, "d/other", b"diff\n", 0o644),
            file(&dir, "e/unique-size", b"longer content\n", 0o644),
            file(&dir, "f/empty1", b"", 0o644),
            file(&dir, "g/empty2", b"", 0o644),
            file(&dir, "h/exec2.py", b"same\n", 0o755),
            file(&dir, "i/third.py", b"same\n", 0o644),
            owned(file(&dir, "j/owned.py", b"same\n", 0o644), 1000),
            owned(file(&dir, "k/owned2.py", b"same\n", 0o644), 1000),
        ];
        let refs: Vec<&Entry> = entries.iter().collect();
        let mut reversed = refs.clone();
        reversed.reverse();
        let want: BTreeMap<&str, &str> = [
            ("b/copy.py", "a/orig.py"),
            ("h/exec2.py", "c/exec.py"),
            ("i/third.py", "a/orig.py"),
            // another owner: its own first copy
            ("k/owned2.py", "j/owned.py"),
        ]
        .into_iter()
        .collect();
        for threads in [1, 2, 7] {
            assert_eq!(duplicate_files(&refs, threads).unwrap(), want);
            assert_eq!(duplicate_files(&reversed, threads).unwrap(), want);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn one_inode_under_two_paths_is_hashed_once_and_linked() {
        let dir = scratch("inode");
        let a = file(&dir, "x/a", b"content", 0o644);
        let mut b = a.clone();
        b.path = "y/b".to_string();
        let refs = vec![&b, &a];
        let links = duplicate_files(&refs, 4).unwrap();
        assert_eq!(links.into_iter().collect::<Vec<_>>(), vec![("y/b", "x/a")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_vanished_source_is_reported_by_path() {
        let dir = scratch("vanished");
        let a = file(&dir, "x/a", b"content", 0o644);
        let b = file(&dir, "x/b", b"CONTENT", 0o644);
        fs::remove_file(dir.join("x_b")).unwrap();
        let err = duplicate_files(&[&a, &b], 2).unwrap_err().to_string();
        assert!(err.contains("x/b") && err.contains("x_b"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
