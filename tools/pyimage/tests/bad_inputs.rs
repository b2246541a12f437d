//! Every kind of bad input ends with exit status 1, a message naming the offending path,
//! and no output file left behind (not even a temporary one).

mod common;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

struct Case {
    root: PathBuf,
    out: PathBuf,
}

impl Case {
    fn new(name: &str) -> Case {
        let root = scratch(name);
        let out = root.join("out");
        fs::create_dir_all(&out).unwrap();
        write(&root.join("ok.txt"), b"fine\n");
        Case { root, out }
    }

    fn path(&self, rel: &str) -> String {
        self.root.join(rel).display().to_string()
    }

    /// Runs with `manifest` (bytes) and `extra` flags; asserts failure naming every
    /// string in `mentions`, and an empty output directory.
    fn fails(&self, manifest: &[u8], extra: &[&str], mentions: &[&str]) -> String {
        let message = self.fails_with(manifest, extra, None);
        for m in mentions {
            assert!(
                message.contains(m),
                "error does not mention {m:?}: {message}"
            );
        }
        message
    }

    fn fails_with(&self, manifest: &[u8], extra: &[&str], wrapper: Option<&[&str]>) -> String {
        let blob = self.out.join("layer.tgz").display().to_string();
        let descriptor = self.out.join("layer.json").display().to_string();
        let mut args = vec!["--output", &blob, "--descriptor", &descriptor];
        args.extend(extra);
        self.fails_args(manifest, &args, wrapper)
    }

    /// Runs with `manifest` and exactly `args` after `--manifest`; asserts failure.
    fn fails_args(&self, manifest: &[u8], extra: &[&str], wrapper: Option<&[&str]>) -> String {
        fs::write(self.root.join("manifest.txt"), manifest).unwrap();
        let mut args = vec!["--manifest".to_string(), self.path("manifest.txt")];
        args.extend(extra.iter().map(|s| s.to_string()));
        let output = match wrapper {
            None => splitter(
                &self.root,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            ),
            Some(wrapper) => Command::new(wrapper[0])
                .args(&wrapper[1..])
                .arg(env!("CARGO_BIN_EXE_layer-splitter"))
                .args(&args)
                .current_dir(&self.root)
                .output()
                .unwrap(),
        };
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "expected exit 1: {message}");
        assert!(!message.contains("panicked"), "{message}");
        assert!(message.starts_with("layer-splitter: error: "), "{message}");
        assert_eq!(
            dir_names(&self.out),
            Vec::<String>::new(),
            "outputs left behind"
        );
        message
    }
}

#[test]
fn missing_source() {
    let c = Case::new("missing");
    let src = c.path("nope.txt");
    c.fails(
        format!("file\tapp/x\t{src}\n").as_bytes(),
        &[],
        &["app/x", &src, "does not exist"],
    );
    c.fails(
        format!("tree\tapp/t\t{src}\n").as_bytes(),
        &[],
        &["app/t", &src],
    );
}

#[test]
fn unreadable_source() {
    let c = Case::new("unreadable");
    let secret = c.root.join("secret.txt");
    write(&secret, b"secret");
    chmod(&secret, 0o000);
    let manifest = format!("file\tapp/secret\t{}\n", secret.display());
    // Root reads everything; run as an unprivileged user where we are root.
    let is_root = String::from_utf8(sh("id -u")).unwrap().trim() == "0";
    let message = if is_root {
        chmod(&c.root, 0o755);
        chmod(&c.out, 0o777);
        let mut dir = c.root.clone();
        while let Some(parent) = dir.parent() {
            // Every ancestor must be traversable by the unprivileged user.
            let mode = fs::metadata(parent).unwrap().permissions();
            assert!(
                std::os::unix::fs::PermissionsExt::mode(&mode) & 0o001 != 0,
                "{} not traversable",
                parent.display()
            );
            dir = parent.to_path_buf();
            if dir == Path::new("/") {
                break;
            }
        }
        fs::write(c.root.join("manifest.txt"), &manifest).unwrap();
        c.fails_with(
            manifest.as_bytes(),
            &[],
            Some(&[
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ]),
        )
    } else {
        c.fails(manifest.as_bytes(), &[], &[])
    };
    assert!(
        message.contains("app/secret") && message.contains("secret.txt"),
        "{message}"
    );
    assert!(message.contains("ermission denied"), "{message}");
}

