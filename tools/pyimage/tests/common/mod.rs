//! Helpers shared by the integration tests: scratch directories, fixtures, running the
//! binaries and reading their outputs with independent tools.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `layer-splitter` with `args` in `cwd`.
pub fn splitter(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layer-splitter"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run layer-splitter")
}

/// Runs `stripper` with `args`.
pub fn stripper(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stripper"))
        .args(args)
        .output()
        .expect("run stripper")
}

/// Runs a shell command, asserting success, returning stdout.
pub fn sh(script: &str) -> Vec<u8> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "`{script}` failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "failed ({:?}): {}",
        out.status.code(),
        stderr(out)
    );
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn write(path: &Path, content: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

pub fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Deterministic pseudo-random bytes mixed with text (compressible, not trivially).
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if state & 3 == 0 {
            out.extend_from_slice(&state.to_le_bytes());
        } else {
            out.extend_from_slice(b"def f(x):\n    return x + 1\n");
        }
    }
    out.truncate(len);
    out
}

/// Deterministic bytes with no structure at all (like compressed data): deflate cannot
/// shrink them, and layer-splitter stores them.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A long in-image path (> 100 bytes) for PAX tests.
pub fn long_dest() -> String {
    format!("app/{}/{}.py", "d".repeat(60), "f".repeat(60))
}

/// A long symlink target (> 100 bytes), relative to `app/`.
pub fn long_target() -> String {
    format!("{}/{}.py", "d".repeat(60), "f".repeat(60))
}

/// The standard fixture: sources under `root/src`, reached through Bazel-style symlinks
/// under `root/inputs`, and a manifest naming them. Returns the manifest path.
pub fn rich_fixture(root: &Path) -> PathBuf {
    let src = root.join("src");
    write(&src.join("hello.txt"), b"hello\n");
    write(&src.join("hello-copy.txt"), b"hello\n");
    write(&src.join("tool.sh"), b"#!/bin/sh\necho tool\n");
    chmod(&src.join("tool.sh"), 0o755);
    write(&src.join("data.bin"), &payload(300_000, 7));
    write(&src.join("tree/pkg/__init__.py"), b"");
    write(&src.join("tree/pkg/mod.py"), b"X = 1\n");
    write(
        &src.join("tree/pkg/__pycache__/mod.cpython-311.pyc"),
        b"\x00bytecode",
    );
    write(&src.join("tree/pkg/run.sh"), b"#!/bin/sh\n");
    chmod(&src.join("tree/pkg/run.sh"), 0o750);
    fs::create_dir_all(src.join("tree/empty")).unwrap();
    symlink("pkg/mod.py", src.join("tree/link")).unwrap();
    // How Bazel's sandbox presents a tree artifact's file: an absolute link to the same
    // path in the real tree (followed; any other link out of a tree is refused).
    write(&root.join("real/tree/abs"), b"hello\n");
    symlink(root.join("real/tree/abs"), src.join("tree/abs")).unwrap();

    // Bazel's sandbox presents inputs as symlinks to the real files.
    let inputs = root.join("inputs");
    fs::create_dir_all(&inputs).unwrap();
    for name in ["hello.txt", "hello-copy.txt", "tool.sh", "data.bin"] {
        symlink(src.join(name), inputs.join(name)).unwrap();
    }
    let i = |name: &str| inputs.join(name).display().to_string();
    let manifest = format!(
        "# rich fixture\n\
         file\t/app/hello.txt\t{hello}\n\
         file\tapp/bin/tool\t{tool}\n\
         file\t./app//data.bin\t{data}\tmode=0600\n\
         tree\topt/lib\t{tree}\n\
         symlink\tusr/bin/tool\t/app/bin/tool\n\
         symlink\tapp/long-link\t{long_target}\n\
         dir\tvar/cache\n\
         empty\tapp/__init__.py\n\
         file\t{long_dest}\t{hello}\n\
         file\tapp/é.txt\t{hello}\n\
         \n\
         file\tapp/hello.txt\t{copy}\n",
        hello = i("hello.txt"),
        copy = i("hello-copy.txt"),
        tool = i("tool.sh"),
        data = i("data.bin"),
        tree = src.join("tree").display(),
        long_target = long_target(),
        long_dest = long_dest(),
    );
    let path = root.join("manifest.txt");
    fs::write(&path, manifest).unwrap();
    path
}

/// `(name, type, mode, link target, content source)` of every member the rich fixture's
/// single layer must hold, in archive order.
pub fn rich_expected(root: &Path) -> Vec<(String, char, u32, String, Option<PathBuf>)> {
    let src = root.join("src");
    let d = |n: &str| (format!("{n}/"), 'd', 0o755, String::new(), None);
    let f = |n: &str, mode: u32, s: PathBuf| (n.to_string(), 'f', mode, String::new(), Some(s));
    let l = |n: &str, t: &str| (n.to_string(), 'l', 0o777, t.to_string(), None);
    let long = long_dest();
    let long_dir = long.rsplit_once('/').unwrap().0.to_string();
    let mut v = vec![
        d("app"),
        f("app/__init__.py", 0o644, src.join("tree/pkg/__init__.py")),
        d("app/bin"),
        f("app/bin/tool", 0o755, src.join("tool.sh")),
        d(&long_dir),
        f(&long, 0o644, src.join("hello.txt")),
        f("app/data.bin", 0o600, src.join("data.bin")),
        f("app/hello.txt", 0o644, src.join("hello.txt")),
        l("app/long-link", &long_target()),
        f("app/é.txt", 0o644, src.join("hello.txt")),
        d("opt"),
        d("opt/lib"),
        f("opt/lib/abs", 0o644, src.join("hello.txt")),
        d("opt/lib/empty"),
        l("opt/lib/link", "pkg/mod.py"),
        d("opt/lib/pkg"),
        f(
            "opt/lib/pkg/__init__.py",
            0o644,
            src.join("tree/pkg/__init__.py"),
        ),
        d("opt/lib/pkg/__pycache__"),
        f(
            "opt/lib/pkg/__pycache__/mod.cpython-311.pyc",
            0o644,
            src.join("tree/pkg/__pycache__/mod.cpython-311.pyc"),
        ),
        f("opt/lib/pkg/mod.py", 0o644, src.join("tree/pkg/mod.py")),
        f("opt/lib/pkg/run.sh", 0o755, src.join("tree/pkg/run.sh")),
        d("usr"),
        d("usr/bin"),
        l("usr/bin/tool", "../../app/bin/tool"),
        d("var"),
        d("var/cache"),
    ];
    v.sort_by(|a, b| a.0.trim_end_matches('/').cmp(b.0.trim_end_matches('/')));
    v
}

