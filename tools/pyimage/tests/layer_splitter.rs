//! End-to-end tests of `layer-splitter`, reading every output with independent tools:
//! GNU tar, bsdtar, Python's tarfile, gzip/zstd and sha256sum.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::*;

const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// Builds the rich fixture's single layer with `extra` flags; returns (blob, descriptor).
fn build(root: &Path, name: &str, extra: &[&str]) -> (std::path::PathBuf, std::path::PathBuf) {
    let manifest = root.join("manifest.txt");
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    let blob = out.join(format!("{name}.blob"));
    let descriptor = out.join(format!("{name}.json"));
    let mut args = vec![
        "--manifest".to_string(),
        manifest.display().to_string(),
        "--output".to_string(),
        blob.display().to_string(),
        "--descriptor".to_string(),
        descriptor.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_ok(&splitter(root, &args));
    (blob, descriptor)
}

fn check_rich_layer(root: &Path, blob: &Path, mtime: u64, owner: (u64, u64)) {
    let expected = rich_expected(root);
    let members = python_members(blob);
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, want, "members in archive order");
    for (m, (name, kind, mode, link, content)) in members.iter().zip(&expected) {
        assert_eq!(m.kind, *kind, "{name}");
        assert_eq!(m.mode, *mode, "{name}");
        assert_eq!((m.uid, m.gid), owner, "{name}");
        assert_eq!(m.mtime, mtime, "{name}");
        assert_eq!((m.uname.as_str(), m.gname.as_str()), ("", ""), "{name}");
        assert_eq!(&m.link, link, "{name}");
        if let Some(src) = content {
            assert_eq!(m.sha256, sha256_hex(&fs::read(src).unwrap()), "{name}");
        }
    }
}

/// GNU tar and bsdtar list the same members and extract the same bytes.
fn check_with_tar_tools(root: &Path, blob: &Path) {
    let expected = rich_expected(root);
    let listing = String::from_utf8(sh(&format!(
        "{} | tar -tvf - --numeric-owner",
        decompress_cmd(blob)
    )))
    .unwrap();
    assert_eq!(listing.lines().count(), expected.len(), "{listing}");
    for line in listing.lines() {
        assert!(line.contains(" 0/0 "), "owner in {line}");
        assert!(line.contains("1970-01-01 00:00"), "mtime in {line}");
    }
    assert!(
        listing.contains("usr/bin/tool -> ../../app/bin/tool"),
        "{listing}"
    );
    let bsd = String::from_utf8(sh(&format!("bsdtar -tvf '{}'", blob.display()))).unwrap();
    assert_eq!(bsd.lines().count(), expected.len(), "{bsd}");

    for (tool, dir) in [("tar", "x-gnu"), ("bsdtar", "x-bsd")] {
        let target = root.join(dir);
        let _ = fs::remove_dir_all(&target);
        fs::create_dir_all(&target).unwrap();
        let cmd = if tool == "tar" {
            format!(
                "{} | tar -xf - -C '{}'",
                decompress_cmd(blob),
                target.display()
            )
        } else {
            format!("bsdtar -xf '{}' -C '{}'", blob.display(), target.display())
        };
        sh(&cmd);
        for (name, kind, _, link, content) in &expected {
            let path = target.join(name.trim_end_matches('/'));
            match kind {
                'd' => assert!(path.is_dir(), "{tool}: {name}"),
                'l' => assert_eq!(
                    fs::read_link(&path).unwrap().to_str().unwrap(),
                    link,
                    "{tool}: {name}"
                ),
                _ => assert_eq!(
                    fs::read(&path).unwrap(),
                    fs::read(content.as_ref().unwrap()).unwrap(),
                    "{tool}: {name}"
                ),
            }
        }
    }
}