#[test]
fn dangling_symlink() {
    let c = Case::new("dangling");
    let link = c.root.join("link");
    symlink(c.root.join("gone"), &link).unwrap();
    c.fails(
        format!("file\tapp/link\t{}\n", link.display()).as_bytes(),
        &[],
        &[
            "app/link",
            &link.display().to_string(),
            "gone",
            "does not exist",
        ],
    );
    // Inside a tree too.
    fs::create_dir_all(c.root.join("tree")).unwrap();
    symlink(c.root.join("gone"), c.root.join("tree/bad")).unwrap();
    c.fails(
        format!("tree\topt\t{}\n", c.path("tree")).as_bytes(),
        &[],
        &["opt/bad", "gone"],
    );
}

#[test]
fn symlink_loop() {
    let c = Case::new("loop");
    symlink(c.root.join("b"), c.root.join("a")).unwrap();
    symlink(c.root.join("a"), c.root.join("b")).unwrap();
    c.fails(
        format!("file\tapp/a\t{}\n", c.path("a")).as_bytes(),
        &[],
        &["app/a", &c.path("a"), "loop"],
    );
    // A directory link back to an ancestor inside a tree.
    fs::create_dir_all(c.root.join("tree/sub")).unwrap();
    symlink(c.root.join("tree"), c.root.join("tree/sub/up")).unwrap();
    c.fails(
        format!("tree\topt\t{}\n", c.path("tree")).as_bytes(),
        &[],
        &["opt/sub/up", "loop"],
    );
}

#[test]
fn dest_escaping_the_root() {
    let c = Case::new("escape-dest");
    c.fails(
        format!("file\tapp/../../etc/passwd\t{}\n", c.path("ok.txt")).as_bytes(),
        &[],
        &["line 1", "app/../../etc/passwd", ".."],
    );
    c.fails(b"dir\t/\n", &[], &["line 1", "root"]);
}

#[test]
fn symlink_escaping_the_root() {
    let c = Case::new("escape-link");
    c.fails(
        b"symlink\tapp/bin/x\t../../../etc/passwd\n",
        &[],
        &["app/bin/x", "../../../etc/passwd", "outside the image"],
    );
    c.fails(b"symlink\tx\t/../etc\n", &[], &["x", "outside the image"]);
}

#[test]
fn symlink_to_a_host_path() {
    let c = Case::new("host-link");
    // Absolute targets under the working directory are build-machine paths.
    let target = c.path("ok.txt");
    c.fails(
        format!("symlink\tapp/x\t{target}\n").as_bytes(),
        &[],
        &["app/x", &target, "build machine"],
    );
}

#[test]
fn conflicting_entries() {
    let c = Case::new("conflict");
    write(&c.root.join("other.txt"), b"different\n");
    write(&c.root.join("same.txt"), b"fine\n");
    let ok = c.path("ok.txt");
    let other = c.path("other.txt");
    c.fails(
        format!("file\tapp/x\t{ok}\nfile\tapp/x\t{other}\n").as_bytes(),
        &[],
        &["app/x", "line 1", "line 2", &other],
    );
    c.fails(
        format!("file\tapp/x\t{ok}\nsymlink\tapp/x\ty\n").as_bytes(),
        &[],
        &["app/x"],
    );
    c.fails(
        format!("file\tapp/x\t{ok}\nfile\tapp/x\t{ok}\tmode=0755\n").as_bytes(),
        &[],
        &["app/x"],
    );
    c.fails(b"symlink\tapp/x\ta\nsymlink\tapp/x\tb\n", &[], &["app/x"]);
    // Same content merges silently: this one succeeds.
    fs::write(
        c.root.join("manifest.txt"),
        format!(
            "file\tapp/x\t{ok}\nfile\t/app/x\t{}\ndir\tapp\n",
            c.path("same.txt")
        ),
    )
    .unwrap();
    let out = splitter(
        &c.root,
        &[
            "--manifest",
            &c.path("manifest.txt"),
            "--output",
            &c.root.join("merged.tgz").display().to_string(),
            "--descriptor",
            &c.root.join("merged.json").display().to_string(),
        ],
    );
    assert_ok(&out);
}

