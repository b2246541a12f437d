//! End-to-end tests of `pyimage-meta`: `check-base` over OCI layouts built here (JSON
//! re-emitted by Python's `json` for the pretty-printed forms) and `version-tag` over
//! workspace status files.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const LABEL: &str = "//app:image";

fn meta(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyimage-meta"))
        .args(args)
        .output()
        .expect("run pyimage-meta")
}

/// A descriptor: (media type, digest, size).
type Desc = (String, String, usize);

/// An OCI layout under construction.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn new(root: &Path) -> Layout {
        let dir = root.join("base");
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout { dir }
    }

    fn blob(&self, media_type: &str, bytes: &[u8]) -> Desc {
        let hex = sha256_hex(bytes);
        fs::write(self.dir.join("blobs/sha256").join(&hex), bytes).unwrap();
        (media_type.to_string(), format!("sha256:{hex}"), bytes.len())
    }

    fn blob_path(&self, d: &Desc) -> PathBuf {
        self.dir
            .join("blobs/sha256")
            .join(d.1.strip_prefix("sha256:").unwrap())
    }

    /// An image config with the usual nested objects.
    fn config(&self, arch: &str, variant: Option<&str>) -> Desc {
        let variant = variant.map_or(String::new(), |v| format!(r#","variant":"{v}""#));
        let config = format!(
            r#"{{"created":"2024-01-01T00:00:00Z","architecture":"{arch}"{variant},"os":"linux","config":{{"Env":["PATH=/usr/bin"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
        );
        self.blob(CONFIG, config.as_bytes())
    }

    /// A config and a manifest naming it.
    fn image(&self, arch: &str, variant: Option<&str>) -> Desc {
        self.manifest(&self.config(arch, variant))
    }

    fn manifest(&self, config: &Desc) -> Desc {
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{},"layers":[]}}"#,
            descriptor(config, None)
        );
        self.blob(MANIFEST, manifest.as_bytes())
    }

    fn index_json(entries: &[(Desc, Option<&str>)]) -> String {
        let manifests: Vec<String> = entries
            .iter()
            .map(|(d, platform)| descriptor(d, *platform))
            .collect();
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{INDEX}","manifests":[{}]}}"#,
            manifests.join(",")
        )
    }

    fn write_index(&self, entries: &[(Desc, Option<&str>)]) {
        fs::write(self.dir.join("index.json"), Self::index_json(entries)).unwrap();
    }

    fn check(&self, out: &Path, arch: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "check-base",
            "--layout",
            self.dir.to_str().unwrap(),
            "--os",
            "linux",
            "--architecture",
            arch,
            "--label",
            LABEL,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        meta(&args)
    }
}