#[test]
fn gzip_layer_reads_back_everywhere() {
    let root = scratch("gzip-layer");
    rich_fixture(&root);
    let (blob, descriptor) = build(&root, "layer", &[]);
    sh(&format!("gzip -t '{}'", blob.display()));
    let d = check_descriptor(&blob, &descriptor, GZIP);
    assert_eq!(d.entries as usize, rich_expected(&root).len());
    check_rich_layer(&root, &blob, 0, (0, 0));
    check_with_tar_tools(&root, &blob);
    // One gzip member with the fixed header: no name, mtime 0.
    let bytes = fs::read(&blob).unwrap();
    assert_eq!(&bytes[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let members = sh(&format!("python3 -c \"import zlib,sys; d=zlib.decompressobj(31); d.decompress(open('{}','rb').read()); print(len(d.unused_data), d.eof)\"", blob.display()));
    assert_eq!(String::from_utf8(members).unwrap().trim(), "0 True");
}

#[test]
fn zstd_and_uncompressed_layers() {
    let root = scratch("zstd-layer");
    rich_fixture(&root);
    let (blob, descriptor) = build(&root, "z", &["--compression", "zstd", "--level", "5"]);
    sh(&format!("zstd -q -t '{}'", blob.display()));
    check_descriptor(&blob, &descriptor, ZSTD);
    check_rich_layer(&root, &blob, 0, (0, 0));
    check_with_tar_tools(&root, &blob);

    let (plain, plain_descriptor) = build(&root, "t", &["--compression", "none"]);
    let d = check_descriptor(&plain, &plain_descriptor, TAR);
    assert_eq!(d.digest, d.diff_id);
    check_rich_layer(&root, &plain, 0, (0, 0));
    // Same tar whatever the compression.
    assert_eq!(d.diff_id, read_descriptor(&descriptor).diff_id);
}

#[test]
fn mtime_and_owner_flags() {
    let root = scratch("stamp");
    rich_fixture(&root);
    let (blob, _) = build(
        &root,
        "l",
        &["--mtime", "1700000000", "--owner", "1000:2000"],
    );
    check_rich_layer(&root, &blob, 1_700_000_000, (1000, 2000));
}

#[test]
fn identical_bytes_across_threads_runs_and_source_locations() {
    let root = scratch("determinism");
    rich_fixture(&root);
    // Enough data for several parallel gzip blocks.
    write(&root.join("src/big.bin"), &payload(5 << 20, 3));
    // Incompressible segments, stored rather than deflated, among compressible ones.
    let mut mixed = random_bytes(3 << 20, 4);
    mixed[1 << 20..(1 << 20) + 300_000].copy_from_slice(&payload(300_000, 5));
    write(&root.join("src/mixed.bin"), &mixed);
    let mut manifest = fs::read_to_string(root.join("manifest.txt")).unwrap();
    manifest += &format!(
        "file\tapp/big.bin\t{}\nfile\tapp/mixed.bin\t{}\n",
        root.join("src/big.bin").display(),
        root.join("src/mixed.bin").display()
    );
    fs::write(root.join("manifest.txt"), &manifest).unwrap();

    for compression in ["gzip", "zstd"] {
        let runs: Vec<Vec<u8>> = [
            vec!["--threads", "1"],
            vec!["--threads", "2"],
            vec![],
            vec!["--threads", "7"],
        ]
        .iter()
        .enumerate()
        .map(|(i, threads)| {
            let mut args = vec!["--compression", compression];
            args.extend(threads);
            let (blob, descriptor) = build(&root, &format!("{compression}-{i}"), &args);
            let mut bytes = fs::read(&blob).unwrap();
            bytes.extend(fs::read(&descriptor).unwrap());
            bytes
        })
        .collect();
        for run in &runs[1..] {
            assert!(
                run == &runs[0],
                "{compression}: output depends on the thread count"
            );
        }
    }

    // The same sources at another path give the same bytes.
    let (first, _) = build(&root, "first", &[]);
    let moved = scratch("determinism-moved");
    sh(&format!(
        "cp -a '{}/src' '{}/src'",
        root.display(),
        moved.display()
    ));
    sh(&format!(
        "cp -a '{}/inputs' '{}/inputs'",
        root.display(),
        moved.display()
    ));
    let old = root.display().to_string();
    let new = moved.display().to_string();
    // Re-point the input symlinks and the manifest at the copy.
    for entry in fs::read_dir(moved.join("inputs")).unwrap() {
        let path = entry.unwrap().path();
        let target = fs::read_link(&path)
            .unwrap()
            .display()
            .to_string()
            .replace(&old, &new);
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(target, &path).unwrap();
    }
    sh(&format!(
        "cp -a '{}/real' '{}/real'",
        root.display(),
        moved.display()
    ));
    let abs = moved.join("src/tree/abs");
    fs::remove_file(&abs).unwrap();
    std::os::unix::fs::symlink(moved.join("real/tree/abs"), &abs).unwrap();
    fs::write(moved.join("manifest.txt"), manifest.replace(&old, &new)).unwrap();
    let (second, _) = build(&moved, "second", &[]);
    assert!(
        fs::read(&first).unwrap() == fs::read(&second).unwrap(),
        "output depends on source paths"
    );
}

#[test]
fn name_and_report_from_a_parameter_file() {
    let root = scratch("name-report");
    let manifest = rich_fixture(&root);
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    let o = |ext: &str| out.join(format!("libs.{ext}")).display().to_string();
    // The interface the rules use, through a parameter file as Bazel passes it.
    let args = [
        "--manifest".to_string(),
        manifest.display().to_string(),
        "--name".into(),
        "libs".into(),
        "--output".into(),
        o("tgz"),
        "--descriptor".into(),
        o("json"),
        "--report".into(),
        o("txt"),
        "--compression".into(),
        "gzip".into(),
        "--level".into(),
        "6".into(),
        "--mtime".into(),
        "0".into(),
        "--owner".into(),
        "0:0".into(),
        "--allow-empty".into(),
        "--hardlink-duplicates".into(),
    ];
    let params = root.join("params");
    fs::write(&params, args.join("\n") + "\n").unwrap();
    assert_ok(&splitter(&root, &[&format!("@{}", params.display())]));

    let blob = out.join("libs.tgz");
    let names: Vec<String> = python_members(&blob).into_iter().map(|m| m.name).collect();
    let want: Vec<String> = rich_expected(&root).into_iter().map(|e| e.0).collect();
    assert_eq!(names, want);
    let d = check_descriptor(&blob, &out.join("libs.json"), GZIP);
    let report = fs::read_to_string(out.join("libs.txt")).unwrap();
    assert!(report.contains("compression gzip level 6"), "{report}");
    // The table's header and its one row, in the format the report has always had.
    let lines: Vec<&str> = report.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.split_whitespace().take(2).eq(["layer", "entries"]))
        .unwrap_or_else(|| panic!("no table header: {report}"));
    let row: Vec<&str> = lines[header + 1].split_whitespace().collect();
    assert_eq!(
        row[..4],
        [
            "libs".to_string(),
            d.entries.to_string(),
            d.uncompressed_size.to_string(),
            d.size.to_string()
        ]
    );
    assert!(
        report.contains(
            "hardlink-duplicates: 3 files stored as hard links, 18 bytes not stored again"
        ),
        "{report}"
    );

    // Without --name the layer is called `layer`.
    let report = root.join("default.txt");
    build(
        &root,
        "default",
        &["--report", &report.display().to_string()],
    );
    let report = fs::read_to_string(report).unwrap();
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("layer  ") && !l.contains("entries")),
        "{report}"
    );
}