#[test]
fn file_and_directory_clash() {
    let c = Case::new("clash");
    let ok = c.path("ok.txt");
    c.fails(
        format!("file\tapp/x\t{ok}\ndir\tapp/x\n").as_bytes(),
        &[],
        &["app/x"],
    );
    c.fails(
        format!("file\tapp/x\t{ok}\nfile\tapp/x/y\t{ok}\n").as_bytes(),
        &[],
        &["app/x", "app/x/y", "directory"],
    );
    c.fails(
        format!("symlink\tapp/lib\tlib64\nfile\tapp/lib/z\t{ok}\n").as_bytes(),
        &[],
        &["app/lib", "app/lib/z"],
    );
    c.fails(
        format!("file\tapp/d\t{}\n", c.root.display()).as_bytes(),
        &[],
        &["app/d", "directory", "tree"],
    );
}

#[test]
fn special_files() {
    let c = Case::new("special");
    let fifo = c.root.join("fifo");
    sh(&format!("mkfifo '{}'", fifo.display()));
    c.fails(
        format!("file\tapp/fifo\t{}\n", fifo.display()).as_bytes(),
        &[],
        &["app/fifo", "fifo"],
    );
    c.fails(
        b"file\tapp/null\t/dev/null\n",
        &[],
        &["app/null", "/dev/null", "character device"],
    );
    fs::create_dir_all(c.root.join("tree")).unwrap();
    sh(&format!("mkfifo '{}'", c.root.join("tree/pipe").display()));
    c.fails(
        format!("tree\topt\t{}\n", c.path("tree")).as_bytes(),
        &[],
        &["opt/pipe", "fifo"],
    );
}

#[test]
fn non_utf8_names() {
    let c = Case::new("utf8");
    c.fails(
        b"dir\tok\nfile\tapp/\xff\xfe\tx\n",
        &[],
        &["line 2", "app/\u{fffd}\u{fffd}", "UTF-8"],
    );
    let tree = c.root.join("tree");
    fs::create_dir_all(&tree).unwrap();
    let bad = tree.join(std::ffi::OsStr::from_bytes(b"caf\xe9.py"));
    fs::write(&bad, b"x").unwrap();
    c.fails(
        format!("tree\topt\t{}\n", tree.display()).as_bytes(),
        &[],
        &["caf\u{fffd}.py", "UTF-8"],
    );
}

#[test]
fn control_characters_in_tree_names() {
    let c = Case::new("control");
    let tree = c.root.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("a\tb"), b"x").unwrap();
    c.fails(
        format!("tree\topt\t{}\n", tree.display()).as_bytes(),
        &[],
        &["a\\tb", "TAB"],
    );
    fs::remove_file(tree.join("a\tb")).unwrap();
    fs::write(tree.join("new\nline"), b"x").unwrap();
    c.fails(
        format!("tree\topt\t{}\n", tree.display()).as_bytes(),
        &[],
        &["newline"],
    );
}

#[test]
fn malformed_manifest_lines() {
    let c = Case::new("syntax");
    c.fails(b"dir\tok\ncopy\ta\tb\n", &[], &["line 2", "copy"]);
    c.fails(
        b"file\tonly-dest\n",
        &[],
        &["line 1", "file<TAB>dest<TAB>src"],
    );
    c.fails(
        format!("file\tapp/x\t{}\tmode=u+x\n", c.path("ok.txt")).as_bytes(),
        &[],
        &["line 1", "u+x", "octal"],
    );
    c.fails(
        format!("file\tapp/x\t{}\tu+x\n", c.path("ok.txt")).as_bytes(),
        &[],
        &["line 1", "4 TAB-separated fields", "key=value"],
    );
    c.fails(
        format!("file\tapp/x\t{}\towner=root\n", c.path("ok.txt")).as_bytes(),
        &[],
        &[
            "line 1",
            "unknown attribute \"owner\"",
            "mode, uid, gid, uname or gname",
        ],
    );
}

#[test]
fn empty_manifest() {
    let c = Case::new("empty");
    c.fails(
        b"# only comments\n\n",
        &[],
        &["manifest.txt", "--allow-empty"],
    );
}

