//! End-to-end tests of `stripper` and of debug stripping (in `stripper` and in
//! `layer-splitter`), checked with readelf and by running the stripped programs.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// A small interpreter-shaped tree.
fn python_tree(root: &Path) {
    let lib = root.join("lib/python3.11");
    for (path, content) in [
        ("lib/python3.11/os.py", "import sys\n"),
        ("lib/python3.11/json/__init__.py", "X = 1\n"),
        (
            "lib/python3.11/json/__pycache__/__init__.cpython-311.pyc",
            "bytecode",
        ),
        ("lib/python3.11/__pycache__/os.cpython-311.pyc", "bytecode"),
        ("lib/python3.11/test/test_os.py", "def test(): pass\n"),
        ("lib/python3.11/test/support/__init__.py", "support\n"),
        ("lib/python3.11/unittest/test/test_case.py", "t\n"),
        ("lib/python3.11/unittest/case.py", "c\n"),
        ("lib/python3.11/idlelib/idle.py", "idle\n"),
        ("lib/python3.11/tkinter/__init__.py", "tk\n"),
        ("lib/python3.11/turtle.py", "import tkinter\n"),
        (
            "lib/python3.11/config-3.11-x86_64-linux-gnu/Makefile",
            "all:\n",
        ),
        (
            "lib/python3.11/site-packages/pkg/tests/test_pkg.py",
            "kept\n",
        ),
        (
            "lib/python3.11/site-packages/pkg-1.0.dist-info/RECORD",
            "kept by the python profile\n",
        ),
        ("lib/libpython3.11.a", "!<arch>\n"),
        ("include/python3.11/Python.h", "#define X\n"),
        ("share/man/man1/python3.11.1", ".TH\n"),
        ("bin/idle3.11", "#!/bin/sh\n"),
    ] {
        write(&root.join(path), content.as_bytes());
    }
    write(&root.join("bin/python3.11"), b"#!/bin/sh\necho python\n");
    chmod(&root.join("bin/python3.11"), 0o755);
    symlink("python3.11", root.join("bin/python3")).unwrap();
    symlink("../../../bin/python3.11", lib.join("python-link")).unwrap();
    fs::create_dir_all(lib.join("site-packages/empty-dir")).unwrap();
}

/// A fresh scratch directory holding [`python_tree`].
fn python_fixture(name: &str) -> PathBuf {
    let root = scratch(name);
    python_tree(&root);
    root
}

/// A path next to `root` for `--output-dir`, not yet existing.
fn output_dir_for(root: &Path) -> PathBuf {
    let dir = root.with_extension("out");
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// Runs `stripper --profile PROFILE` with `args` followed by the tree `root`.
fn strip(profile: &str, args: &[&str], root: &Path) -> Output {
    let root = root.display().to_string();
    let mut all = vec!["--profile", profile];
    all.extend_from_slice(args);
    all.push(&root);
    stripper(&all)
}

fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            let meta = fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                out.push(format!("{name}/"));
                walk(&e.path(), &format!("{name}/"), out);
            } else if meta.file_type().is_symlink() {
                out.push(format!(
                    "{name} -> {}",
                    fs::read_link(e.path()).unwrap().display()
                ));
            } else {
                out.push(format!(
                    "{name} {:o} {}",
                    meta.permissions().mode() & 0o7777,
                    sha256_hex(&fs::read(e.path()).unwrap())
                ));
            }
        }
    }
    walk(root, "", &mut out);
    out
}

const REMOVED: &[&str] = &[
    "lib/python3.11/json/__pycache__",
    "lib/python3.11/__pycache__",
    "lib/python3.11/test",
    "lib/python3.11/unittest/test",
    "lib/python3.11/idlelib",
    "lib/python3.11/tkinter",
    "lib/python3.11/config-3.11-x86_64-linux-gnu",
    "lib/libpython3.11.a",
    "include/python3.11",
    "share/man",
    "bin/idle3.11",
];

