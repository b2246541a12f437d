//! Fuzzes the `@PARAMFILE` parser (see `pyimage::fuzzing::paramfile`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pyimage::fuzzing::paramfile(data));
