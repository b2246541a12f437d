//! `--hardlink-duplicates`: identical files of a layer stored once, read back with GNU
//! tar, bsdtar and Python's tarfile.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::*;

/// Sources and a manifest with duplicates of every kind. Returns the manifest lines.
fn fixture(root: &Path) -> Vec<String> {
    let src = root.join("src");
    let big = payload(200_000, 11);
    write(&src.join("big.bin"), &big);
    write(&src.join("big-copy.bin"), &big);
    let mut other = big.clone();
    other[100_000] ^= 1;
    write(&src.join("big-other.bin"), &other); // same size, one byte differs
    write(&src.join("init.py"), b"from .core import *\n");
    write(&src.join("init-copy.py"), b"from .core import *\n");
    write(&src.join("run.sh"), b"from .core import *\n");
    write(&src.join("unique.txt"), b"only one of these\n");
    fs::hard_link(src.join("big.bin"), src.join("big-inode.bin")).unwrap();
    write(
        &src.join("tree/pkg/a/__init__.py"),
        b"from .core import *\n",
    );
    write(
        &src.join("tree/pkg/b/__init__.py"),
        b"from .core import *\n",
    );
    write(&src.join("tree/pkg/empty1.py"), b"");
    write(&src.join("tree/pkg/empty2.py"), b"");
    let s = |name: &str| src.join(name).display().to_string();
    vec![
        format!("file\tapp/z-big.bin\t{}", s("big-copy.bin")),
        format!("file\tapp/big.bin\t{}", s("big.bin")),
        format!("file\tapp/m-big.bin\t{}", s("big-inode.bin")),
        format!("file\tapp/other.bin\t{}", s("big-other.bin")),
        format!(
            "file\tapp/{}/init.py\t{}",
            "d".repeat(110),
            s("init-copy.py")
        ),
        format!("file\tapp/init.py\t{}", s("init.py")),
        format!("file\tapp/run.sh\t{}\tmode=0755", s("run.sh")), // same content, other mode
        format!("file\tapp/run2.sh\t{}", s("init.py")),
        format!("file\tapp/unique.txt\t{}", s("unique.txt")),
        format!("tree\tsite\t{}", s("tree")),
    ]
}