fn check_stripped(tree: &Path) {
    for gone in REMOVED {
        assert!(
            fs::symlink_metadata(tree.join(gone)).is_err(),
            "{gone} should be gone"
        );
    }
    for kept in [
        "lib/python3.11/os.py",
        "lib/python3.11/json/__init__.py",
        "lib/python3.11/unittest/case.py",
        "lib/python3.11/turtle.py",
        "lib/python3.11/site-packages/pkg/tests/test_pkg.py",
        "lib/python3.11/site-packages/pkg-1.0.dist-info/RECORD",
        "lib/python3.11/site-packages/empty-dir",
        "include",
    ] {
        assert!(tree.join(kept).exists(), "{kept} should stay");
    }
    assert_eq!(
        fs::read_link(tree.join("bin/python3")).unwrap(),
        Path::new("python3.11")
    );
    assert_eq!(
        fs::read_link(tree.join("lib/python3.11/python-link")).unwrap(),
        Path::new("../../../bin/python3.11")
    );
    assert_eq!(
        fs::metadata(tree.join("bin/python3.11"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    assert_eq!(
        String::from_utf8(sh(&format!("'{}'", tree.join("bin/python3").display()))).unwrap(),
        "python\n"
    );
}

#[test]
fn report_changes_nothing() {
    let root = python_fixture("strip-report");
    let before = listing(&root);
    let out = strip("python", &["--report"], &root);
    assert_ok(&out);
    assert_eq!(listing(&root), before);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("would remove"), "{table}");
    let row = |rule: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.starts_with(rule))
            .unwrap_or_else(|| panic!("{rule} in {table}"));
        line.split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    // test_os.py + support/__init__.py + unittest/test/test_case.py
    assert_eq!(row("python:stdlib-tests"), ["3", &(17 + 8 + 2).to_string()]);
    assert_eq!(row("python:bytecode")[0], "2");
    assert_eq!(row("python:idlelib")[0], "2");
}

/// `listing` plus every entry's mtime and size: what must not change in a dry run.
fn listing_with_times(root: &Path) -> Vec<String> {
    listing(root).into_iter().chain(mtimes(root)).collect()
}

/// `path mtime` of every entry below `root` (symlinks not followed), sorted.
fn mtimes(root: &Path) -> Vec<String> {
    let out = sh(&format!(
        "cd '{}' && find . -mindepth 1 -printf '%p %T@ %s\\n' | LC_ALL=C sort",
        root.display()
    ));
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Paths in `before` but not in `after` (names only: a directory's ends with `/`).
fn gone(before: &[String], after: &[String]) -> Vec<String> {
    let name = |entry: &String| -> String {
        match entry.split_once(" -> ") {
            Some((name, _)) => name.to_string(),
            None if entry.ends_with('/') => entry.clone(),
            None => entry.rsplitn(3, ' ').nth(2).unwrap().to_string(),
        }
    };
    let after: std::collections::BTreeSet<String> = after.iter().map(name).collect();
    let mut gone: Vec<String> = before
        .iter()
        .map(name)
        .filter(|n| !after.contains(n))
        .collect();
    gone.sort();
    gone
}

/// The `PATH` column of `--list` output, sorted, and the table after it.
fn listed(stdout: &[u8]) -> (Vec<String>, String) {
    let text = String::from_utf8(stdout.to_vec()).unwrap();
    let (list, table) = text
        .split_once("\n\n")
        .expect("a list, a blank line, a table");
    let mut paths: Vec<String> = list
        .lines()
        .skip(1) // "stripper: ROOT (would remove):"
        .map(|l| {
            let f: Vec<&str> = l.splitn(3, '\t').collect();
            assert_eq!(f.len(), 3, "{l}");
            assert!(f[1] == "-" || f[1].parse::<u64>().is_ok(), "{l}");
            assert_eq!(f[1] == "-", f[2].ends_with('/'), "{l}");
            f[2].to_string()
        })
        .collect();
    paths.sort();
    (paths, table.to_string())
}

#[test]
fn dry_run_touches_nothing_and_lists_what_a_real_run_removes() {
    let root = python_fixture("strip-dry-run");
    let elves = build_elves(&root.join("opt"));
    let before = listing(&root);
    let times = listing_with_times(&root);
    let args = ["--strip-debug", "--list", "--exclude", "share/**"];

    let mut dry_args = vec!["--dry-run"];
    dry_args.extend(args);
    let dry = strip("python", &dry_args, &root);
    assert_ok(&dry);
    assert_eq!(
        listing_with_times(&root),
        times,
        "the dry run changed the tree"
    );
    let (dry_paths, dry_table) = listed(&dry.stdout);
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains("(would remove)"),
        "{}",
        String::from_utf8_lossy(&dry.stdout)
    );
    assert!(
        dry_paths.contains(&"lib/python3.11/test/".to_string())
            && dry_paths.contains(&"lib/python3.11/test/test_os.py".to_string()),
        "{dry_paths:?}"
    );

    let mut real_args = vec!["--in-place"];
    real_args.extend(args);
    let real = strip("python", &real_args, &root);
    assert_ok(&real);
    let after = listing(&root);
    let (real_paths, real_table) = listed(&real.stdout);
    // What the dry run listed is what disappeared, and its table is the real run's.
    assert_eq!(dry_paths, gone(&before, &after));
    assert_eq!(real_paths, dry_paths);
    assert_eq!(dry_table, real_table);
    if elves.is_some() {
        let saved = dry_table
            .lines()
            .find(|l| l.starts_with("strip-debug:"))
            .unwrap();
        assert!(!saved.starts_with("strip-debug: 0 "), "{dry_table}");
    }
    // The old name of the flag still works.
    assert_ok(&strip("python", &["--report"], &root));
}

#[test]
fn relative_paths_under_bazel_run() {
    let root = python_fixture("strip-bazel-run");
    let parent = root.parent().unwrap();
    let name = root.file_name().unwrap().to_str().unwrap();
    let copy = output_dir_for(&root);
    let copy_name = copy.file_name().unwrap().to_str().unwrap();
    // `bazel run` starts the program elsewhere (its runfiles) and says where it was called.
    let elsewhere = scratch("strip-bazel-run-cwd");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stripper"))
            .args(["--profile", "python"])
            .args(args)
            .current_dir(&elsewhere)
            .env("BUILD_WORKING_DIRECTORY", parent)
            .output()
            .unwrap()
    };
    let before = listing(&root);
    let out = run(&["--dry-run", name]);
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&root.display().to_string()));
    assert_ok(&run(&["--output-dir", copy_name, name]));
    check_stripped(&copy);
    assert_eq!(listing(&root), before);
    assert!(
        dir_names(&elsewhere).is_empty(),
        "wrote into the working directory"
    );
}

