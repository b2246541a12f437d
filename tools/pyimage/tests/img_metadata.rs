//! `layer-splitter --img-metadata`: rules_img's layer metadata, checked against what
//! Python's hashlib, gzip and the zstd command compute from the blob itself, and written
//! (or left out) together with the run's other outputs.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// The keys rules_img 0.3.19's `api.Descriptor` decodes (img_tool/pkg/api/api.go:99-106);
/// it refuses any other.
const KEYS: [&str; 6] = [
    "diff_id",
    "mediaType",
    "digest",
    "size",
    "annotations",
    "history",
];

/// A small layer with a few files, written with `compression` and `extra` flags into
/// `root/out`; returns the blob and the metadata paths.
fn layer(root: &Path, compression: &str, extra: &[&str]) -> (String, String) {
    let src = root.join("src");
    write(&src.join("app.py"), b"print('hello')\n");
    write(&src.join("data.bin"), &vec![7u8; 300_000]);
    fs::write(
        root.join("manifest.txt"),
        format!(
            "file\tapp/app.py\t{0}/app.py\nfile\tapp/data.bin\t{0}/data.bin\nsymlink\tapp/main.py\tapp.py\n",
            src.display()
        ),
    )
    .unwrap();
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    let blob = out.join("layer.blob").display().to_string();
    let metadata = out.join("layer.img.json").display().to_string();
    let descriptor = out.join("layer.json").display().to_string();
    let mut args = vec![
        "--manifest",
        "manifest.txt",
        "--output",
        &blob,
        "--descriptor",
        &descriptor,
        "--compression",
        compression,
        "--img-metadata",
        &metadata,
    ];
    args.extend_from_slice(extra);
    assert_ok(&splitter(root, &args));
    (blob, metadata)
}

/// What Python computes from the blob alone: `[digest, size, diff_id]`.
fn recomputed(blob: &str, compression: &str) -> Vec<String> {
    let tar = match compression {
        "gzip" => "gzip.decompress(blob)",
        "zstd" => "subprocess.run(['zstd', '-dc', path], check=True, capture_output=True).stdout",
        _ => "blob",
    };
    let script = format!(
        "import gzip, hashlib, subprocess, sys\n\
         path = sys.argv[1]\n\
         blob = open(path, 'rb').read()\n\
         tar = {tar}\n\
         print('sha256:' + hashlib.sha256(blob).hexdigest())\n\
         print(len(blob))\n\
         print('sha256:' + hashlib.sha256(tar).hexdigest())\n"
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(blob)
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn metadata_matches_the_blob_for_every_compression() {
    for (compression, media_type) in [
        ("gzip", "application/vnd.oci.image.layer.v1.tar+gzip"),
        ("zstd", "application/vnd.oci.image.layer.v1.tar+zstd"),
        ("none", "application/vnd.oci.image.layer.v1.tar"),
    ] {
        let root = scratch(&format!("img-metadata-{compression}"));
        let (blob, metadata) = layer(
            &root,
            compression,
            &["--created-by", "bazel build //app:layers (app)"],
        );
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(&metadata).unwrap()).unwrap();
        let object = json.as_object().unwrap();
        for key in object.keys() {
            assert!(KEYS.contains(&key.as_str()), "rules_img refuses {key:?}");
        }
        let expected = recomputed(&blob, compression);
        assert_eq!(json["digest"], expected[0].as_str(), "{compression}");
        assert_eq!(
            json["size"].as_u64().unwrap().to_string(),
            expected[1],
            "{compression}"
        );
        assert_eq!(json["diff_id"], expected[2].as_str(), "{compression}");
        assert_eq!(json["mediaType"], media_type);
        assert_eq!(
            json["history"],
            serde_json::json!([{"created_by": "bazel build //app:layers (app)"}])
        );
        assert_eq!(object.len(), 5, "{json}");
    }
}

#[test]
fn metadata_bytes_are_deterministic_and_agree_with_the_descriptor() {
    let a = scratch("img-metadata-a");
    let b = scratch("img-metadata-b");
    let (_, first) = layer(&a, "gzip", &["--threads", "1", "--created-by", "x & <y>"]);
    let (_, second) = layer(&b, "gzip", &["--threads", "4", "--created-by", "x & <y>"]);
    let bytes = fs::read(&first).unwrap();
    assert_eq!(bytes, fs::read(&second).unwrap());
    let text = String::from_utf8(bytes).unwrap();
    // Go's encoder escapes HTML characters: the bytes rules_img's `img hash` writes.
    assert!(
        text.contains("\"created_by\": \"x \\u0026 \\u003cy\\u003e\""),
        "{text}"
    );
    assert!(text.ends_with("}\n"));
    let descriptor: serde_json::Value =
        serde_json::from_slice(&fs::read(a.join("out/layer.json")).unwrap()).unwrap();
    let metadata: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(metadata["digest"], descriptor["digest"]);
    assert_eq!(metadata["size"], descriptor["size"]);
    assert_eq!(metadata["diff_id"], descriptor["diffID"]);
}

#[test]
fn without_created_by_there_is_no_history() {
    let root = scratch("img-metadata-no-history");
    let (_, metadata) = layer(&root, "gzip", &[]);
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&metadata).unwrap()).unwrap();
    let mut keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["diff_id", "digest", "mediaType", "size"]);
}

#[test]
fn created_by_without_img_metadata_is_refused() {
    let root = scratch("img-metadata-created-by-alone");
    write(&root.join("a.txt"), b"a");
    fs::write(
        root.join("manifest.txt"),
        format!("file\tapp/a.txt\t{}\n", root.join("a.txt").display()),
    )
    .unwrap();
    let out = splitter(
        &root,
        &[
            "--manifest",
            "manifest.txt",
            "--output",
            "layer.tgz",
            "--descriptor",
            "layer.json",
            "--created-by",
            "bazel build //x",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(message.contains("--img-metadata"), "{message}");
    assert!(!root.join("layer.tgz").exists() && !root.join("layer.json").exists());
}

#[test]
fn an_img_metadata_that_cannot_be_written_leaves_no_output() {
    let root = scratch("img-metadata-atomic");
    write(&root.join("a.txt"), b"a");
    fs::write(
        root.join("manifest.txt"),
        format!("file\tapp/a.txt\t{}\n", root.join("a.txt").display()),
    )
    .unwrap();
    let out_dir = root.join("out");
    fs::create_dir_all(out_dir.join("layer.img.json")).unwrap();
    let run = |metadata: &str| {
        splitter(
            &root,
            &[
                "--manifest",
                "manifest.txt",
                "--output",
                "out/layer.tgz",
                "--descriptor",
                "out/layer.json",
                "--report",
                "out/report.txt",
                "--img-metadata",
                metadata,
            ],
        )
    };
    // A directory in its place, and the same file as the descriptor: refused before any work.
    for (metadata, mentions) in [
        ("out/layer.img.json", "directory"),
        ("out/layer.json", "its own path"),
    ] {
        let out = run(metadata);
        assert_eq!(out.status.code(), Some(1), "{metadata}");
        let message = stderr(&out);
        assert!(message.contains(mentions), "{message}");
        assert_eq!(dir_names(&out_dir), ["layer.img.json"], "{metadata}");
    }
}