#[test]
fn bad_output_options() {
    let c = Case::new("bad-outputs");
    let ok = c.path("ok.txt");
    let manifest = format!("file\tapp/x\t{ok}\n");
    let blob = c.out.join("layer.tgz").display().to_string();
    let json = c.out.join("layer.json").display().to_string();
    let fails = |args: &[&str], mentions: &[&str]| {
        let message = c.fails_args(manifest.as_bytes(), args, None);
        for m in mentions {
            assert!(
                message.contains(m),
                "error does not mention {m:?}: {message}"
            );
        }
    };
    fails(
        &["--output", &blob, "--descriptor", &blob],
        &[&blob, "--output", "--descriptor", "its own path"],
    );
    fails(
        &["--output", &blob, "--descriptor", &json, "--report", &json],
        &[&json, "--descriptor", "--report", "its own path"],
    );
    c.fails(
        manifest.as_bytes(),
        &["--name", ""],
        &["--name", "\"layer\""],
    );
    c.fails(
        manifest.as_bytes(),
        &["--name", "a\nb"],
        &["--name", "control characters"],
    );
    c.fails(
        manifest.as_bytes(),
        &["--compression", "gzip", "--level", "13"],
        &["--level 13", "0 to 12"],
    );
}

#[test]
fn a_failing_output_leaves_no_other_output() {
    let c = Case::new("atomic");
    let ok = c.path("ok.txt");
    let manifest = format!("file\ta/x\t{ok}\nfile\tb/y\t{ok}\n");
    let blob = c.out.join("layer.tgz").display().to_string();
    let missing = c.root.join("missing-dir/layer.json").display().to_string();
    let message = c.fails_args(
        manifest.as_bytes(),
        &["--output", &blob, "--descriptor", &missing],
        None,
    );
    assert!(message.contains("missing-dir/"), "{message}");
    let missing = c.root.join("missing-dir/report.txt");
    let message = c.fails(
        manifest.as_bytes(),
        &["--report", &missing.display().to_string()],
        &["missing-dir", "report.txt"],
    );
    assert!(message.contains("writable"), "{message}");
}

#[test]
fn link_source_that_is_not_a_symlink() {
    let c = Case::new("link-not-symlink");
    let ok = c.path("ok.txt");
    c.fails(
        format!("link\tapp/x\t{ok}\n").as_bytes(),
        &[],
        &["app/x", &ok, "is not a symlink; use a `file` entry"],
    );
    c.fails(
        format!("link\tapp/x\t{}\n", c.root.display()).as_bytes(),
        &[],
        &["app/x", "directory", "`tree` entry"],
    );
    c.fails(
        format!("link\tapp/x\t{}\n", c.path("missing")).as_bytes(),
        &[],
        &["app/x", &c.path("missing"), "does not exist"],
    );
}

#[test]
fn link_target_escaping_the_root_or_on_the_host() {
    let c = Case::new("link-escape");
    symlink("../../../etc/passwd", c.root.join("escape")).unwrap();
    c.fails(
        format!("link\tapp/bin/x\t{}\n", c.path("escape")).as_bytes(),
        &[],
        &["app/bin/x", "../../../etc/passwd", "outside the image"],
    );
    let host = c.path("ok.txt");
    symlink(&host, c.root.join("host")).unwrap();
    c.fails(
        format!("link\tapp/x\t{}\n", c.path("host")).as_bytes(),
        &[],
        &["app/x", &host, "build machine"],
    );
    symlink("a\rb", c.root.join("cr")).unwrap();
    c.fails(
        format!("link\tapp/x\t{}\n", c.path("cr")).as_bytes(),
        &[],
        &["app/x", &c.path("cr"), "carriage return"],
    );
}

fn is_root() -> bool {
    String::from_utf8(sh("id -u")).unwrap().trim() == "0"
}