#[test]
fn output_dir_and_in_place_agree() {
    let root = python_fixture("strip-copy");
    let copy = output_dir_for(&root);
    let out = strip(
        "python",
        &["--output-dir", &copy.display().to_string()],
        &root,
    );
    assert_ok(&out);
    check_stripped(&copy);

    let before = listing(&root);
    assert_ok(&strip("python", &["--in-place"], &root));
    assert_ne!(listing(&root), before);
    check_stripped(&root);
    assert_eq!(listing(&root), listing(&copy));
}

#[test]
fn include_and_exclude() {
    let root = python_fixture("strip-globs");
    assert_ok(&strip(
        "python",
        &[
            "--include",
            "lib/python3.11/test/support",
            "--exclude",
            "lib/python3.11/site-packages/*",
            "--in-place",
        ],
        &root,
    ));
    assert!(root
        .join("lib/python3.11/test/support/__init__.py")
        .exists());
    assert!(!root.join("lib/python3.11/test/test_os.py").exists());
    assert!(!root.join("lib/python3.11/site-packages/pkg").exists());
    assert!(root.join("lib/python3.11/site-packages").is_dir());
}

/// An installed wheel as rules_python lays it out: the repository holds `site-packages/`.
fn wheel_repo(root: &Path) {
    for path in [
        "site-packages/pkg/__init__.py",
        "site-packages/pkg/tests/__init__.py",
        "site-packages/pkg/tests/test_pkg.py",
        "site-packages/pkg/sub/tests/data/case.csv",
        "site-packages/pkg/tests.py",
        "site-packages/pkg/test/helper.py",
        "site-packages/pkg/testing/__init__.py",
        "site-packages/pkg-1.0.dist-info/METADATA",
        "site-packages/pkg-1.0.dist-info/RECORD",
        "site-packages/tests/__init__.py",
        "site-packages/tests/unit/tests/test_x.py",
        "site-packages/tests-0.1.dist-info/top_level.txt",
    ] {
        write(&root.join(path), format!("{path}\n").as_bytes());
    }
}