/// A descriptor's JSON; `platform` is `os/arch[/variant]`.
fn descriptor(d: &Desc, platform: Option<&str>) -> String {
    let platform = platform.map_or(String::new(), |p| {
        let parts: Vec<&str> = p.split('/').collect();
        let variant = parts
            .get(2)
            .map_or(String::new(), |v| format!(r#","variant":"{v}""#));
        format!(
            r#","platform":{{"architecture":"{}","os":"{}"{variant}}}"#,
            parts[1], parts[0]
        )
    });
    format!(
        r#"{{"mediaType":"{}","digest":"{}","size":{}{platform}}}"#,
        d.0, d.1, d.2
    )
}

/// `json` re-emitted by Python, indented, keys in the given order.
fn pretty(json: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json,sys; print(json.dumps(json.loads(sys.argv[1]), indent=4))",
        ])
        .arg(json)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts exit status 1, a message mentioning every string in `mentions`, and no output
/// (nor a temporary file) next to where it would have gone.
fn fails(out: &Output, result: &Path, mentions: &[&str]) -> String {
    let message = stderr(out);
    assert_eq!(out.status.code(), Some(1), "expected exit 1: {message}");
    assert!(message.starts_with("pyimage-meta: error: "), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    for m in mentions {
        assert!(
            message.contains(m),
            "error does not mention {m:?}: {message}"
        );
    }
    assert_eq!(
        dir_names(result.parent().unwrap()),
        Vec::<String>::new(),
        "output left behind"
    );
    message
}

fn out_dir(root: &Path) -> PathBuf {
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    out.join("base.check")
}

#[test]
fn several_images_the_first_decides() {
    // rules_oci builds on the first entry of index.json, so that is the one checked.
    let root = scratch("meta-multi");
    let layout = Layout::new(&root);
    let amd64 = layout.image("amd64", None);
    let arm64 = layout.image("arm64", Some("v8"));
    let attestation = layout.manifest(&layout.blob(CONFIG, b"{}"));
    layout.write_index(&[
        (amd64.clone(), Some("linux/amd64")),
        (arm64.clone(), Some("linux/arm64/v8")),
        (attestation.clone(), Some("unknown/unknown")),
    ]);
    let out = out_dir(&root);
    assert_ok(&layout.check(&out, "amd64", &[]));
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        format!("linux/amd64 {}\n", amd64.1)
    );
    assert_eq!(dir_names(out.parent().unwrap()), ["base.check"]);
    fs::remove_file(&out).unwrap();
    let index = layout.dir.join("index.json").display().to_string();
    // A matching image that is not first would not be used: refused, saying why.
    fails(
        &layout.check(&out, "arm64", &[]),
        &out,
        &[
            "base of //app:image is amd64 but `platform` builds for arm64",
            &format!("{index} lists 3 images"),
            &format!("linux/arm64/v8 {}", arm64.1),
            &format!("unknown/unknown {}", attestation.1),
            "builds on the first only",
        ],
    );
    // An entry without a platform is described as such.
    layout.write_index(&[(arm64.clone(), None), (amd64.clone(), Some("linux/amd64"))]);
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[
            &format!("{} (no platform given)", arm64.1),
            "lists 2 images",
        ],
    );
    // A variant the first image does not have.
    layout.write_index(&[(arm64.clone(), Some("linux/arm64/v8"))]);
    assert_ok(&layout.check(&out, "arm64", &["--variant", "v8"]));
    fs::remove_file(&out).unwrap();
    fails(
        &layout.check(&out, "arm64", &["--variant", "v9"]),
        &out,
        &["linux/arm64/v8", "linux/arm64/v9"],
    );
}

#[test]
fn multi_platform_index_is_refused() {
    let root = scratch("meta-nested");
    let layout = Layout::new(&root);
    let amd64 = layout.image("amd64", None);
    let arm64 = layout.image("arm64", None);
    let entries = [
        (amd64.clone(), Some("linux/amd64")),
        (arm64.clone(), Some("linux/arm64")),
    ];
    let out = out_dir(&root);
    // By media type (OCI and Docker), and by content under a media type that says nothing.
    for media_type in [INDEX, DOCKER_LIST, "application/octet-stream"] {
        let nested = layout.blob(media_type, Layout::index_json(&entries).as_bytes());
        layout.write_index(&[(nested, None)]);
        fails(
            &layout.check(&out, "arm64", &[]),
            &out,
            &[
                LABEL,
                "is a multi-platform image",
                &format!("linux/amd64 {}", amd64.1),
                &format!("linux/arm64 {}", arm64.1),
                "`_linux_arm64` repository",
                "oci.pull",
            ],
        );
    }
}

