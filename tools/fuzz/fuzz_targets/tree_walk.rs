//! Fuzzes the `tree` walker: the input is a script that builds a small directory tree
//! (see `pyimage::fuzzing::tree_walk`), which is then collected. Best on a tmpfs:
//! `TMPDIR=/dev/shm cargo +nightly fuzz run tree_walk`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::temp_dir().join(format!("pyimage-fuzz-tree-{}", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| pyimage::fuzzing::tree_walk(data, scratch()));
