//! A member of more than 8 GiB (beyond ustar's 11 octal digits): the size goes into a PAX
//! record, and GNU tar, bsdtar and Python's tarfile see the exact size and the bytes at
//! both ends. The input is sparse and the uncompressed output keeps the holes, so the
//! test writes a few kilobytes, not 8 GiB; nothing is extracted.

mod common;

use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const SIZE: u64 = (8 << 30) + 5;

/// Removes the scratch directory even when the test fails.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn sparse_input(path: &Path) {
    let mut file = File::create(path).unwrap();
    file.write_all(b"HEAD").unwrap();
    file.set_len(SIZE - 5).unwrap();
    file.seek(SeekFrom::End(0)).unwrap();
    file.write_all(b"TAIL!").unwrap();
    assert_eq!(file.metadata().unwrap().len(), SIZE);
}

const PY_CHECK: &str = r#"
import sys, tarfile
with tarfile.open(sys.argv[1], "r:") as tf:
    names = tf.getnames()
    m = tf.getmember("data/big.bin")
    f = tf.extractfile(m)
    head = f.read(4)
    f.seek(m.size - 5)
    tail = f.read(5)
    after = f.read(1)
    small = tf.extractfile("data/zz.txt").read()
    print(names, m.size, m.pax_headers.get("size"), head, tail, after, m.offset_data, small)
"#;

#[test]
fn member_over_8_gib_uses_a_pax_size_record() {
    let root = scratch("huge");
    let _cleanup = Cleanup(root.clone());
    let input = root.join("big.bin");
    sparse_input(&input);
    // A small member after the big one: readers only find it if they skip exactly the
    // PAX size.
    write(&root.join("after.txt"), b"after\n");
    fs::write(
        root.join("manifest.txt"),
        format!(
            "file\tdata/big.bin\t{}\nfile\tdata/zz.txt\t{}\n",
            input.display(),
            root.join("after.txt").display()
        ),
    )
    .unwrap();
    let blob = root.join("layer.tar");
    let json = root.join("layer.json");
    assert_ok(&splitter(
        &root,
        &[
            "--manifest",
            &root.join("manifest.txt").display().to_string(),
            "--output",
            &blob.display().to_string(),
            "--descriptor",
            &json.display().to_string(),
            "--compression",
            "none",
        ],
    ));

    // dir header, PAX header + one record block, file header, content, small file,
    // trailer.
    let content = SIZE.div_ceil(512) * 512;
    let expected_len = 512 + 1024 + 512 + content + 1024 + 1024;
    let meta = fs::metadata(&blob).unwrap();
    assert_eq!(meta.len(), expected_len);
    assert!(
        meta.blocks() * 512 < 1 << 20,
        "the uncompressed blob should keep the input's holes ({} blocks)",
        meta.blocks()
    );
    let d = read_descriptor(&json);
    assert_eq!((d.size, d.uncompressed_size), (expected_len, expected_len));
    assert_eq!(d.digest, d.diff_id);
    assert_eq!(d.entries, 3);

    let py = Command::new("python3")
        .arg("-c")
        .arg(PY_CHECK)
        .arg(&blob)
        .output()
        .unwrap();
    assert_ok(&py);
    assert_eq!(
        String::from_utf8(py.stdout).unwrap().trim_end(),
        format!(
            "['data', 'data/big.bin', 'data/zz.txt'] {SIZE} {SIZE} b'HEAD' b'TAIL!' b'' 2048 b'after\\n'"
        )
    );

    let gnu = String::from_utf8(sh(&format!("tar -tvf '{}'", blob.display()))).unwrap();
    let line = gnu.lines().find(|l| l.ends_with(" data/big.bin")).unwrap();
    assert!(line.starts_with("-rw-r--r--"), "{line}");
    assert!(line.contains(&format!(" {SIZE} ")), "GNU tar: {gnu}");
    let bsd = String::from_utf8(sh(&format!("bsdtar -tvf '{}'", blob.display()))).unwrap();
    assert!(
        bsd.lines()
            .any(|l| l.ends_with(" data/big.bin") && l.contains(&format!(" {SIZE} "))),
        "bsdtar: {bsd}"
    );
    // Both find the member after the big one by seeking over the PAX size's worth of
    // content (nothing is extracted but the small file, to stdout).
    for tool in ["tar", "bsdtar"] {
        let after = sh(&format!("{tool} -xOf '{}' data/zz.txt", blob.display()));
        assert_eq!(after, b"after\n", "{tool}");
    }
}