/// Runs layer-splitter in `cwd` (as `user` when given, through setpriv) and asserts
/// exit status 1 with a message naming every string in `mentions`.
fn refused(cwd: &Path, args: &[String], user: Option<u32>, mentions: &[&str]) -> String {
    let mut command = match user {
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
            ])
            .arg(env!("CARGO_BIN_EXE_layer-splitter"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_layer-splitter")),
    };
    let output = command.args(args).current_dir(cwd).output().unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "expected exit 1: {message}");
    assert!(message.starts_with("layer-splitter: error: "), "{message}");
    for m in mentions {
        assert!(
            message.contains(m),
            "error does not mention {m:?}: {message}"
        );
    }
    message
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn an_output_that_cannot_be_committed_leaves_no_output_at_all() {
    let c = Case::new("commit-all-or-none");
    let manifest = c.root.join("manifest.txt");
    fs::write(&manifest, format!("file\tapp/x\t{}\n", c.path("ok.txt"))).unwrap();
    let blob = c.out.join("layer.tgz").display().to_string();
    let descriptor = c.out.join("layer.json").display().to_string();
    let report = c.out.join("report.txt").display().to_string();
    let args = |descriptor: &str, report: &str| {
        strings(&[
            "--manifest",
            &manifest.display().to_string(),
            "--output",
            &blob,
            "--descriptor",
            descriptor,
            "--report",
            report,
        ])
    };
    // The descriptor's path is a directory: the blob must not stay behind.
    fs::create_dir(&descriptor).unwrap();
    refused(
        &c.root,
        &args(&descriptor, &report),
        None,
        &[&descriptor, "directory"],
    );
    assert_eq!(dir_names(&c.out), ["layer.json"]);
    fs::remove_dir(&descriptor).unwrap();
    // The report's path is a directory: neither blob nor descriptor may stay behind.
    fs::create_dir(&report).unwrap();
    refused(
        &c.root,
        &args(&descriptor, &report),
        None,
        &[&report, "directory"],
    );
    assert_eq!(dir_names(&c.out), ["report.txt"]);
    fs::remove_dir(&report).unwrap();
    // The report goes into a read-only directory.
    let locked = c.root.join("locked");
    fs::create_dir(&locked).unwrap();
    chmod(&locked, 0o555);
    let locked_report = locked.join("report.txt").display().to_string();
    let user = if is_root() {
        chmod(&c.root, 0o755);
        chmod(&c.out, 0o777);
        Some(65534)
    } else {
        None
    };
    refused(
        &c.root,
        &args(&descriptor, &locked_report),
        user,
        &[&locked.display().to_string(), "writable"],
    );
    assert_eq!(dir_names(&c.out), Vec::<String>::new());
    assert_eq!(dir_names(&locked), Vec::<String>::new());
}

#[test]
fn one_file_named_twice_is_refused_before_any_work() {
    let c = Case::new("output-aliases");
    let manifest = c.root.join("manifest.txt");
    fs::write(&manifest, format!("file\tapp/x\t{}\n", c.path("ok.txt"))).unwrap();
    symlink(&c.out, c.root.join("via")).unwrap();
    let run = |blob: &str, descriptor: &str, report: Option<&str>, mentions: &[&str]| {
        let mut args = strings(&[
            "--manifest",
            "manifest.txt",
            "--output",
            blob,
            "--descriptor",
            descriptor,
        ]);
        if let Some(report) = report {
            args.extend(strings(&["--report", report]));
        }
        refused(&c.root, &args, None, mentions);
        let left: Vec<String> = dir_names(&c.out)
            .into_iter()
            .filter(|n| n.starts_with('.'))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "temporary files left behind");
    };
    let abs_blob = c.out.join("layer.tgz").display().to_string();
    // Relative and absolute spellings of one path.
    run(
        &abs_blob,
        "out/x.json",
        Some("out/./layer.tgz"),
        &["same file", "--report", &abs_blob],
    );
    // Through a symlinked directory.
    run(
        "out/layer.tgz",
        "via/layer.tgz",
        None,
        &["same file", "--descriptor", "via/layer.tgz"],
    );
    // Hard links to one existing file.
    fs::write(c.out.join("a"), b"old").unwrap();
    fs::hard_link(c.out.join("a"), c.out.join("b")).unwrap();
    run(
        "out/a",
        "out/x.json",
        Some("via/b"),
        &["same file", "hard links"],
    );
    assert_eq!(fs::read(c.out.join("a")).unwrap(), b"old");
    assert_eq!(dir_names(&c.out), ["a", "b"]);
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let c = Case::new("output-is-input");
    let manifest = c.root.join("manifest.txt");
    let src = c.root.join("src.txt");
    write(&src, b"source\n");
    symlink("somewhere", c.root.join("link-src")).unwrap();
    let manifest_text = format!(
        "file\tapp/x\t{}\nlink\tapp/l\t{}\n",
        src.display(),
        c.path("link-src")
    );
    fs::write(&manifest, &manifest_text).unwrap();
    let params = c.root.join("params.txt");
    fs::write(&params, "--manifest\nmanifest.txt\n").unwrap();
    let run = |blob: &str, mentions: &[&str]| {
        let args = strings(&[
            &format!("@{}", params.display()),
            "--output",
            blob,
            "--descriptor",
            "out/layer.json",
        ]);
        refused(&c.root, &args, None, mentions);
        assert_eq!(dir_names(&c.out), Vec::<String>::new());
    };
    run("./manifest.txt", &["manifest", "input"]);
    run(&params.display().to_string(), &["parameter file", "input"]);
    run("src.txt", &["source of app/x", "input"]);
    run("link-src", &["source of app/l", "input"]);
    assert_eq!(fs::read_to_string(&manifest).unwrap(), manifest_text);
    assert_eq!(fs::read(&src).unwrap(), b"source\n");
    assert_eq!(
        fs::read_link(c.root.join("link-src")).unwrap(),
        Path::new("somewhere")
    );
}