#[test]
fn site_packages_profile_drops_package_tests() {
    let root = scratch("strip-wheel");
    wheel_repo(&root);
    let out = strip("site-packages", &["--report"], &root);
    assert_ok(&out);
    let table = String::from_utf8(out.stdout).unwrap();
    let tests_row = table
        .lines()
        .find(|l| l.starts_with("site-packages:package-tests"))
        .unwrap_or_else(|| panic!("no package-tests row in {table}"));
    assert_eq!(tests_row.split_whitespace().nth(1), Some("3"), "{table}");

    assert_ok(&strip("site-packages", &["--in-place"], &root));
    for gone in [
        "site-packages/pkg/tests",
        "site-packages/pkg/sub/tests",
        "site-packages/pkg-1.0.dist-info/RECORD",
    ] {
        assert!(!root.join(gone).exists(), "{gone} should be gone");
    }
    for kept in [
        "site-packages/pkg/__init__.py",
        "site-packages/pkg/sub",
        "site-packages/pkg/tests.py",
        "site-packages/pkg/test/helper.py",
        "site-packages/pkg/testing/__init__.py",
        "site-packages/pkg-1.0.dist-info/METADATA",
        "site-packages/tests/__init__.py",
        "site-packages/tests/unit/tests/test_x.py",
    ] {
        assert!(root.join(kept).exists(), "{kept} should stay");
    }
}

#[test]
fn include_keeps_a_package_test_suite() {
    let root = scratch("strip-wheel-include");
    wheel_repo(&root);
    assert_ok(&strip(
        "site-packages",
        &["--include", "**/site-packages/pkg/tests", "--in-place"],
        &root,
    ));
    assert!(root.join("site-packages/pkg/tests/test_pkg.py").exists());
    assert!(!root.join("site-packages/pkg/sub/tests").exists());
}

#[test]
fn site_packages_root_gets_a_note() {
    let root = scratch("strip-wheel-inside");
    wheel_repo(&root);
    let inside = root.join("site-packages");
    let out = strip("site-packages", &["--report"], &inside);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("give the directory that holds it"),
        "{}",
        stderr(&out)
    );
    let out = strip("site-packages", &["--report"], &root);
    assert_ok(&out);
    assert!(!stderr(&out).contains("note:"), "{}", stderr(&out));
}