fn empty_base(root: &Path, arch: &str, extra: &[&str]) -> (Output, PathBuf) {
    let out = root.join(format!("empty-{arch}"));
    let mut args = vec![
        "empty-base",
        "--os",
        "linux",
        "--architecture",
        arch,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    (meta(&args), out)
}

#[test]
fn empty_base_is_an_image_of_no_layers_for_the_platform() {
    let root = scratch("meta-empty");
    let (result, layout) = empty_base(&root, "arm", &["--variant", "v7"]);
    assert_ok(&result);
    // Read back with Python's json: every blob named by its SHA-256, the config's
    // platform, no layers, and the fields rules_oci starts an image without base from.
    let check = Command::new("python3")
        .arg("-c")
        .arg(
            r#"
import hashlib, json, os, sys
root = sys.argv[1]
def blob(d):
    data = open(os.path.join(root, "blobs", *d["digest"].split(":")), "rb").read()
    assert hashlib.sha256(data).hexdigest() == d["digest"].split(":")[1], d
    assert len(data) == d["size"], d
    return json.loads(data)
assert json.load(open(os.path.join(root, "oci-layout"))) == {"imageLayoutVersion": "1.0.0"}
index = json.load(open(os.path.join(root, "index.json")))
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
[entry] = index["manifests"]
manifest = blob(entry)
assert manifest["layers"] == [] and manifest["mediaType"] == entry["mediaType"], manifest
config = blob(manifest["config"])
assert list(config) == ["created", "config", "history", "rootfs", "architecture", "os", "variant"], list(config)
assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm", "v7"), config
assert config["rootfs"] == {"type": "layers", "diff_ids": []} and config["history"] == [], config
print("ok")
"#,
        )
        .arg(&layout)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    // The check reads it as what it is.
    let out = out_dir(&root);
    let platform = ["--architecture", "arm", "--variant", "v7"];
    let layout_arg = layout.to_str().unwrap().to_string();
    let out_arg = out.to_str().unwrap().to_string();
    let args = |arch: &[&'static str]| -> Vec<String> {
        let mut a: Vec<String> = ["check-base", "--layout", &layout_arg, "--os", "linux"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(arch.iter().map(|s| s.to_string()));
        a.extend(
            ["--label", LABEL, "--out", &out_arg]
                .iter()
                .map(|s| s.to_string()),
        );
        a
    };
    let meta_s = |a: Vec<String>| meta(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_ok(&meta_s(args(&platform)));
    fs::remove_file(&out).unwrap();
    fails(
        &meta_s(args(&["--architecture", "amd64"])),
        &out,
        &["is arm but `platform` builds for amd64"],
    );
    // Same platform, same bytes; another platform, another image.
    let again = scratch("meta-empty-again");
    let (result, second) = empty_base(&again, "arm", &["--variant", "v7"]);
    assert_ok(&result);
    assert_eq!(tree_digest(&layout), tree_digest(&second));
    let (result, amd64) = empty_base(&again, "amd64", &[]);
    assert_ok(&result);
    assert_ne!(
        fs::read(layout.join("index.json")).unwrap(),
        fs::read(amd64.join("index.json")).unwrap()
    );
    // A directory that holds something already is refused.
    let (result, _) = empty_base(&again, "amd64", &[]);
    assert_eq!(result.status.code(), Some(1));
    assert!(
        stderr(&result).contains("is not empty"),
        "{}",
        stderr(&result)
    );
}

/// Every file under `dir` with its content, sorted.
fn tree_digest(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn single_platform_base_of_the_wrong_architecture() {
    let root = scratch("meta-wrong-arch");
    let layout = Layout::new(&root);
    let arm64 = layout.image("arm64", None);
    // A single-image layout: one entry, no platform; the config tells.
    layout.write_index(&[(arm64.clone(), None)]);
    let out = out_dir(&root);
    let message = fails(&layout.check(&out, "amd64", &[]), &out, &[]);
    assert_eq!(
        message.trim_end(),
        "pyimage-meta: error: base of //app:image is arm64 but `platform` builds for amd64: use a base image for linux/amd64, or set `platform` to the base's"
    );
    // The index's platform is not trusted over the config.
    layout.write_index(&[(arm64, Some("linux/amd64"))]);
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &["is arm64 but `platform` builds for amd64"],
    );
}

#[test]
fn config_with_nested_objects_before_architecture() {
    let root = scratch("meta-config");
    let layout = Layout::new(&root);
    // Labels and history that mention an architecture, all before the real one.
    let config = r#"{
        "created": "2024-01-01T00:00:00Z",
        "author": "someone",
        "config": {"Labels": {"architecture": "arm64", "org.opencontainers.image.title": "x"},
                   "Env": ["ARCH=arm64"], "Cmd": ["/bin/sh"]},
        "history": [{"created_by": "set architecture", "comment": "{\"architecture\":\"arm64\"}"}],
        "annotations": {"architecture": "arm64"},
        "rootfs": {"type": "layers", "diff_ids": []},
        "architecture": "amd64",
        "os": "linux"
    }"#;
    let config = layout.blob(CONFIG, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{},"layers":[],"annotations":{{"org.opencontainers.image.base.name":"x","nested":"{{\"architecture\":\"arm64\"}}"}}}}"#,
        descriptor(&config, None)
    );
    let manifest = layout.blob(MANIFEST, manifest.as_bytes());
    layout.write_index(&[(manifest.clone(), None)]);
    let out = out_dir(&root);
    assert_ok(&layout.check(&out, "amd64", &[]));
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        format!("linux/amd64 {}\n", manifest.1)
    );
    fs::remove_file(&out).unwrap();
    fails(
        &layout.check(&out, "arm64", &[]),
        &out,
        &["is amd64 but `platform` builds for arm64"],
    );
}

