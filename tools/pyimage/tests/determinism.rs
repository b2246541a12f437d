//! Same inputs, same bytes, whoever runs the tool and wherever: a layer is built from one
//! checkout under a umask of 077, another TMPDIR, LC_ALL=C and C.UTF-8, from a copy of the
//! checkout at another path (and one made under umask 077), and as another user, and every
//! blob digest must be the same.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A checkout whose manifest names its sources by relative paths, as Bazel does.
fn checkout(root: &Path) -> PathBuf {
    let co = root.join("checkout");
    write(&co.join("src/app/main.py"), b"print('hi')\n");
    write(
        &co.join("src/app/run.sh"),
        b"#!/bin/sh\nexec python3 main.py\n",
    );
    chmod(&co.join("src/app/run.sh"), 0o755);
    write(&co.join("src/data.bin"), &payload(2 << 20, 11));
    write(&co.join("src/é/ünïcode.txt"), "ö\n".as_bytes());
    write(&co.join("src/tree/pkg/__init__.py"), b"");
    write(&co.join("src/tree/pkg/mod.py"), &payload(100_000, 12));
    write(
        &co.join(format!("src/tree/{}/x.py", "d".repeat(120))),
        b"x\n",
    );
    fs::create_dir_all(co.join("src/tree/empty")).unwrap();
    symlink("pkg/mod.py", co.join("src/tree/alias.py")).unwrap();
    fs::write(
        co.join("manifest.txt"),
        "file\tapp/main.py\tsrc/app/main.py\n\
         file\tapp/run.sh\tsrc/app/run.sh\n\
         file\tapp/data.bin\tsrc/data.bin\tmode=0640\n\
         file\tapp/é/ünïcode.txt\tsrc/é/ünïcode.txt\n\
         tree\topt/lib\tsrc/tree\n\
         symlink\tusr/bin/app\t/app/run.sh\n\
         dir\tvar/cache\n\
         empty\tapp/__init__.py\n",
    )
    .unwrap();
    co
}

/// Runs layer-splitter in `cwd` through `sh -c` with `prefix` (environment, umask or a
/// user switch) and returns the descriptors (digests, sizes) of a gzip and a zstd layer.
fn digests(cwd: &Path, out: &Path, prefix: &str, env: &[(&str, &str)]) -> Vec<String> {
    fs::create_dir_all(out).unwrap();
    ["gzip", "zstd"]
        .iter()
        .map(|compression| {
            let blob = out.join(format!("layer.{compression}"));
            let descriptor = out.join(format!("{compression}.json"));
            let script = format!(
                "{prefix} '{}' --manifest manifest.txt --output '{}' --descriptor '{}' --compression {compression} --hardlink-duplicates",
                env!("CARGO_BIN_EXE_layer-splitter"),
                blob.display(),
                descriptor.display()
            );
            let result = Command::new("sh")
                .arg("-c")
                .arg(&script)
                .envs(env.iter().copied())
                .current_dir(cwd)
                .output()
                .unwrap();
            assert_ok(&result);
            let d = check_descriptor(&blob, &descriptor, &read_descriptor(&descriptor).media_type);
            format!("{} {} {} {}", d.digest, d.size, d.diff_id, d.entries)
        })
        .collect()
}

#[test]
fn the_same_bytes_for_any_user_umask_locale_tmpdir_checkout_path_or_exec_bits() {
    let root = scratch("determinism-users");
    let co = checkout(&root);
    let expected = digests(&co, &root.join("out-plain"), "exec", &[]);

    let mut variations: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |name: &str, got: Vec<String>| variations.push((name.to_string(), got));

    add(
        "umask 077",
        digests(&co, &root.join("out-umask"), "umask 077; exec", &[]),
    );
    let tmp = root.join("other-tmp");
    fs::create_dir_all(&tmp).unwrap();
    add(
        "TMPDIR",
        digests(
            &co,
            &root.join("out-tmp"),
            "exec",
            &[("TMPDIR", tmp.to_str().unwrap())],
        ),
    );
    for locale in ["C", "C.UTF-8"] {
        add(
            &format!("LC_ALL={locale}"),
            digests(
                &co,
                &root.join(format!("out-{locale}")),
                "exec",
                &[("LC_ALL", locale), ("LANG", locale)],
            ),
        );
    }
    // A copy of the checkout elsewhere (a longer path), and one made under umask 077
    // (files 0600/0700, directories 0700).
    let moved = root.join("a/much/longer/path/to/another/checkout");
    fs::create_dir_all(moved.parent().unwrap()).unwrap();
    sh(&format!("cp -a '{}' '{}'", co.display(), moved.display()));
    add(
        "another checkout path",
        digests(&moved, &root.join("out-moved"), "exec", &[]),
    );
    let private = root.join("private-checkout");
    sh(&format!(
        "umask 077 && cp -r '{}' '{}'",
        co.display(),
        private.display()
    ));
    let mode = fs::metadata(private.join("src/app/main.py"))
        .unwrap()
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    add(
        "a checkout made under umask 077",
        digests(&private, &root.join("out-private"), "exec", &[]),
    );
    // Executable bits do not travel with a file everywhere Bazel moves it: a remote
    // worker gets every input executable; a checkout may have lost them all.
    for (name, chmod) in [
        ("every file executable", "a+x"),
        ("no file executable", "a-x"),
    ] {
        let copy = root.join(name.replace(' ', "-"));
        sh(&format!(
            "cp -a '{}' '{}' && find '{}' -type f -exec chmod {chmod} {{}} +",
            co.display(),
            copy.display(),
            copy.display()
        ));
        add(
            name,
            digests(&copy, &root.join(format!("out-{chmod}")), "exec", &[]),
        );
    }

    // Another user, where we can switch to one.
    let is_root = String::from_utf8(sh("id -u")).unwrap().trim() == "0";
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    let traversable = {
        let mut ok = true;
        let mut dir = root.as_path();
        while let Some(parent) = dir.parent() {
            let mode =
                std::os::unix::fs::PermissionsExt::mode(&fs::metadata(dir).unwrap().permissions());
            ok &= mode & 0o001 != 0;
            dir = parent;
        }
        ok
    };
    if is_root && setpriv && traversable {
        let out = root.join("out-nobody");
        fs::create_dir_all(&out).unwrap();
        chmod(&out, 0o777);
        add(
            "uid 65534",
            digests(
                &moved,
                &out,
                "exec setpriv --reuid=65534 --regid=65534 --clear-groups",
                &[],
            ),
        );
    } else {
        println!(
            "skipped the other-user run: needs root ({is_root}), setpriv ({setpriv}) and a scratch directory every user can reach ({traversable})"
        );
    }

    for (name, got) in &variations {
        assert_eq!(got, &expected, "{name}: different bytes");
    }
    println!("{} variations, all {:?}", variations.len(), expected);
}
