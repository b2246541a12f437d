//! Fuzzes the layer tar lister (see `pyimage::fuzzing::tar_list` for the properties).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pyimage::fuzzing::tar_list(data));