#[test]
fn tree_links_that_leave_the_tree_are_refused() {
    let c = Case::new("tree-external-links");
    let host = c.root.join("host");
    write(&host.join("secret"), b"host secret\n");
    let tree = c.root.join("tree");
    write(&tree.join("ok.py"), b"X = 1\n");
    let tree_text = tree.display().to_string();
    let manifest = format!("tree\topt/app\t{tree_text}\n");
    let fix = [
        "`symlink` manifest line",
        "--follow-external-symlinks",
        tree_text.as_str(),
    ];
    // An absolute link to a host directory (the issue: `/etc`, shadow included).
    symlink("/etc", tree.join("etc")).unwrap();
    let link = tree.join("etc").display().to_string();
    let mut mentions = vec!["opt/app/etc", link.as_str(), "\"/etc\"", "absolute"];
    mentions.extend(fix);
    c.fails(manifest.as_bytes(), &[], &mentions);
    fs::remove_file(tree.join("etc")).unwrap();
    // A relative link that climbs out of the tree.
    symlink("../host/secret", tree.join("up")).unwrap();
    let link = tree.join("up").display().to_string();
    let mut mentions = vec!["opt/app/up", link.as_str(), "../host/secret", "climbs out"];
    mentions.extend(fix);
    c.fails(manifest.as_bytes(), &[], &mentions);
    fs::remove_file(tree.join("up")).unwrap();
    // A sandbox-style link to the tree's own file elsewhere whose content is a host file.
    let real = c.root.join("real/tree");
    fs::create_dir_all(&real).unwrap();
    symlink(host.join("secret"), real.join("cfg")).unwrap();
    symlink(real.join("cfg"), tree.join("cfg")).unwrap();
    c.fails(
        manifest.as_bytes(),
        &[],
        &["opt/app/cfg", "--follow-external-symlinks"],
    );
    fs::remove_file(tree.join("cfg")).unwrap();

    // Asked for explicitly, the content is copied.
    symlink(host.join("secret"), tree.join("abs")).unwrap();
    symlink("../host/secret", tree.join("up")).unwrap();
    fs::write(c.root.join("manifest.txt"), &manifest).unwrap();
    let blob = c.root.join("followed.tar");
    let out = splitter(
        &c.root,
        &[
            "--manifest",
            &c.path("manifest.txt"),
            "--output",
            &blob.display().to_string(),
            "--descriptor",
            &c.path("followed.json"),
            "--compression",
            "none",
            "--follow-external-symlinks",
        ],
    );
    assert_ok(&out);
    let secret = sha256_hex(b"host secret\n");
    let members = python_members(&blob);
    for name in ["opt/app/abs", "opt/app/up"] {
        let m = members.iter().find(|m| m.name == name).unwrap();
        assert_eq!(
            (m.kind, m.sha256.as_str()),
            ('f', secret.as_str()),
            "{name}"
        );
    }
}

#[test]
fn a_source_whose_size_is_not_known_in_advance_is_refused() {
    let c = Case::new("procfs");
    for src in ["/proc/self/status", "/proc/cpuinfo"] {
        c.fails(
            format!("file\tapp/info\t{src}\n").as_bytes(),
            &[],
            &[
                "app/info",
                src,
                "0 bytes",
                "/proc",
                "copy it to a regular file",
            ],
        );
    }
    // A real empty file is still fine.
    write(&c.root.join("empty.txt"), b"");
    fs::write(
        c.root.join("manifest.txt"),
        format!("file\tapp/empty\t{}\n", c.path("empty.txt")),
    )
    .unwrap();
    let out = splitter(
        &c.root,
        &[
            "--manifest",
            &c.path("manifest.txt"),
            "--output",
            &c.path("empty.tgz"),
            "--descriptor",
            &c.path("empty.json"),
        ],
    );
    assert_ok(&out);
}