#[test]
fn the_removed_multi_layer_flags_are_refused() {
    let root = scratch("removed-flags");
    let manifest = rich_fixture(&root);
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    let blob = out.join("l.tgz").display().to_string();
    let json = out.join("l.json").display().to_string();
    for extra in [
        ["--route", "libs=opt/lib"],
        ["--default-layer", "app"],
        ["--output", &blob],
    ] {
        let mut args = vec![
            "--manifest",
            manifest.to_str().unwrap(),
            "--output",
            &blob,
            "--descriptor",
            &json,
        ];
        args.extend(extra);
        let result = splitter(&root, &args);
        assert_eq!(
            result.status.code(),
            Some(2),
            "{extra:?}: {}",
            stderr(&result)
        );
        assert!(stderr(&result).contains(extra[0]), "{}", stderr(&result));
        assert_eq!(dir_names(&out), Vec::<String>::new(), "{extra:?}");
    }
}

#[test]
fn strip_profile_exclude_include_and_report() {
    let root = scratch("strip-layer");
    rich_fixture(&root);
    let report = root.join("report.txt");
    let (blob, _) = build(
        &root,
        "s",
        &[
            "--strip-profile",
            "site-packages",
            "--exclude",
            "**/*.sh",
            "--include",
            "opt/lib/pkg/run.sh",
            "--report",
            &report.display().to_string(),
        ],
    );
    let names: Vec<String> = python_members(&blob).into_iter().map(|m| m.name).collect();
    assert!(
        !names.iter().any(|n| n.contains("__pycache__")),
        "{names:?}"
    );
    assert!(names.contains(&"opt/lib/pkg/run.sh".to_string()));
    assert!(
        names.contains(&"app/bin/tool".to_string()),
        "tool has no .sh in its image path"
    );
    let report = fs::read_to_string(&report).unwrap();
    assert!(report.contains("site-packages:bytecode"), "{report}");
    let line = report
        .lines()
        .find(|l| l.starts_with("site-packages:bytecode"))
        .unwrap();
    assert!(line.split_whitespace().nth(1) == Some("1"), "{line}");
}

