//! Values the format or the machine cannot hold: `--mtime` and `--owner` beyond what tar
//! readers represent are refused (and the largest accepted ones read back everywhere);
//! `--threads` beyond what the machine can use is lowered, so memory stays bounded.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// A small layer source and manifest in `root`.
fn fixture(root: &Path) -> PathBuf {
    write(&root.join("src/hello.txt"), b"hello\n");
    let manifest = root.join("manifest.txt");
    fs::write(
        &manifest,
        format!(
            "file\tapp/hello.txt\t{}\ndir\tvar/empty\n",
            root.join("src/hello.txt").display()
        ),
    )
    .unwrap();
    manifest
}

fn run(root: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "--manifest".to_string(),
        root.join("manifest.txt").display().to_string(),
        "--output".to_string(),
        root.join("out/layer.tar").display().to_string(),
        "--descriptor".to_string(),
        root.join("out/layer.json").display().to_string(),
        "--compression".to_string(),
        "none".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    fs::create_dir_all(root.join("out")).unwrap();
    splitter(root, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn refused(root: &Path, extra: &[&str], mentions: &[&str]) {
    let out = run(root, extra);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{message}");
    for m in mentions {
        assert!(message.contains(m), "{m:?} not in {message}");
    }
    assert_eq!(dir_names(&root.join("out")), Vec::<String>::new());
}

const MAX_MTIME: u64 = 1 << 53;
const MAX_ID: u64 = (1 << 32) - 2;

#[test]
fn the_largest_mtime_reads_back_everywhere_and_a_larger_one_is_refused() {
    let root = scratch("mtime-bound");
    fixture(&root);
    let blob = root.join("out/layer.tar");
    assert_ok(&run(&root, &["--mtime", &MAX_MTIME.to_string()]));
    // 2^53 s is 285428751-11-12 07:36:32 UTC.
    let gnu = String::from_utf8(sh(&format!(
        "TZ=UTC tar --full-time -tvf '{}'",
        blob.display()
    )))
    .unwrap();
    assert_eq!(gnu.matches("285428751-11-12 07:36:32").count(), 4, "{gnu}");
    let bsd = String::from_utf8(sh(&format!("TZ=UTC bsdtar -tvf '{}'", blob.display()))).unwrap();
    assert_eq!(bsd.matches("285428751").count(), 4, "{bsd}");
    let members = python_members(&blob);
    assert_eq!(members.len(), 4);
    assert!(members.iter().all(|m| m.mtime == MAX_MTIME), "{members:?}");
    fs::remove_dir_all(root.join("out")).unwrap();

    for mtime in [MAX_MTIME + 1, u64::MAX] {
        refused(
            &root,
            &["--mtime", &mtime.to_string()],
            &[&format!("--mtime {mtime}"), &MAX_MTIME.to_string()],
        );
    }
}

#[test]
fn the_largest_owner_reads_back_everywhere_and_a_larger_one_is_refused() {
    let root = scratch("owner-bound");
    fixture(&root);
    let blob = root.join("out/layer.tar");
    let owner = format!("{MAX_ID}:{}", MAX_ID - 1);
    assert_ok(&run(&root, &["--owner", &owner]));
    let gnu = String::from_utf8(sh(&format!(
        "tar --numeric-owner -tvf '{}'",
        blob.display()
    )))
    .unwrap();
    assert_eq!(
        gnu.matches(&format!("{MAX_ID}/{}", MAX_ID - 1)).count(),
        4,
        "{gnu}"
    );
    let bsd = String::from_utf8(sh(&format!(
        "bsdtar --numeric-owner -tvf '{}'",
        blob.display()
    )))
    .unwrap();
    assert_eq!(
        bsd.matches(&format!("{MAX_ID}  {}", MAX_ID - 1)).count(),
        4,
        "{bsd}"
    );
    let members = python_members(&blob);
    assert!(
        members
            .iter()
            .all(|m| (m.uid, m.gid) == (MAX_ID, MAX_ID - 1)),
        "{members:?}"
    );
    fs::remove_dir_all(root.join("out")).unwrap();

    for owner in ["4294967295:0", "0:4294967295", "4294967296:4294967296"] {
        refused(
            &root,
            &["--owner", owner],
            &[&format!("--owner {owner}"), &MAX_ID.to_string()],
        );
    }
}

/// Runs layer-splitter under GNU time and returns its peak RSS in KiB and its stderr.
/// (`wait4` on a child of the test process would report at least the test process's
/// own RSS, which the child shares until it executes the binary.)
fn peak_rss_kib(root: &Path, args: &[&str]) -> (u64, String) {
    let rss_file = root.join("rss.txt");
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_layer-splitter"))
        .args(args)
        .current_dir(root)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let message = stderr(&out);
    assert!(out.status.success(), "{message}");
    let rss = fs::read_to_string(&rss_file).unwrap();
    (rss.trim().parse().unwrap(), message)
}

#[test]
fn thousands_of_threads_do_not_raise_peak_memory() {
    if !Path::new("/usr/bin/time").exists() {
        println!(
            "skipped: needs GNU time (/usr/bin/time, Debian package `time`) to measure peak RSS"
        );
        return;
    }
    let root = scratch("threads-rss");
    // 640 MiB of zeros (sparse: no disk): read far faster than compressed, so every
    // thread's buffers fill.
    let big = root.join("big.bin");
    fs::File::create(&big).unwrap().set_len(640 << 20).unwrap();
    fs::write(
        root.join("manifest.txt"),
        format!("file\tapp/big.bin\t{}\n", big.display()),
    )
    .unwrap();
    for compression in ["zstd", "gzip"] {
        let rss = |threads: &str| {
            peak_rss_kib(
                &root,
                &[
                    "--manifest",
                    "manifest.txt",
                    "--output",
                    "layer.blob",
                    "--descriptor",
                    "layer.json",
                    "--compression",
                    compression,
                    "--level",
                    "1",
                    "--threads",
                    threads,
                ],
            )
        };
        let (two, _) = rss("2");
        let digest_two = fs::read(root.join("layer.json")).unwrap();
        let (many, message) = rss("5000");
        println!("{compression}: peak RSS {two} KiB at --threads 2, {many} KiB at --threads 5000");
        assert_eq!(fs::read(root.join("layer.json")).unwrap(), digest_two);
        assert!(
            many < two * 2 + 64 * 1024,
            "{compression}: peak RSS {many} KiB at --threads 5000 vs {two} KiB at --threads 2"
        );
        assert!(message.contains("--threads 5000"), "no warning: {message}");
    }
}