#[test]
fn bad_usage_exits_1() {
    let root = python_fixture("strip-bad");
    let out = strip("python", &["--report"], &root.join("nope"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
    let out = strip(
        "python",
        &["--output-dir", &root.display().to_string()],
        &root,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    let inside = root.join("inside");
    let out = strip(
        "python",
        &["--output-dir", &inside.display().to_string()],
        &root,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("inside"), "{}", stderr(&out));
    assert!(
        !inside.exists(),
        "the refused output directory is left behind"
    );
    let out = strip("python", &[], &root);
    assert_eq!(out.status.code(), Some(2), "a mode is required");
}

/// Builds a shared library and a program using it, both with debug info.
fn build_elves(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    if Command::new("cc").arg("--version").output().is_err() {
        eprintln!("skipping: no C compiler");
        return None;
    }
    fs::create_dir_all(dir.join("lib")).unwrap();
    fs::create_dir_all(dir.join("bin")).unwrap();
    write(&dir.join("greet.c"), b"#include <stdio.h>\nstruct big { int a[64]; long b; };\nint greet(const char *who) { struct big s = {{0}}; s.b = printf(\"hello %s\\n\", who); return (int)s.b + s.a[3]; }\n");
    write(&dir.join("main.c"), b"int greet(const char *);\nint main(int argc, char **argv) { (void)argv; return greet(argc > 1 ? \"twice\" : \"world\") == 12 ? 0 : 3; }\n");
    let lib = dir.join("lib/libgreet.so");
    let bin = dir.join("bin/hello");
    sh(&format!(
        "cc -g3 -O1 -shared -fPIC -o '{}' '{}'",
        lib.display(),
        dir.join("greet.c").display()
    ));
    sh(&format!(
        "cc -g3 -O1 -o '{}' '{}' -L'{}' -lgreet -Wl,-rpath,'$ORIGIN/../lib'",
        bin.display(),
        dir.join("main.c").display(),
        dir.join("lib").display()
    ));
    fs::remove_file(dir.join("greet.c")).unwrap();
    fs::remove_file(dir.join("main.c")).unwrap();
    Some((bin, lib))
}

fn debug_sections(elf: &Path) -> Vec<String> {
    let out = String::from_utf8(sh(&format!("readelf -S -W '{}'", elf.display()))).unwrap();
    out.lines()
        .filter(|l| l.contains(".debug_") || l.contains(".zdebug_"))
        .map(str::to_string)
        .collect()
}

fn check_stripped_elves(tree: &Path) {
    for elf in ["bin/hello", "lib/libgreet.so"] {
        let path = tree.join(elf);
        assert_eq!(debug_sections(&path), Vec::<String>::new(), "{elf}");
        // Everything a loader and a symbolizer need is still there.
        let sections =
            String::from_utf8(sh(&format!("readelf -S -W '{}'", path.display()))).unwrap();
        for keep in [".dynsym", ".dynamic", ".symtab", ".text"] {
            assert!(sections.contains(keep), "{elf} lost {keep}:\n{sections}");
        }
        sh(&format!(
            "readelf -d -s --dyn-syms -l -W '{}' > /dev/null",
            path.display()
        ));
        let dwarf = sh(&format!(
            "readelf --debug-dump=info '{}' 2>&1",
            path.display()
        ));
        assert!(
            !String::from_utf8_lossy(&dwarf).contains("DW_TAG"),
            "{elf} still has DWARF"
        );
    }
    let out = Command::new(tree.join("bin/hello")).output().unwrap();
    assert!(out.status.success(), "stripped program failed: {out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "hello world\n");
}

#[test]
fn strip_debug_keeps_programs_running() {
    let root = scratch("strip-elf");
    let Some((bin, lib)) = build_elves(&root) else {
        return;
    };
    assert!(
        !debug_sections(&bin).is_empty() && !debug_sections(&lib).is_empty(),
        "fixture has no debug info"
    );
    let (bin_size, lib_size) = (
        fs::metadata(&bin).unwrap().len(),
        fs::metadata(&lib).unwrap().len(),
    );

    let copy = output_dir_for(&root);
    let out = strip(
        "none",
        &["--strip-debug", "--output-dir", &copy.display().to_string()],
        &root,
    );
    assert_ok(&out);
    check_stripped_elves(&copy);
    assert!(fs::metadata(copy.join("bin/hello")).unwrap().len() < bin_size);
    assert!(fs::metadata(copy.join("lib/libgreet.so")).unwrap().len() < lib_size);
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("strip-debug: 2 ELF files"));

    // In place gives the same bytes, and stripping again changes nothing.
    for _ in 0..2 {
        assert_ok(&strip("none", &["--strip-debug", "--in-place"], &root));
        assert_eq!(listing(&root), listing(&copy));
    }
    assert_eq!(
        fs::metadata(root.join("bin/hello"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
}

#[test]
fn layer_splitter_strip_debug() {
    let root = scratch("layer-elf");
    let Some(_) = build_elves(&root.join("src")) else {
        return;
    };
    fs::write(
        root.join("manifest.txt"),
        format!("tree\topt/app\t{}\n", root.join("src").display()),
    )
    .unwrap();
    let blob = root.join("layer.tgz");
    let report = root.join("report.txt");
    let out = splitter(
        &root,
        &[
            "--manifest",
            &root.join("manifest.txt").display().to_string(),
            "--output",
            &blob.display().to_string(),
            "--descriptor",
            &root.join("layer.json").display().to_string(),
            "--strip-debug",
            "--report",
            &report.display().to_string(),
        ],
    );
    assert_ok(&out);
    check_descriptor(
        &blob,
        &root.join("layer.json"),
        "application/vnd.oci.image.layer.v1.tar+gzip",
    );
    let x = root.join("x");
    fs::create_dir_all(&x).unwrap();
    sh(&format!(
        "tar -xzf '{}' -C '{}'",
        blob.display(),
        x.display()
    ));
    check_stripped_elves(&x.join("opt/app"));
    assert!(fs::read_to_string(&report)
        .unwrap()
        .contains("strip-debug: 2 ELF files"));
}

/// Modules that cannot be imported on Linux, or whose import needs what the python
/// profile removes, each with the reason.
const IMPOSSIBLE: &[(&str, &str)] = &[
    ("msvcrt", "Windows only"),
    ("winreg", "Windows only"),
    ("winsound", "Windows only"),
    ("_winapi", "Windows only"),
    ("_overlapped", "Windows only"),
    ("_msi", "Windows only"),
    ("msilib", "imports _msi, Windows only"),
    ("nt", "Windows only"),
    ("_scproxy", "macOS only"),
    ("turtle", "imports tkinter, removed by the python profile"),
    ("antigravity", "opens a web browser on import"),
];

#[test]
fn pyenv_interpreter_strips_below_40_mb_and_still_imports_its_stdlib() {
    let pyenv = Path::new("/root/.pyenv/versions/3.11.7");
    if !pyenv.join("bin/python3.11").exists() {
        eprintln!("skipping: {} is absent", pyenv.display());
        return;
    }
    let out_dir = scratch("pyenv-stripped").join("python");
    let out = strip(
        "python",
        &[
            "--strip-debug",
            "--exclude",
            "lib/python3.11/site-packages/*",
            // Console scripts and binaries that packages installed next to the interpreter
            // (pip's `bin/`) are no more the interpreter than site-packages is.
            "--exclude",
            "bin/*",
            "--include",
            "bin/python*",
            "--output-dir",
            &out_dir.display().to_string(),
        ],
        pyenv,
    );
    assert_ok(&out);
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));

    let size: u64 = String::from_utf8(sh(&format!(
        "find '{}' -type f -printf '%s\\n'",
        out_dir.display()
    )))
    .unwrap()
    .lines()
    .map(|l| l.parse::<u64>().unwrap())
    .sum();
    eprintln!("stripped interpreter: {:.1} MB", size as f64 / 1e6);
    assert!(size <= 40_000_000, "stripped tree is {size} bytes");
    assert!(debug_sections(&out_dir.join("lib/libpython3.11.so.1.0")).is_empty());

    // Every top-level module left in the stripped stdlib, found from the tree itself.
    let stdlib = out_dir.join("lib/python3.11");
    let mut modules = Vec::new();
    for entry in fs::read_dir(&stdlib)
        .unwrap()
        .chain(fs::read_dir(stdlib.join("lib-dynload")).unwrap())
    {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let module = if path.is_dir() && path.join("__init__.py").exists() {
            name
        } else if let Some(stem) = name.strip_suffix(".py") {
            stem.to_string()
        } else if name.ends_with(".so") {
            name.split('.').next().unwrap().to_string()
        } else {
            continue;
        };
        if !module.contains('-') && !IMPOSSIBLE.iter().any(|(m, _)| *m == module) {
            modules.push(module);
        }
    }
    modules.sort();
    modules.dedup();
    assert!(modules.len() > 200, "found only {} modules", modules.len());
    for gone in [
        "idlelib",
        "tkinter",
        "lib2to3",
        "ensurepip",
        "turtledemo",
        "test",
        "_tkinter",
    ] {
        assert!(
            !modules.contains(&gone.to_string()),
            "{gone} should have been stripped"
        );
    }

    let script = format!(
        r#"
import importlib, os, sys
root = {root:?}
assert sys.prefix == root, sys.prefix
maps = open("/proc/self/maps").read()
assert root + "/lib/libpython3.11.so.1.0" in maps, "not the stripped libpython"
failed = []
for name in {modules:?}:
    try:
        importlib.import_module(name)
    except BaseException as e:
        failed.append("%s: %r" % (name, e))
assert os.__file__.startswith(root), os.__file__
print("\n".join(failed))
print("imported %d modules, %d failed" % ({count}, len(failed)))
"#,
        root = out_dir.display().to_string(),
        modules = modules,
        count = modules.len(),
    );
    let run = Command::new(out_dir.join("bin/python3.11"))
        .arg("-c")
        .arg(&script)
        .env("PYTHONHOME", &out_dir)
        .env("LD_LIBRARY_PATH", out_dir.join("lib"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONNOUSERSITE", "1")
        .env_remove("PYTHONPATH")
        .env("DISPLAY", "")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    eprintln!("{stdout}");
    assert!(
        run.status.success(),
        "interpreter failed: {}\n{stdout}",
        stderr(&run)
    );
    assert!(
        stdout.trim_end().ends_with(", 0 failed"),
        "imports failed:\n{stdout}"
    );
}

/// Everything under `dir`: path, type, and content digest of files.
fn snapshot(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let what = if meta.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if meta.file_type().is_symlink() {
                format!("link {}", fs::read_link(&path).unwrap().display())
            } else {
                sha256_hex(&fs::read(&path).unwrap())
            };
            out.push(format!("{} {what}", path.display()));
        }
    }
    out.sort();
    out
}

#[test]
fn links_out_of_the_tree_are_never_followed_or_written_through() {
    let root = scratch("strip-outside");
    let tree = root.join("tree");
    python_tree(&tree);
    // Outside the tree: what the rules would remove, and an ELF with debug sections.
    let outside = root.join("outside");
    write(&outside.join("__pycache__/x.cpython-311.pyc"), b"bytecode");
    write(&outside.join("tests/test_x.py"), b"t\n");
    write(&outside.join("x.pyc"), b"bytecode");
    write(&outside.join("victim"), b"must stay\n");
    let Some((_, lib)) = build_elves(&outside) else {
        return;
    };
    fs::copy(&lib, tree.join("lib/libgreet.so")).unwrap();
    symlink(&outside, tree.join("lib/python3.11/abs-out")).unwrap();
    symlink("../../../outside", tree.join("lib/python3.11/rel-out")).unwrap();
    symlink(&lib, tree.join("lib/linked.so")).unwrap();
    symlink(outside.join("x.pyc"), tree.join("lib/x.pyc")).unwrap();
    let before = snapshot(&outside);
    let tree_text = tree.display().to_string();
    // The temporary name of the stripped library, planted as a link out of the tree by
    // a shell that then becomes the stripper (same process id).
    let planted = format!(
        "ln -s '{}' '{}/lib/.libgreet.so.tmp-'$$ && exec '{}' --profile python --strip-debug --in-place '{tree_text}'",
        outside.join("victim").display(),
        tree_text,
        env!("CARGO_BIN_EXE_stripper"),
    );
    let out = Command::new("sh").arg("-c").arg(&planted).output().unwrap();
    assert_ok(&out);
    assert_eq!(snapshot(&outside), before, "files outside the tree changed");
    assert!(debug_sections(&tree.join("lib/libgreet.so")).is_empty());
    // The links themselves were handled as links: kept, or removed by a rule.
    assert!(fs::symlink_metadata(tree.join("lib/python3.11/abs-out")).is_ok());
    assert!(fs::symlink_metadata(tree.join("lib/x.pyc")).is_err());
}