/// The site-packages profile on in-image paths: a wheel's `tests` go, also when the
/// binary lives in a Bazel package named `tests`; `tests.py` and `testing` stay.
#[test]
fn site_packages_profile_drops_package_tests_in_the_layer() {
    let root = scratch("strip-package-tests");
    let repo = root.join("pypi_pkg");
    for path in [
        "site-packages/pkg/__init__.py",
        "site-packages/pkg/tests/test_pkg.py",
        "site-packages/pkg/linalg/tests/test_linalg.py",
        "site-packages/pkg/tests.py",
        "site-packages/pkg/testing/__init__.py",
        "site-packages/tests/__init__.py",
    ] {
        write(&repo.join(path), b"x = 1\n");
    }
    let manifest = format!(
        "tree\tapp/tests/bin.runfiles/rules_python++pip+pypi_pkg\t{}\n",
        repo.display()
    );
    fs::write(root.join("manifest.txt"), manifest).unwrap();
    let report = root.join("report.txt");
    let (blob, _) = build(
        &root,
        "p",
        &[
            "--strip-profile",
            "site-packages",
            "--report",
            &report.display().to_string(),
        ],
    );
    let names: Vec<String> = python_members(&blob).into_iter().map(|m| m.name).collect();
    let sp = "app/tests/bin.runfiles/rules_python++pip+pypi_pkg/site-packages";
    for kept in [
        "pkg/__init__.py",
        "pkg/tests.py",
        "pkg/testing/__init__.py",
        "tests/__init__.py",
    ] {
        assert!(names.contains(&format!("{sp}/{kept}")), "{kept}: {names:?}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.contains("/pkg/tests/") || n.contains("/linalg/tests")),
        "{names:?}"
    );
    let report = fs::read_to_string(&report).unwrap();
    let line = report
        .lines()
        .find(|l| l.starts_with("site-packages:package-tests"))
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(line.split_whitespace().nth(1), Some("2"), "{line}");
}

#[test]
fn empty_manifest_with_allow_empty() {
    let root = scratch("allow-empty");
    fs::write(root.join("manifest.txt"), "# nothing\n\n").unwrap();
    let (blob, descriptor) = build(&root, "e", &["--allow-empty"]);
    let d = check_descriptor(&blob, &descriptor, GZIP);
    assert_eq!(d.entries, 0);
    assert!(python_members(&blob).is_empty());
}

#[test]
fn setuid_bits_are_dropped_unless_allowed() {
    let root = scratch("setuid");
    write(&root.join("su"), b"x");
    fs::write(
        root.join("manifest.txt"),
        format!("file\tbin/su\t{}\tmode=4755\n", root.join("su").display()),
    )
    .unwrap();
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    let run = |extra: &[&str], name: &str| {
        let blob = out.join(format!("{name}.tgz"));
        let mut args = vec![
            "--manifest".to_string(),
            root.join("manifest.txt").display().to_string(),
            format!("--output={}", blob.display()),
            format!(
                "--descriptor={}",
                out.join(format!("{name}.json")).display()
            ),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = splitter(&root, &args);
        assert_ok(&result);
        (python_members(&blob), stderr(&result))
    };
    let (members, warnings) = run(&[], "dropped");
    assert_eq!(members.last().unwrap().mode, 0o755);
    assert!(
        warnings.contains("bin/su") && warnings.contains("--allow-setuid"),
        "{warnings}"
    );
    let (members, _) = run(&["--allow-setuid"], "kept");
    assert_eq!(members.last().unwrap().mode, 0o4755);
}

#[test]
fn long_names_use_pax_not_gnu_extensions() {
    let root = scratch("pax");
    rich_fixture(&root);
    let (blob, _) = build(&root, "p", &["--compression", "none"]);
    let bytes = fs::read(&blob).unwrap();
    // No GNU long-name ('L') or long-link ('K') members; at least one PAX ('x') header.
    let mut offset = 0;
    let mut pax = 0;
    while offset + 512 <= bytes.len() && bytes[offset] != 0 {
        let header = &bytes[offset..offset + 512];
        assert!(header[156] != b'L' && header[156] != b'K');
        assert_eq!(&header[257..263], b"ustar\0");
        pax += usize::from(header[156] == b'x');
        let size = u64::from_str_radix(std::str::from_utf8(&header[124..135]).unwrap(), 8).unwrap();
        offset += 512 + size.div_ceil(512) as usize * 512;
    }
    assert_eq!(
        pax, 2,
        "one PAX header for the long file, one for the long link"
    );
    let listing =
        String::from_utf8(sh(&format!("tar --format=posix -tf '{}'", blob.display()))).unwrap();
    assert!(listing.lines().any(|l| l == long_dest()), "{listing}");
}

/// `link` entries: the target of a symlink on disk (a Bazel symlink artifact) becomes the
/// member's link target, read once and never followed; GNU tar, bsdtar and Python's
/// tarfile all see symlinks with the canonical relative targets.
#[test]
fn link_entries_copy_symlink_targets() {
    let root = scratch("link-entries");
    let src = root.join("src");
    write(&src.join("real.so"), b"not to be copied\n");
    let links = root.join("links");
    fs::create_dir_all(&links).unwrap();
    // Points at an existing file on the host: following it would store a regular file.
    std::os::unix::fs::symlink(src.join("real.so"), links.join("host-existing")).unwrap();
    std::os::unix::fs::symlink("libpython3.11.so.1.0", links.join("rel")).unwrap();
    std::os::unix::fs::symlink("/opt/python/bin/python3.11", links.join("abs")).unwrap();
    std::os::unix::fs::symlink(long_target(), links.join("long")).unwrap();
    // Bazel's sandbox can reach the artifact through a symlinked directory.
    std::os::unix::fs::symlink(&links, root.join("via")).unwrap();
    let manifest = format!(
        "link\topt/python/lib/libpython3.so\t{rel}\n\
         link\t/usr/bin/python3\t{abs}\n\
         symlink\tusr/bin/python3\t/opt/python/bin/python3.11\n\
         link\tapp/long-link\t{long}\n\
         file\topt/python/bin/python3.11\t{real}\n",
        rel = root.join("via/rel").display(),
        abs = links.join("abs").display(),
        long = links.join("long").display(),
        real = links.join("host-existing").display(),
    );
    fs::write(root.join("manifest.txt"), manifest).unwrap();
    let (blob, descriptor) = build(&root, "links", &[]);
    let d = check_descriptor(&blob, &descriptor, GZIP);

    let links_seen: Vec<(String, String)> = python_members(&blob)
        .into_iter()
        .filter(|m| m.kind == 'l')
        .map(|m| (m.name, m.link))
        .collect();
    let want = vec![
        ("app/long-link".to_string(), long_target()),
        (
            "opt/python/lib/libpython3.so".to_string(),
            "libpython3.11.so.1.0".to_string(),
        ),
        (
            "usr/bin/python3".to_string(),
            "../../opt/python/bin/python3.11".to_string(),
        ),
    ];
    assert_eq!(links_seen, want);
    // app, app/long-link, opt, opt/python, opt/python/bin, python3.11, opt/python/lib,
    // libpython3.so, usr, usr/bin, usr/bin/python3
    assert_eq!(d.entries, 11);

    let listing =
        String::from_utf8(sh(&format!("{} | tar -tvf -", decompress_cmd(&blob)))).unwrap();
    for (name, target) in &want {
        let line = listing
            .lines()
            .find(|l| l.contains(&format!(" {name} -> ")))
            .unwrap_or_else(|| panic!("{name} not listed as a symlink: {listing}"));
        assert!(line.starts_with('l'), "{line}");
        assert!(line.ends_with(&format!(" -> {target}")), "{line}");
    }
    let out = root.join("x-bsd");
    fs::create_dir_all(&out).unwrap();
    sh(&format!(
        "bsdtar -xf '{}' -C '{}'",
        blob.display(),
        out.display()
    ));
    for (name, target) in &want {
        assert_eq!(
            fs::read_link(out.join(name)).unwrap().to_str().unwrap(),
            target
        );
    }
    assert_eq!(
        fs::read(out.join("usr/bin/python3")).unwrap(),
        b"not to be copied\n",
        "the link resolves inside the extracted image"
    );
}

/// `output` entries: a symlink with a relative target is a symlink artifact and stays a
/// link; a symlink with an absolute target (how Bazel's sandbox presents ordinary
/// inputs) and a plain file are both stored as regular files with the content.
#[test]
fn output_entries_tell_symlink_artifacts_from_files() {
    let root = scratch("output-entries");
    let src = root.join("src");
    write(&src.join("data.txt"), b"generated content\n");
    std::os::unix::fs::symlink("../venv/bin/python3.11", src.join("artifact")).unwrap();
    std::os::unix::fs::symlink(src.join("data.txt"), src.join("staged")).unwrap();
    let manifest = format!(
        "output\tapp/venv/bin/python3\t{artifact}\n\
         output\tapp/staged.txt\t{staged}\n\
         output\tapp/plain.txt\t{plain}\n",
        artifact = src.join("artifact").display(),
        staged = src.join("staged").display(),
        plain = src.join("data.txt").display(),
    );
    fs::write(root.join("manifest.txt"), manifest).unwrap();
    let (blob, _) = build(&root, "outputs", &[]);
    let members = python_members(&blob);
    let find = |name: &str| {
        members
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let link = find("app/venv/bin/python3");
    assert_eq!(
        (link.kind, link.link.as_str()),
        ('l', "../venv/bin/python3.11")
    );
    for name in ["app/staged.txt", "app/plain.txt"] {
        assert_eq!(find(name).kind, 'f', "{name} must be a regular file");
    }
    let out = root.join("x");
    fs::create_dir_all(&out).unwrap();
    sh(&format!(
        "tar -xzf '{}' -C '{}'",
        blob.display(),
        out.display()
    ));
    assert_eq!(
        fs::read(out.join("app/staged.txt")).unwrap(),
        b"generated content\n"
    );
}

/// Compressed-looking content (stored blocks inside the one deflate stream) reads back
/// with gzip, GNU tar, bsdtar and Python's tarfile, at the size stored data costs.
#[test]
fn incompressible_content_reads_back_everywhere() {
    let root = scratch("incompressible");
    let random = random_bytes(5 << 20, 21);
    let mut mixed = random_bytes(2 << 20, 22);
    mixed[700_000..900_000].copy_from_slice(&payload(200_000, 23));
    write(&root.join("src/random.bin"), &random);
    write(&root.join("src/mixed.bin"), &mixed);
    write(&root.join("src/text.py"), &payload(400_000, 24));
    let s = |n: &str| root.join("src").join(n).display().to_string();
    fs::write(
        root.join("manifest.txt"),
        format!(
            "file\tdata/mixed.bin\t{}\nfile\tdata/random.bin\t{}\nfile\tdata/text.py\t{}\n",
            s("mixed.bin"),
            s("random.bin"),
            s("text.py")
        ),
    )
    .unwrap();
    let (blob, descriptor) = build(&root, "layer", &[]);
    sh(&format!("gzip -t '{}'", blob.display()));
    let d = check_descriptor(&blob, &descriptor, GZIP);
    // Stored: the random bytes plus 5 bytes per 64 KiB, not a byte more.
    let random_len = (random.len() + mixed.len() - 200_000) as u64;
    assert!(d.size > random_len, "random data cannot shrink: {}", d.size);
    assert!(
        d.size < random_len + random_len / 1000 + 200_000,
        "{} bytes",
        d.size
    );
    let members = python_members(&blob);
    let digests: Vec<(&str, &str)> = members
        .iter()
        .filter(|m| m.kind == 'f')
        .map(|m| (m.name.as_str(), m.sha256.as_str()))
        .collect();
    let want = [
        ("data/mixed.bin", sha256_hex(&mixed)),
        ("data/random.bin", sha256_hex(&random)),
        ("data/text.py", sha256_hex(&payload(400_000, 24))),
    ];
    assert_eq!(
        digests,
        want.iter()
            .map(|(n, d)| (*n, d.as_str()))
            .collect::<Vec<_>>()
    );
    for (tool, cmd) in [
        (
            "gnu",
            format!("gzip -dc '{}' | tar -xf - -C", blob.display()),
        ),
        ("bsd", format!("bsdtar -xf '{}' -C", blob.display())),
    ] {
        let out = root.join(format!("x-{tool}"));
        fs::create_dir_all(&out).unwrap();
        sh(&format!("{cmd} '{}'", out.display()));
        assert!(
            fs::read(out.join("data/random.bin")).unwrap() == random,
            "{tool}"
        );
        assert!(
            fs::read(out.join("data/mixed.bin")).unwrap() == mixed,
            "{tool}"
        );
    }
}

/// Per-entry attributes (`mode=`, `uid=`, `gid=`, `uname=`, `gname=`) and `rawlink`, as
/// rules_pkg's providers describe files: read back with Python's tarfile and GNU tar.
#[test]
fn entry_attributes_and_raw_links() {
    let root = scratch("attributes");
    write(&root.join("src/app.conf"), b"port = 8080\n");
    write(&root.join("src/run"), b"#!/bin/sh\n");
    write(&root.join("tree/lib/a.py"), b"a = 1\n");
    write(&root.join("tree/b.py"), b"b = 2\n");
    std::os::unix::fs::symlink("a.py", root.join("tree/lib/alias.py")).unwrap();
    // The same content as app.conf under another owner: not a hard link to it.
    write(&root.join("src/copy.conf"), b"port = 8080\n");
    let manifest = format!(
        "file\tetc/app/app.conf\t{conf}\tmode=0640\tuid=1000\tgid=1001\tuname=app\tgname=staff\n\
         file\tetc/app/copy.conf\t{copy}\tmode=0640\n\
         file\tusr/bin/run\t{run}\tmode=0750\tuid=1000\n\
         dir\tvar/lib/app\tmode=0700\tuid=1000\tgid=1000\n\
         empty\tvar/lib/app/.keep\tmode=0600\tuid=1000\tgid=1000\n\
         rawlink\tusr/bin/python\t/usr/bin/python3\n\
         rawlink\tusr/bin/app\t../../etc/app\tuname=app\n\
         tree\topt/site\t{tree}\tmode=0444\tgid=50\tgname=staff\n",
        conf = root.join("src/app.conf").display(),
        copy = root.join("src/copy.conf").display(),
        run = root.join("src/run").display(),
        tree = root.join("tree").display(),
    );
    fs::write(root.join("manifest.txt"), manifest).unwrap();
    let (blob, _) = build(&root, "attrs", &["--owner", "5:6", "--hardlink-duplicates"]);
    let members: BTreeMap<String, _> = python_members(&blob)
        .into_iter()
        .map(|m| (m.name.trim_end_matches('/').to_string(), m))
        .collect();
    let check = |name: &str, kind: char, mode: u32, ids: (u64, u64), names: (&str, &str)| {
        let m = members
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing: {:?}", members.keys()));
        assert_eq!(
            (
                m.kind,
                m.mode,
                (m.uid, m.gid),
                (m.uname.as_str(), m.gname.as_str())
            ),
            (kind, mode, ids, names),
            "{name}"
        );
        m
    };
    check(
        "etc/app/app.conf",
        'f',
        0o640,
        (1000, 1001),
        ("app", "staff"),
    );
    check("etc/app/copy.conf", 'f', 0o640, (5, 6), ("", ""));
    check("usr/bin/run", 'f', 0o750, (1000, 6), ("", ""));
    // Implied parents keep the layer's owner.
    check("etc/app", 'd', 0o755, (5, 6), ("", ""));
    check("var/lib/app", 'd', 0o700, (1000, 1000), ("", ""));
    check("var/lib/app/.keep", 'f', 0o600, (1000, 1000), ("", ""));
    assert_eq!(
        check("usr/bin/python", 'l', 0o777, (5, 6), ("", "")).link,
        "/usr/bin/python3",
        "a rawlink keeps its absolute target"
    );
    assert_eq!(
        check("usr/bin/app", 'l', 0o777, (5, 6), ("app", "")).link,
        "../../etc/app"
    );
    // A tree's mode goes to its regular files; its owner to everything in it, its
    // directories included.
    check("opt/site", 'd', 0o755, (5, 50), ("", "staff"));
    check("opt/site/lib", 'd', 0o755, (5, 50), ("", "staff"));
    check("opt", 'd', 0o755, (5, 6), ("", ""));
    check("opt/site/b.py", 'f', 0o444, (5, 50), ("", "staff"));
    check("opt/site/lib/a.py", 'f', 0o444, (5, 50), ("", "staff"));
    assert_eq!(
        check("opt/site/lib/alias.py", 'l', 0o777, (5, 50), ("", "staff")).link,
        "a.py"
    );

    // GNU tar shows the same owners (names where given, else ids).
    let listing = String::from_utf8(sh(&format!(
        "{} | tar --numeric-owner -tvf -",
        decompress_cmd(&blob)
    )))
    .unwrap();
    let line = |name: &str| {
        listing
            .lines()
            .find(|l| l.contains(&format!(" {name}")))
            .unwrap_or_else(|| panic!("{name}: {listing}"))
            .to_string()
    };
    assert!(
        line("etc/app/app.conf").starts_with("-rw-r----- 1000/1001 "),
        "{listing}"
    );
    assert!(
        line("var/lib/app/").starts_with("drwx------ 1000/1000 "),
        "{listing}"
    );
    assert!(
        line("usr/bin/python").ends_with(" -> /usr/bin/python3"),
        "{listing}"
    );
    let named = String::from_utf8(sh(&format!("{} | tar -tvf -", decompress_cmd(&blob)))).unwrap();
    assert!(
        named
            .lines()
            .any(|l| l.starts_with("-rw-r----- app/staff ") && l.ends_with(" etc/app/app.conf")),
        "{named}"
    );

    // Two owners for one path is a conflict, naming both.
    fs::write(
        root.join("manifest.txt"),
        format!(
            "file\tetc/x\t{conf}\tuid=1\nfile\tetc/x\t{conf}\tuid=2\n",
            conf = root.join("src/app.conf").display()
        ),
    )
    .unwrap();
    let out = splitter(
        &root,
        &[
            "--manifest",
            root.join("manifest.txt").to_str().unwrap(),
            "--output",
            root.join("conflict.tgz").to_str().unwrap(),
            "--descriptor",
            root.join("conflict.json").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains("owners differ: uid=1 vs uid=2"),
        "{message}"
    );
    assert!(!root.join("conflict.tgz").exists());
}

/// `--large-package-bytes` with `--package`: a warning (stderr and report) for each
/// package directory over the threshold, with its hint, biggest first; none under it,
/// and what the strip rules removed does not count.
#[test]
fn large_packages_are_named_with_the_hint() {
    let root = scratch("large-packages");
    write(&root.join("big/a.so"), &payload(3_000_000, 1));
    write(&root.join("big/tests/t.py"), &payload(2_000_000, 2));
    write(&root.join("mid/b.so"), &payload(1_500_000, 3));
    write(&root.join("small/c.py"), &payload(10_000, 4));
    let manifest = format!(
        "tree\tapp/external/pypi_big\t{}\ntree\tapp/external/pypi_mid\t{}\ntree\tapp/external/pypi_small\t{}\n",
        root.join("big").display(),
        root.join("mid").display(),
        root.join("small").display(),
    );
    fs::write(root.join("manifest.txt"), manifest).unwrap();
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    let run = |threshold: &str| {
        let report = out.join(format!("{threshold}.txt"));
        let result = splitter(
            &root,
            &[
                "--manifest",
                root.join("manifest.txt").to_str().unwrap(),
                "--name",
                "deps",
                "--output",
                out.join(format!("{threshold}.tgz")).to_str().unwrap(),
                "--descriptor",
                out.join(format!("{threshold}.json")).to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
                "--exclude",
                "app/external/*/tests",
                "--large-package-bytes",
                threshold,
                "--package",
                "/app/external/pypi_big=\"big\": [\"@pypi_big\"]",
                "--package",
                "app/external/pypi_mid=\"mid\": [\"@pypi_mid\"]",
                "--package",
                "/app/external/pypi_small=\"small\": [\"@pypi_small\"]",
            ],
        );
        assert_ok(&result);
        (stderr(&result), fs::read_to_string(report).unwrap())
    };
    let (warnings, report) = run("1000000");
    let lines: Vec<&str> = warnings.lines().filter(|l| l.contains("holds")).collect();
    assert_eq!(lines.len(), 2, "{warnings}");
    // And one entry for all of them, in the same order.
    assert!(
        warnings.lines().any(|l| l.ends_with(
            "layer \"deps\": all 2 of them at once: groups = {\"big\": [\"@pypi_big\"], \"mid\": [\"@pypi_mid\"]}"
        )),
        "{warnings}"
    );
    // Biggest first; the excluded tests/ do not count (3.0 MB, not 5.0 MB).
    assert!(
        lines[0].contains("\"deps\": /app/external/pypi_big holds 3.0 MB in 1 files, 67% of the layer's 4.5 MB (more than the 1.0 MB")
            && lines[0].ends_with("give it a layer of its own with groups = {\"big\": [\"@pypi_big\"]}"),
        "{warnings}"
    );
    assert!(
        lines[1].contains("/app/external/pypi_mid holds 1.5 MB"),
        "{warnings}"
    );
    assert!(!warnings.contains("pypi_small"), "{warnings}");
    assert!(
        report.contains("warning: layer \"deps\": /app/external/pypi_big holds 3.0 MB"),
        "{report}"
    );
    let (warnings, report) = run("0");
    assert!(
        !warnings.contains("holds") && !report.contains("warning"),
        "{warnings}"
    );
    let (warnings, _) = run("4000000");
    assert!(
        !warnings.contains("holds") && !warnings.contains("at once"),
        "{warnings}"
    );
    // One package over it: no line for "all of them".
    let (warnings, _) = run("2000000");
    assert!(
        warnings.contains("pypi_big holds") && !warnings.contains("at once"),
        "{warnings}"
    );
}