/// One member as Python's `tarfile` sees it (`kind` `h` is a hard link, whose `sha256` is
/// the content `tarfile` reads through it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyMember {
    pub name: String,
    pub kind: char,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub uname: String,
    pub gname: String,
    pub link: String,
    pub sha256: String,
}

const PY_LIST: &str = r#"
import hashlib, sys, tarfile
with tarfile.open(sys.argv[1], "r:*") as tf:
    for m in tf:
        kind = "d" if m.isdir() else "f" if m.isreg() else "l" if m.issym() else "h" if m.islnk() else "?"
        digest = hashlib.sha256(tf.extractfile(m).read()).hexdigest() if m.isreg() or m.islnk() else ""
        name = m.name + ("/" if m.isdir() else "")
        print("\t".join([name, kind, "%o" % m.mode, str(m.uid), str(m.gid), str(int(m.mtime)), m.uname, m.gname, m.linkname, digest]))
"#;

/// Lists a tar (plain or gzip; zstd is decompressed first) with Python's `tarfile`.
pub fn python_members(blob: &Path) -> Vec<PyMember> {
    let tar = if is_zstd(blob) {
        let plain = blob.with_extension("pytar");
        sh(&format!(
            "zstd -q -d -f -o '{}' '{}'",
            plain.display(),
            blob.display()
        ));
        plain
    } else {
        blob.to_path_buf()
    };
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY_LIST)
        .arg(&tar)
        .output()
        .expect("python3");
    assert!(out.status.success(), "tarfile failed: {}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            PyMember {
                name: f[0].to_string(),
                kind: f[1].chars().next().unwrap(),
                mode: u32::from_str_radix(f[2], 8).unwrap(),
                uid: f[3].parse().unwrap(),
                gid: f[4].parse().unwrap(),
                mtime: f[5].parse().unwrap(),
                uname: f[6].to_string(),
                gname: f[7].to_string(),
                link: f[8].to_string(),
                sha256: f[9].to_string(),
            }
        })
        .collect()
}

pub fn is_zstd(blob: &Path) -> bool {
    fs::read(blob)
        .map(|b| b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]))
        .unwrap_or(false)
}

/// A command that writes the uncompressed tar of `blob` to stdout.
pub fn decompress_cmd(blob: &Path) -> String {
    let bytes = fs::read(blob).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        format!("gzip -dc '{}'", blob.display())
    } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        format!("zstd -dc '{}'", blob.display())
    } else {
        format!("cat '{}'", blob.display())
    }
}

/// A parsed descriptor JSON (flat object of strings and numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    pub diff_id: String,
    pub entries: u64,
    pub uncompressed_size: u64,
}

pub fn read_descriptor(path: &Path) -> Descriptor {
    let script = r#"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"mediaType", "digest", "size", "diffID", "entries", "uncompressedSize"}, d
print("\t".join(str(d[k]) for k in ["mediaType", "digest", "size", "diffID", "entries", "uncompressedSize"]))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "descriptor {}: {}",
        path.display(),
        stderr(&out)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = text.trim_end().split('\t').collect();
    Descriptor {
        media_type: f[0].to_string(),
        digest: f[1].to_string(),
        size: f[2].parse().unwrap(),
        diff_id: f[3].to_string(),
        entries: f[4].parse().unwrap(),
        uncompressed_size: f[5].parse().unwrap(),
    }
}

/// Checks the descriptor against `sha256sum` of the blob and of the decompressed tar.
pub fn check_descriptor(blob: &Path, descriptor: &Path, media_type: &str) -> Descriptor {
    let d = read_descriptor(descriptor);
    assert_eq!(d.media_type, media_type);
    let blob_sum = String::from_utf8(sh(&format!("sha256sum '{}'", blob.display()))).unwrap();
    assert_eq!(format!("sha256:{}", &blob_sum[..64]), d.digest);
    assert_eq!(fs::metadata(blob).unwrap().len(), d.size);
    let tar_sum = String::from_utf8(sh(&format!("{} | sha256sum", decompress_cmd(blob)))).unwrap();
    assert_eq!(format!("sha256:{}", &tar_sum[..64]), d.diff_id);
    let tar_len: u64 = String::from_utf8(sh(&format!("{} | wc -c", decompress_cmd(blob))))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(tar_len, d.uncompressed_size);
    d
}

/// Names of the entries in `dir`.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