#[test]
fn pretty_printed_and_compact_json_read_the_same() {
    let root = scratch("meta-pretty");
    let layout = Layout::new(&root);
    let compact_amd = layout.image("amd64", None);
    let compact_arm = layout.image("arm64", None);
    // The same documents, indented by Python, as separate blobs.
    let pretty_blob = |d: &Desc| {
        let text = pretty(&fs::read_to_string(layout.blob_path(d)).unwrap());
        layout.blob(&d.0, text.as_bytes())
    };
    let pretty_config = pretty_blob(&layout.config("amd64", None));
    let pretty_amd = pretty_blob(&layout.manifest(&pretty_config));
    let out = out_dir(&root);
    for (amd, index_text) in [
        (
            &compact_amd,
            Layout::index_json(&[
                (compact_amd.clone(), Some("linux/amd64")),
                (compact_arm.clone(), Some("linux/arm64")),
            ]),
        ),
        (
            &pretty_amd,
            pretty(&Layout::index_json(&[
                (pretty_amd.clone(), Some("linux/amd64")),
                (compact_arm.clone(), Some("linux/arm64")),
            ])),
        ),
    ] {
        assert!(index_text.contains('\n') == (amd == &pretty_amd));
        fs::write(layout.dir.join("index.json"), &index_text).unwrap();
        assert_ok(&layout.check(&out, "amd64", &[]));
        assert_eq!(
            fs::read_to_string(&out).unwrap(),
            format!("linux/amd64 {}\n", amd.1)
        );
    }
}

#[test]
fn missing_and_damaged_blobs() {
    let root = scratch("meta-blobs");
    let layout = Layout::new(&root);
    let amd64 = layout.image("amd64", None);
    let arm64 = layout.image("arm64", None);
    layout.write_index(&[
        (amd64.clone(), Some("linux/amd64")),
        (arm64.clone(), Some("linux/arm64")),
    ]);
    let out = out_dir(&root);
    let index = layout.dir.join("index.json").display().to_string();

    // The manifest is missing.
    let manifest = layout.blob_path(&amd64);
    let saved = fs::read(&manifest).unwrap();
    fs::remove_file(&manifest).unwrap();
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[
            &index,
            &amd64.1,
            &manifest.display().to_string(),
            "does not exist",
        ],
    );
    // Its content does not match its digest.
    let mut tampered = saved.clone();
    tampered[10] ^= 1;
    fs::write(&manifest, &tampered).unwrap();
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[&manifest.display().to_string(), "SHA-256", "damaged"],
    );
    // Its size does not match the descriptor.
    fs::write(&manifest, [&saved[..], b" "].concat()).unwrap();
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[&manifest.display().to_string(), "descriptor says"],
    );
    fs::write(&manifest, &saved).unwrap();

    // The config is missing: the message names the manifest that names it.
    let text = String::from_utf8(saved).unwrap();
    let hex = text.split("sha256:").nth(1).unwrap()[..64].to_string();
    let config = layout.dir.join("blobs/sha256").join(&hex);
    fs::remove_file(&config).unwrap();
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[&manifest.display().to_string(), &hex, "does not exist"],
    );
    // Another image is unaffected.
    layout.write_index(&[(arm64.clone(), Some("linux/arm64"))]);
    assert_ok(&layout.check(&out, "arm64", &[]));

    // No index.json at all.
    fs::remove_file(&out).unwrap();
    fs::remove_file(layout.dir.join("index.json")).unwrap();
    fails(&layout.check(&out, "amd64", &[]), &out, &[&index]);
}