const CRLF: [&str; 3] = ["CRLF", "dos2unix", "sed 's/\\r$//'"];

#[test]
fn a_crlf_manifest_is_named_as_such() {
    let c = Case::new("crlf-manifest");
    let ok = c.path("ok.txt");
    // A manifest with Windows line endings.
    let mut mentions = vec!["manifest.txt", "line 1"];
    mentions.extend(CRLF);
    let message = c.fails(
        format!("file\tapp/x\t{ok}\r\ndir\tvar\r\n").as_bytes(),
        &[],
        &mentions,
    );
    assert!(!message.contains("rename"), "{message}");
}

#[test]
fn a_crlf_parameter_file_is_named_as_such() {
    let c = Case::new("crlf-params");
    let ok = c.path("ok.txt");
    let params = c.root.join("params.txt");
    fs::write(
        &params,
        format!("--output\r\n{}\r\n", c.out.join("layer.tgz").display()),
    )
    .unwrap();
    let params_text = params.display().to_string();
    let mut mentions = vec![params_text.as_str(), "parameter file"];
    mentions.extend(CRLF);
    let message = c.fails_args(
        format!("file\tapp/x\t{ok}\n").as_bytes(),
        &[
            &format!("@{params_text}"),
            "--descriptor",
            &c.out.join("layer.json").display().to_string(),
        ],
        None,
    );
    for m in mentions {
        assert!(message.contains(m), "{m:?} not in {message}");
    }
}

#[test]
fn a_bad_link_target_in_a_tree_names_the_link_and_the_tree() {
    let c = Case::new("tree-link-utf8");
    let tree = c.root.join("tree");
    fs::create_dir_all(&tree).unwrap();
    let link = tree.join("bad");
    symlink(std::ffi::OsStr::from_bytes(b"caf\xe9.py"), &link).unwrap();
    c.fails(
        format!("tree\topt\t{}\n", tree.display()).as_bytes(),
        &[],
        &[
            "opt/bad",
            &link.display().to_string(),
            &format!("tree {}", tree.display()),
            "caf\u{fffd}.py",
            "not valid UTF-8",
        ],
    );
    fs::remove_file(&link).unwrap();
    // A kept link whose target holds a newline (a tar member could not say it).
    symlink("pkg/a\nb", &link).unwrap();
    c.fails(
        format!("tree\topt\t{}\n", tree.display()).as_bytes(),
        &[],
        &["opt/bad", &link.display().to_string(), "newline"],
    );
}

#[test]
fn conflicting_entries_say_what_differs() {
    let c = Case::new("conflict-difference");
    let ok = c.path("ok.txt");
    let other = c.path("other.txt");
    write(&c.root.join("other.txt"), b"different content\n");
    write(&c.root.join("same-size.txt"), b"FINE\n");
    c.fails(
        format!("file\tapp/x\t{ok}\nfile\tapp/x\t{ok}\tmode=0755\n").as_bytes(),
        &[],
        &["app/x", "modes differ: 0644 vs 0755"],
    );
    c.fails(
        format!("file\tapp/x\t{ok}\nfile\tapp/x\t{other}\n").as_bytes(),
        &[],
        &["app/x", "contents differ: 5 vs 18 bytes"],
    );
    c.fails(
        format!(
            "file\tapp/x\t{ok}\nfile\tapp/x\t{}\n",
            c.path("same-size.txt")
        )
        .as_bytes(),
        &[],
        &[
            "app/x",
            "contents differ: same size (5 bytes), different bytes",
        ],
    );
    c.fails(
        format!("file\tapp/x\t{ok}\nsymlink\tapp/x\ty\n").as_bytes(),
        &[],
        &["app/x", "types differ: a file vs a symlink"],
    );
    c.fails(
        b"symlink\tapp/x\ta\nsymlink\tapp/x\tb\n",
        &[],
        &["app/x", "symlink targets differ: \"a\" vs \"b\""],
    );
}

#[test]
fn a_missing_source_is_quoted_so_spaces_show() {
    let c = Case::new("missing-spaced");
    let spaced = format!("{} ", c.path("ok.txt"));
    c.fails(
        format!("file\tapp/x\t{spaced}\n").as_bytes(),
        &[],
        &[&format!("{spaced:?}"), "trailing space", "does not exist"],
    );
}
