//! A run that is cancelled (SIGTERM, SIGINT: what Bazel sends on cancel and timeout)
//! leaves no file at all in the output directory and exits with 128 + the signal; where
//! the filesystem has unnamed temporary files, not even SIGKILL leaves one.

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Starts layer-splitter on a sparse 16 GiB input (long enough to be interrupted in any
/// build profile), writing into `root/out`.
fn start(root: &Path) -> Child {
    let big = root.join("big.bin");
    fs::File::create(&big).unwrap().set_len(16 << 30).unwrap();
    fs::write(
        root.join("manifest.txt"),
        format!("file\tapp/big.bin\t{}\n", big.display()),
    )
    .unwrap();
    let out = root.join("out");
    fs::create_dir_all(&out).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_layer-splitter"));
    // A shell starts background jobs with SIGINT ignored, and the tool leaves ignored
    // signals ignored: give the child the default dispositions Bazel's actions get.
    // SAFETY: signal() is async-signal-safe, as pre_exec requires.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            Ok(())
        });
    }
    command
        .args(["--manifest", "manifest.txt", "--threads", "2"])
        .arg(format!("--output={}", out.join("layer.tgz").display()))
        .arg(format!("--descriptor={}", out.join("layer.json").display()))
        .arg(format!("--report={}", out.join("report.txt").display()))
        .arg(format!(
            "--img-metadata={}",
            out.join("layer.img.json").display()
        ))
        .args(["--created-by", "bazel build //app:layers (app)"])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the process has a file open in `dir` (its temporary blob, named or not),
/// then a little longer so the write is well under way.
fn wait_for_output_file(pid: u32, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let dir = fs::canonicalize(dir).unwrap();
    loop {
        let open = fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|fds| {
                fds.filter_map(|fd| fs::read_link(fd.ok()?.path()).ok())
                    .any(|target| target.starts_with(&dir))
            })
            .unwrap_or(false);
        if open {
            std::thread::sleep(Duration::from_millis(300));
            return;
        }
        assert!(Instant::now() < deadline, "no output file was ever opened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt(name: &str, signal: libc::c_int) -> (Option<i32>, Vec<String>, String) {
    let root = scratch(name);
    let child = start(&root);
    wait_for_output_file(child.id(), &root.join("out"));
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let output = child.wait_with_output().unwrap();
    let left = dir_names(&root.join("out"));
    fs::remove_dir_all(&root).unwrap();
    (output.status.code(), left, stderr(&output))
}

#[test]
fn sigterm_leaves_nothing_and_exits_143() {
    let (code, left, message) = interrupt("sigterm", libc::SIGTERM);
    assert_eq!(left, Vec::<String>::new(), "files left behind");
    assert_eq!(code, Some(128 + libc::SIGTERM), "{message}");
}

#[test]
fn sigint_leaves_nothing_and_exits_130() {
    let (code, left, message) = interrupt("sigint", libc::SIGINT);
    assert_eq!(left, Vec::<String>::new(), "files left behind");
    assert_eq!(code, Some(128 + libc::SIGINT), "{message}");
}

/// Whether `dir`'s filesystem supports unnamed temporary files.
#[cfg(target_os = "linux")]
fn has_o_tmpfile(dir: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
        .is_ok()
}

#[test]
#[cfg(target_os = "linux")]
fn sigkill_leaves_nothing_where_unnamed_temporary_files_exist() {
    let root = scratch("sigkill");
    if !has_o_tmpfile(&root) {
        println!(
            "skipped: the filesystem of {} has no O_TMPFILE, so a killed run leaves its hidden temporary file",
            root.display()
        );
        return;
    }
    let mut child = start(&root);
    wait_for_output_file(child.id(), &root.join("out"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(dir_names(&root.join("out")), Vec::<String>::new());
    fs::remove_dir_all(&root).unwrap();
}
