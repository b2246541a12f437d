//! Fuzzes the manifest parser and the path rules it relies on: any input gives `Ok` or
//! `Err`, never a panic; accepted destinations are normalised; a symlink target rewritten
//! to its relative form resolves to the same in-image path as the original; a `link` or
//! `output` entry names a non-empty source.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyimage::path::resolve_link;
use pyimage::{normalize_dest, parse_manifest_bytes, relative_link, ManifestEntry};

fuzz_target!(|data: &[u8]| {
    let Ok(lines) = parse_manifest_bytes(data) else {
        return;
    };
    for line in lines {
        let dest = line.entry.dest();
        assert_eq!(normalize_dest(dest).as_deref(), Ok(dest));
        match &line.entry {
            ManifestEntry::Symlink { dest, target } => {
                if let Some(relative) = relative_link(dest, target) {
                    assert!(!relative.starts_with('/'));
                    assert_eq!(resolve_link(dest, &relative), resolve_link(dest, target));
                }
            }
            ManifestEntry::Link { src, .. } | ManifestEntry::Output { src, .. } => {
                assert!(!src.as_os_str().is_empty())
            }
            _ => {}
        }
    }
});
