//! Fuzzes the manifest parser and the path rules it relies on (see
//! `pyimage::fuzzing::manifest` for the properties).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pyimage::fuzzing::manifest(data));