#[test]
fn bad_digest_strings_are_refused() {
    let root = scratch("meta-digest");
    let layout = Layout::new(&root);
    let amd64 = layout.image("amd64", None);
    // Something a path escape would reach.
    fs::write(root.join("evil"), "{}").unwrap();
    let out = out_dir(&root);
    let index = layout.dir.join("index.json").display().to_string();
    let hex = amd64.1.strip_prefix("sha256:").unwrap();
    for bad in [
        "sha256:../../evil".to_string(),
        format!("sha512:{hex}{hex}"),
        format!("sha256:{}", hex.to_uppercase()),
        format!("sha256:{}", &hex[1..]),
        hex.to_string(),
    ] {
        let entry = ((amd64.0.clone(), bad.clone(), amd64.2), Some("linux/amd64"));
        layout.write_index(&[entry, (amd64.clone(), Some("linux/arm64"))]);
        fails(
            &layout.check(&out, "amd64", &[]),
            &out,
            &[&index, "manifests[0].digest", &bad, "sha256:"],
        );
    }
    // In a manifest's config descriptor too.
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{{"mediaType":"{CONFIG}","digest":"sha256:../../../evil","size":2}},"layers":[]}}"#
    );
    let manifest = layout.blob(MANIFEST, manifest.as_bytes());
    layout.write_index(&[(manifest.clone(), None)]);
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[
            &layout.blob_path(&manifest).display().to_string(),
            "config.digest",
            "sha256:../../../evil",
        ],
    );
}

#[test]
fn malformed_json_names_the_file() {
    let root = scratch("meta-malformed");
    let layout = Layout::new(&root);
    let out = out_dir(&root);
    let index = layout.dir.join("index.json");
    fs::write(&index, "{\"schemaVersion\": 2,\n \"manifests\": [\n").unwrap();
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[&index.display().to_string(), "image index", "line 3"],
    );
    // Valid JSON, not an index.
    fs::write(&index, r#"{"schemaVersion": 2, "manifests": {"a": 1}}"#).unwrap();
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[&index.display().to_string(), "image index"],
    );
    // A config blob that is not JSON (its digest is right).
    let config = layout.blob(CONFIG, b"{\"architecture\": amd64}");
    let manifest = layout.manifest(&config);
    layout.write_index(&[(manifest, None)]);
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[
            &layout.blob_path(&config).display().to_string(),
            "image config",
            "line 1",
        ],
    );
    // A config without `architecture`.
    let config = layout.blob(
        CONFIG,
        br#"{"os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}"#,
    );
    let manifest = layout.manifest(&config);
    layout.write_index(&[(manifest, None)]);
    fails(
        &layout.check(&out, "amd64", &[]),
        &out,
        &[
            &layout.blob_path(&config).display().to_string(),
            "architecture",
        ],
    );
}