fn run(root: &Path, name: &str, lines: &[String], extra: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    fs::write(root.join("manifest.txt"), lines.join("\n") + "\n").unwrap();
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    let blob = out.join(format!("{name}.blob"));
    let json = out.join(format!("{name}.json"));
    let report = out.join(format!("{name}.report"));
    let mut args: Vec<String> = vec![
        "--manifest".into(),
        root.join("manifest.txt").display().to_string(),
        "--output".into(),
        blob.display().to_string(),
        "--descriptor".into(),
        json.display().to_string(),
        "--report".into(),
        report.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    assert_ok(&splitter(
        root,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    (blob, json, report)
}

/// Hard links of the layer as (link, target), in archive order.
fn expected_links() -> Vec<(String, String)> {
    let long = format!("app/{}/init.py", "d".repeat(110));
    [
        ("app/init.py", long.as_str()),
        ("app/m-big.bin", "app/big.bin"),
        ("app/run2.sh", long.as_str()),
        ("app/z-big.bin", "app/big.bin"),
        ("site/pkg/a/__init__.py", long.as_str()),
        ("site/pkg/b/__init__.py", long.as_str()),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

#[test]
fn identical_files_are_stored_once_as_hard_links() {
    let root = scratch("hardlinks");
    let lines = fixture(&root);
    let (blob, json, report) = run(&root, "dedup", &lines, &["--hardlink-duplicates"]);
    let (plain_blob, plain_json, _) = run(&root, "plain", &lines, &[]);

    // Python's tarfile: which members are links, to what, and the content read through them.
    let members = python_members(&blob);
    let links: Vec<(String, String)> = members
        .iter()
        .filter(|m| m.kind == 'h')
        .map(|m| (m.name.clone(), m.link.clone()))
        .collect();
    assert_eq!(links, expected_links());
    let plain = python_members(&plain_blob);
    assert!(
        plain.iter().all(|m| m.kind != 'h'),
        "no links without the flag"
    );
    let content: BTreeMap<&str, &str> = plain
        .iter()
        .map(|m| (m.name.as_str(), m.sha256.as_str()))
        .collect();
    assert_eq!(members.len(), plain.len());
    for m in &members {
        assert_eq!(m.sha256, content[m.name.as_str()], "{}", m.name);
        assert_eq!(
            m.mode,
            plain.iter().find(|p| p.name == m.name).unwrap().mode
        );
    }

    // Descriptors: every link is a member; the tar is smaller by the linked content.
    let d = check_descriptor(&blob, &json, "application/vnd.oci.image.layer.v1.tar+gzip");
    let p = read_descriptor(&plain_json);
    assert_eq!(d.entries, p.entries);
    let saved = 2 * 200_000 + 4 * 20;
    // Content blocks not stored, less a PAX header (header + records) for each of the
    // four links whose target is over 100 bytes.
    let padded = 2 * 200_192 + 4 * 512 - 4 * 1024;
    assert_eq!(p.uncompressed_size - d.uncompressed_size, padded);
    let report = fs::read_to_string(&report).unwrap();
    assert!(
        report.contains(&format!(
            "hardlink-duplicates: 6 files stored as hard links, {saved} bytes not stored again"
        )),
        "{report}"
    );

    // GNU tar and bsdtar extract the same bytes, with the linked files sharing an inode.
    for tool in ["gnu", "bsd"] {
        let dir = root.join(format!("x-{tool}"));
        fs::create_dir_all(&dir).unwrap();
        let cmd = match tool {
            "gnu" => format!(
                "gzip -dc '{}' | tar -xf - -C '{}'",
                blob.display(),
                dir.display()
            ),
            _ => format!("bsdtar -xf '{}' -C '{}'", blob.display(), dir.display()),
        };
        sh(&cmd);
        for m in members.iter().filter(|m| m.kind == 'f' || m.kind == 'h') {
            let path = dir.join(&m.name);
            assert_eq!(
                sha256_hex(&fs::read(&path).unwrap()),
                m.sha256,
                "{tool}: {}",
                m.name
            );
            let linked = expected_links()
                .iter()
                .any(|(a, b)| *a == m.name || *b == m.name);
            let nlink = fs::metadata(&path).unwrap().nlink();
            assert_eq!(nlink > 1, linked, "{tool}: {} has {nlink} links", m.name);
        }
        let ino = |p: &str| fs::metadata(dir.join(p)).unwrap().ino();
        assert_eq!(ino("app/big.bin"), ino("app/z-big.bin"), "{tool}");
        assert_eq!(
            fs::metadata(dir.join("app/big.bin")).unwrap().nlink(),
            3,
            "{tool}"
        );
        assert_ne!(ino("app/big.bin"), ino("app/other.bin"), "{tool}");
        assert_ne!(
            ino("app/init.py"),
            ino("app/run.sh"),
            "{tool}: modes differ"
        );
    }
    let listing =
        String::from_utf8(sh(&format!("gzip -dc '{}' | tar -tvf -", blob.display()))).unwrap();
    let line = listing
        .lines()
        .find(|l| l.contains("app/z-big.bin"))
        .unwrap();
    assert!(
        line.starts_with('h') && line.ends_with("link to app/big.bin"),
        "{line}"
    );
}

#[test]
fn hard_links_are_deterministic() {
    let root = scratch("hardlinks-determinism");
    let mut lines = fixture(&root);
    let (blob, _, _) = run(
        &root,
        "a",
        &lines,
        &["--hardlink-duplicates", "--threads", "1"],
    );
    let first = fs::read(&blob).unwrap();
    lines.reverse();
    for (name, threads) in [("b", "2"), ("c", "5")] {
        let (blob, _, _) = run(
            &root,
            name,
            &lines,
            &["--hardlink-duplicates", "--threads", threads],
        );
        assert!(
            fs::read(&blob).unwrap() == first,
            "threads {threads}, reversed lines"
        );
    }
}