#[test]
fn check_base_flags() {
    let root = scratch("meta-flags");
    let layout = Layout::new(&root);
    layout.write_index(&[(layout.image("amd64", None), None)]);
    let out = out_dir(&root);
    // Only the operating systems the rules build for.
    let mut args: Vec<String> = ["check-base", "--layout", layout.dir.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(
        [
            "--os",
            "windows",
            "--architecture",
            "amd64",
            "--label",
            LABEL,
            "--out",
        ]
        .map(String::from),
    );
    args.push(out.display().to_string());
    let result = meta(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(stderr(&result).contains("linux"), "{}", stderr(&result));
    assert!(!out.exists());
    // Through a parameter file, as Bazel may pass them.
    let params = root.join("params");
    fs::write(
        &params,
        format!(
            "check-base\n--layout\n{}\n--os\nlinux\n--architecture\namd64\n--label\n{LABEL}\n--out\n{}\n",
            layout.dir.display(),
            out.display()
        ),
    )
    .unwrap();
    assert_ok(&meta(&[&format!("@{}", params.display())]));
    assert!(fs::read_to_string(&out)
        .unwrap()
        .starts_with("linux/amd64 sha256:"));
}

fn version_tag(root: &Path, status: &str, key: &str, prefix: Option<&str>) -> (Output, PathBuf) {
    let file = root.join("stable-status.txt");
    fs::write(&file, status).unwrap();
    let out_dir = root.join("out");
    let _ = fs::remove_dir_all(&out_dir);
    fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("tags.txt");
    let mut args = vec![
        "version-tag",
        "--status",
        file.to_str().unwrap(),
        "--key",
        key,
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(prefix) = prefix {
        args.extend(["--prefix", prefix]);
    }
    (meta(&args), out)
}

#[test]
fn version_tag_reads_the_key_exactly() {
    let root = scratch("meta-tag");
    let status =
        "BUILD_HOST builder\nSTABLE_VERSION_MAJOR 1\nSTABLE_VERSION v1.2.3\nSTABLE_VERSIONS many\n";
    let (result, out) = version_tag(&root, status, "STABLE_VERSION", Some("latest\n"));
    assert_ok(&result);
    assert_eq!(fs::read(&out).unwrap(), b"latest\nv1.2.3\n");
    let (result, out) = version_tag(&root, status, "STABLE_VERSION_MAJOR", None);
    assert_ok(&result);
    assert_eq!(fs::read(&out).unwrap(), b"1\n");
    // A prefix of keys present is not a key.
    let (result, out) = version_tag(&root, status, "STABLE", Some("latest\nstable\n"));
    assert_ok(&result);
    assert_eq!(fs::read(&out).unwrap(), b"latest\nstable\n");
    // A key absent and no prefix: an empty file.
    let (result, out) = version_tag(&root, status, "OTHER", None);
    assert_ok(&result);
    assert_eq!(fs::read(&out).unwrap(), b"");
    // A key whose value is empty counts as absent.
    let (result, out) = version_tag(&root, "STABLE_VERSION \n", "STABLE_VERSION", Some("x\n"));
    assert_ok(&result);
    assert_eq!(fs::read(&out).unwrap(), b"x\n");
}

#[test]
fn version_tag_from_a_crlf_status_file() {
    let root = scratch("meta-tag-crlf");
    let status = "BUILD_HOST builder\r\nSTABLE_VERSION v2.0\r\n";
    let (result, out) = version_tag(&root, status, "STABLE_VERSION", None);
    assert_ok(&result);
    assert_eq!(fs::read(&out).unwrap(), b"v2.0\n");
}

#[test]
fn version_tag_refuses_values_that_are_not_tags() {
    let root = scratch("meta-tag-bad");
    for (value, shown) in [
        ("v1 beta", "\"v1 beta\""),
        (" v1", "\" v1\""),
        ("v1+build", "\"v1+build\""),
        (".hidden", "\".hidden\""),
        (&"a".repeat(129), &format!("\"{}\"", "a".repeat(129))),
    ] {
        let (result, out) = version_tag(
            &root,
            &format!("STABLE_VERSION {value}\n"),
            "STABLE_VERSION",
            Some("latest\n"),
        );
        fails(
            &result,
            &out,
            &[
                "STABLE_VERSION",
                shown,
                "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}",
                "stable-status.txt",
            ],
        );
    }
    // A missing status file.
    let out = root.join("out/tags.txt");
    let result = meta(&[
        "version-tag",
        "--status",
        root.join("nope.txt").to_str().unwrap(),
        "--key",
        "STABLE_VERSION",
        "--out",
        out.to_str().unwrap(),
    ]);
    fails(&result, &out, &["nope.txt"]);
}

#[test]
fn version_tag_from_a_define_is_held_to_the_same_rule() {
    let root = scratch("meta-tag-define");
    fs::create_dir_all(root.join("out")).unwrap();
    let out = root.join("out/tags.txt");
    let run = |define: &str| {
        meta(&[
            "version-tag",
            "--define",
            define,
            "--prefix",
            "latest\n",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    assert_ok(&run("VERSION=v1.2.3"));
    assert_eq!(fs::read_to_string(&out).unwrap(), "latest\nv1.2.3\n");
    fs::remove_file(&out).unwrap();
    for bad in ["VERSION=v1 beta", "VERSION=", "VERSION=-rc"] {
        let value = bad.split_once('=').unwrap().1;
        fails(
            &run(bad),
            &out,
            &[
                &format!("--define={bad}: {value:?} is not an OCI tag"),
                "--define=VERSION=v1.2.3",
            ],
        );
    }
    // One source only.
    let status = root.join("stable-status.txt");
    fs::write(&status, "STABLE_VERSION v2\n").unwrap();
    let both = meta(&[
        "version-tag",
        "--define",
        "VERSION=v1",
        "--status",
        status.to_str().unwrap(),
        "--key",
        "STABLE_VERSION",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    let neither = meta(&["version-tag", "--out", out.to_str().unwrap()]);
    assert_eq!(neither.status.code(), Some(2), "{}", stderr(&neither));
    assert!(!out.exists());
}

/// A base of 120 layers takes 7 more (127 in all, the most Docker and containerd run)
/// and refuses an eighth, counting what the image adds on top.
#[test]
fn the_layer_limit_counts_the_base_and_what_goes_on_top() {
    let root = scratch("meta-layers");
    let layout = Layout::new(&root);
    let config = layout.config("amd64", None);
    let layers: Vec<String> = (0..120)
        .map(|i| {
            let layer = layout.blob(
                "application/vnd.oci.image.layer.v1.tar",
                format!("layer {i}").as_bytes(),
            );
            descriptor(&layer, None)
        })
        .collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{},"layers":[{}]}}"#,
        descriptor(&config, None),
        layers.join(",")
    );
    let manifest = layout.blob(MANIFEST, manifest.as_bytes());
    layout.write_index(&[(manifest, None)]);
    let out = out_dir(&root);
    assert_ok(&layout.check(&out, "amd64", &["--layers-above", "7"]));
    fs::remove_file(&out).unwrap();
    fails(
        &layout.check(&out, "amd64", &["--layers-above", "8"]),
        &out,
        &[
            LABEL,
            "128 layers, 120 of its base and 8 on top",
            "more than 127 layers",
            "split_deps = False",
        ],
    );
}

/// `layout-digest`: the one entry of index.json, as a push sends it; refused with
/// several entries or a digest that cannot be a blob name.
#[test]
fn layout_digest_is_the_one_entry() {
    let root = scratch("meta-digest");
    let layout = Layout::new(&root);
    let image = layout.image("amd64", None);
    layout.write_index(&[(image.clone(), None)]);
    let out = out_dir(&root).with_file_name("digest.txt");
    let run = |out: &Path| {
        meta(&[
            "layout-digest",
            "--layout",
            layout.dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    assert_ok(&run(&out));
    assert_eq!(fs::read_to_string(&out).unwrap(), format!("{}\n", image.1));
    fs::remove_file(&out).unwrap();
    layout.write_index(&[(image.clone(), None), (layout.image("arm64", None), None)]);
    fails(&run(&out), &out, &["index.json", "lists 2 manifests"]);
    fs::write(
        layout.dir.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{MANIFEST}","digest":"sha256:ABC","size":1}}]}}"#),
    )
    .unwrap();
    let result = run(&out);
    assert!(!result.status.success());
    assert!(!out.exists());
}

fn sbom_referrer(image: &Path, sbom: &Path, out: &Path) -> Output {
    meta(&[
        "sbom-referrer",
        "--image",
        image.to_str().unwrap(),
        "--sbom",
        sbom.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

/// Python's reading of a referrer layout: every blob's SHA-256 and size against its
/// descriptor, then the manifest's artifact type, config, layer and subject.
const CHECK_REFERRER: &str = r#"
import hashlib, json, os, sys
layout, sbom, subject_digest, subject_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def blob(d):
    data = open(os.path.join(layout, "blobs", *d["digest"].split(":")), "rb").read()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == d["digest"], d
    assert len(data) == d["size"], d
    return data
assert json.load(open(os.path.join(layout, "oci-layout"))) == {"imageLayoutVersion": "1.0.0"}
index = json.load(open(os.path.join(layout, "index.json")))
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json", index
[entry] = index["manifests"]
assert entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json", entry
assert entry["artifactType"] == "application/spdx+json", entry
m = json.loads(blob(entry))
assert m["schemaVersion"] == 2 and m["mediaType"] == entry["mediaType"], m
assert m["artifactType"] == "application/spdx+json", m
# The SBOM is the config and the one layer (see write_sbom_referrer).
assert m["config"]["mediaType"] == "application/spdx+json", m
assert blob(m["config"]) == open(sbom, "rb").read()
[layer] = m["layers"]
assert layer["mediaType"] == "application/spdx+json", layer
assert layer["annotations"] == {"org.opencontainers.image.title": "sbom.spdx.json"}, layer
assert blob(layer) == open(sbom, "rb").read()
assert m["subject"] == {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject_digest, "size": subject_size}, m
assert sorted(os.listdir(os.path.join(layout, "blobs", "sha256"))) == sorted(
    d["digest"].split(":")[1] for d in [entry, layer])
"#;

/// `sbom-referrer`: an OCI artifact of the SBOM whose subject is the image's manifest,
/// read back by Python; the same inputs give the same bytes; bad inputs write nothing.
#[test]
fn sbom_referrer_refers_to_the_image() {
    let root = scratch("meta-referrer");
    let layout = Layout::new(&root);
    let image = layout.image("amd64", None);
    layout.write_index(&[(image.clone(), None)]);
    let sbom = root.join("image.spdx.json");
    fs::write(&sbom, r#"{"spdxVersion":"SPDX-2.3","name":"//app:image"}"#).unwrap();
    let out = root.join("referrer");
    assert_ok(&sbom_referrer(&layout.dir, &sbom, &out));
    let check = Command::new("python3")
        .args(["-c", CHECK_REFERRER])
        .arg(&out)
        .arg(&sbom)
        .arg(&image.1)
        .arg(image.2.to_string())
        .output()
        .expect("python3");
    assert!(check.status.success(), "{}", stderr(&check));

    let again = root.join("again");
    assert_ok(&sbom_referrer(&layout.dir, &sbom, &again));
    assert_eq!(tree_digest(&out), tree_digest(&again));

    // Not empty: refused, nothing touched.
    let before = tree_digest(&out);
    let result = sbom_referrer(&layout.dir, &sbom, &out);
    assert_eq!(result.status.code(), Some(1));
    assert!(
        stderr(&result).contains("is not empty"),
        "{}",
        stderr(&result)
    );
    assert_eq!(tree_digest(&out), before);

    // Each bad input names the file, exits 1 and writes nothing.
    let bad = |name: &str, image_dir: &Path, sbom: &Path, mentions: &[&str]| {
        let out = root.join(name).join("layout");
        let result = sbom_referrer(image_dir, sbom, &out);
        let message = stderr(&result);
        assert_eq!(result.status.code(), Some(1), "{name}: {message}");
        assert!(!message.contains("panicked"), "{message}");
        for m in mentions {
            assert!(message.contains(m), "{name}: no {m:?} in {message}");
        }
        assert!(!out.exists(), "{name}: output left behind");
    };
    let not_json = root.join("not.json");
    fs::write(&not_json, "<html>").unwrap();
    bad(
        "not-json",
        &layout.dir,
        &not_json,
        &["not.json", "is not JSON"],
    );
    bad(
        "no-sbom",
        &layout.dir,
        &root.join("missing.json"),
        &["missing.json"],
    );
    bad(
        "no-image",
        &root.join("nowhere"),
        &sbom,
        &["nowhere/index.json"],
    );
    let two = Layout::new(&root.join("two"));
    two.write_index(&[
        (two.image("amd64", None), None),
        (two.image("arm64", None), None),
    ]);
    bad(
        "two-images",
        &two.dir,
        &sbom,
        &["index.json", "lists 2 manifests"],
    );
    let config = Layout::new(&root.join("config"));
    let c = config.config("amd64", None);
    config.write_index(&[(c, None)]);
    bad(
        "config-entry",
        &config.dir,
        &sbom,
        &["not an image manifest or index"],
    );
    let evil = Layout::new(&root.join("evil"));
    fs::write(
        evil.dir.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{MANIFEST}","digest":"sha256:../../etc","size":1}}]}}"#),
    )
    .unwrap();
    bad(
        "evil-digest",
        &evil.dir,
        &sbom,
        &["index.json", "not a SHA-256 digest"],
    );
}
