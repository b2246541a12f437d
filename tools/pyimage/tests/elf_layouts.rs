//! Debug stripping on the layouts wheels ship: plain linker output, libraries rewritten by
//! patchelf (as auditwheel does: a new loadable segment after the debug sections), and a
//! library whose debug data a loadable segment maps, which must be left alone. Every
//! result is read with binutils and loaded with Python's `ctypes`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool).arg(arg).output().is_ok()
}

/// Why the host cannot run these tests, if it cannot.
fn missing_tools(need_patchelf: bool) -> Option<&'static str> {
    if !have("gcc", "--version") {
        return Some("gcc is not installed");
    }
    if !have("readelf", "--version") || !have("objdump", "--version") {
        return Some("binutils (readelf, objdump) is not installed");
    }
    if !have("python3", "--version") {
        return Some("python3 is not installed");
    }
    if need_patchelf && !have("patchelf", "--version") {
        return Some("patchelf is not installed (Debian package `patchelf`)");
    }
    None
}

/// A C source whose debug information spans many pages, with `long answer(void)`
/// returning 42.
fn big_source() -> String {
    let mut src = String::from("#include <string.h>\n");
    for i in 0..150 {
        src += &format!(
            "struct s{i} {{ int a{i}[{}]; long b; double c; const char *name; }};\n\
             __attribute__((noinline)) long f{i}(long x) {{ struct s{i} v; memset(&v, 0, sizeof v); v.b = x + {i}; return v.b + v.a{i}[0]; }}\n",
            i % 7 + 1
        );
    }
    src += "long answer(void) { long t = 0;";
    for i in 0..150 {
        src += &format!(" t += f{i}(1);");
    }
    src += " return t - t + 42; }\n";
    src
}

/// Builds `name` (a shared library with debug info) in `dir`.
fn build_library(dir: &Path, name: &str) -> PathBuf {
    let source = dir.join("answer.c");
    write(&source, big_source().as_bytes());
    let lib = dir.join(name);
    sh(&format!(
        "gcc -g3 -O1 -shared -fPIC -o '{}' '{}'",
        lib.display(),
        source.display()
    ));
    fs::remove_file(source).unwrap();
    lib
}

fn readelf(path: &Path, flags: &str) -> String {
    let out = Command::new("readelf")
        .args(flags.split(' '))
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "readelf {flags} {path:?}: {out:?}");
    assert_eq!(stderr(&out), "", "readelf {flags} {path:?} complains");
    String::from_utf8(out.stdout).unwrap()
}

/// `(offset, size)` of every `.debug_*` section, from `readelf -S -W`.
fn debug_ranges(path: &Path) -> Vec<(u64, u64)> {
    readelf(path, "-S -W")
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_once(']')?.1.split_whitespace().collect();
            if !fields.first()?.starts_with(".debug_") {
                return None;
            }
            let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
            Some((hex(fields[3]), hex(fields[4])))
        })
        .collect()
}

/// File offsets of the `LOAD` program headers, from `readelf -l -W`.
fn load_offsets(path: &Path) -> Vec<u64> {
    readelf(path, "-l -W")
        .lines()
        .filter(|l| l.trim_start().starts_with("LOAD "))
        .map(|l| {
            let offset = l.split_whitespace().nth(1).unwrap();
            u64::from_str_radix(offset.trim_start_matches("0x"), 16).unwrap()
        })
        .collect()
}

/// What `answer()` returns when Python loads the library.
fn call_answer(path: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg("import ctypes, sys; print(ctypes.CDLL(sys.argv[1]).answer())")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "loading {path:?} failed: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn strip_into(tree: &Path, out: &Path) -> Output {
    let out = stripper(&[
        "--profile",
        "none",
        "--strip-debug",
        "--output-dir",
        &out.display().to_string(),
        &tree.display().to_string(),
    ]);
    assert_ok(&out);
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Checks a stripped library with binutils and by loading it.
fn check_stripped(original: &Path, stripped: &Path) {
    let sections = readelf(stripped, "-S -l -W");
    assert!(
        !sections.contains(".debug_") && !sections.contains(".zdebug_"),
        "{stripped:?} keeps debug sections:\n{sections}"
    );
    for keep in [".dynsym", ".dynamic", ".symtab", ".strtab", ".text"] {
        assert!(sections.contains(keep), "{stripped:?} lost {keep}");
    }
    // What the dynamic loader reads is unchanged (only where it lies in the file moves).
    let without_offsets = |text: String| -> Vec<String> {
        text.lines()
            .filter(|l| !l.contains(" at offset 0x"))
            .map(str::to_string)
            .collect()
    };
    for flags in ["-d -W", "--dyn-syms -W", "-n -W"] {
        assert_eq!(
            without_offsets(readelf(original, flags)),
            without_offsets(readelf(stripped, flags)),
            "readelf {flags} differs"
        );
    }
    readelf(stripped, "-a -W");
    let objdump = Command::new("objdump")
        .arg("-d")
        .arg("-x")
        .arg(stripped)
        .output()
        .unwrap();
    assert!(
        objdump.status.success() && stderr(&objdump).is_empty(),
        "{objdump:?}"
    );
    assert!(
        fs::metadata(stripped).unwrap().len() < fs::metadata(original).unwrap().len(),
        "{stripped:?} did not get smaller"
    );
    assert_eq!(call_answer(stripped), "42");
}

#[test]
fn plain_and_patchelf_libraries_lose_their_debug_sections() {
    if let Some(why) = missing_tools(true) {
        eprintln!("skipping: {why}");
        return;
    }
    let root = scratch("elf-patchelf");
    let tree = root.join("tree");
    fs::create_dir_all(&tree).unwrap();
    let plain = build_library(&tree, "plain.so");
    let rpath = tree.join("rpath.so");
    let soname = tree.join("soname.so");
    fs::copy(&plain, &rpath).unwrap();
    fs::copy(&plain, &soname).unwrap();
    sh(&format!(
        "patchelf --set-rpath '$ORIGIN/../lib' '{0}' && patchelf --add-needed libm.so.6 '{0}'",
        rpath.display()
    ));
    sh(&format!(
        "patchelf --set-soname libanswer-renamed.so '{}'",
        soname.display()
    ));

    // The fixture has the layout of a repaired wheel: a segment after the debug data.
    for lib in [&rpath, &soname] {
        let debug_start = debug_ranges(lib).iter().map(|r| r.0).min().unwrap();
        assert!(
            load_offsets(lib).iter().any(|&o| o > debug_start),
            "{lib:?}: patchelf left no segment after the debug sections"
        );
    }
    for lib in [&plain, &rpath, &soname] {
        assert_eq!(call_answer(lib), "42");
    }

    let out_dir = root.join("out");
    let out = strip_into(&tree, &out_dir);
    let report = stdout(&out);
    assert!(report.contains("strip-debug: 3 ELF files, "), "{report}");
    assert!(report.contains("(3 ELF files examined)"), "{report}");
    assert!(!report.contains("debug sections:"), "{report}");
    for name in ["plain.so", "rpath.so", "soname.so"] {
        let (original, stripped) = (tree.join(name), out_dir.join(name));
        check_stripped(&original, &stripped);
        let debug: u64 = debug_ranges(&original).iter().map(|r| r.1).sum();
        let before = fs::metadata(&original).unwrap().len();
        let after = fs::metadata(&stripped).unwrap().len();
        eprintln!("{name}: {before} -> {after} bytes ({debug} bytes of debug sections)");
        // At most one 4096-byte page of the debug data's room is kept as padding.
        assert!(
            before - after + 4096 >= debug,
            "{name}: saved {} of {debug} debug bytes",
            before - after
        );
    }
    let dynamic = readelf(&out_dir.join("rpath.so"), "-d -W");
    assert!(
        dynamic.contains("[$ORIGIN/../lib]") && dynamic.contains("[libm.so.6]"),
        "{dynamic}"
    );

    // Same input, same bytes; and a stripped tree has nothing left to strip.
    let again = root.join("again");
    strip_into(&tree, &again);
    let twice = root.join("twice");
    let out = strip_into(&out_dir, &twice);
    for name in ["plain.so", "rpath.so", "soname.so"] {
        let first = fs::read(out_dir.join(name)).unwrap();
        assert_eq!(first, fs::read(again.join(name)).unwrap(), "{name}");
        assert_eq!(first, fs::read(twice.join(name)).unwrap(), "{name}");
    }
    let report = stdout(&out);
    assert!(
        report.contains("strip-debug: no ELF file with debug sections (3 ELF files examined)"),
        "{report}"
    );
}

/// Turns the first `PT_NOTE` after the last `PT_LOAD` of a 64-bit little-endian library
/// into a read-only `PT_LOAD` mapping its debug sections (at an address above every other
/// segment). Returns false when the library has no such note.
fn map_debug_data(lib: &Path, debug: (u64, u64)) -> bool {
    let mut bytes = fs::read(lib).unwrap();
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap());
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    assert_eq!(
        &bytes[..6],
        b"\x7fELF\x02\x01",
        "not a 64-bit little-endian ELF"
    );
    let phoff = u64_at(&bytes, 32) as usize;
    let phnum = u16_at(&bytes, 56) as usize;
    let entry = |i: usize| phoff + 56 * i;
    let kind =
        |b: &[u8], i: usize| u32::from_le_bytes(b[entry(i)..entry(i) + 4].try_into().unwrap());
    let loads: Vec<usize> = (0..phnum).filter(|&i| kind(&bytes, i) == 1).collect();
    let last_load = *loads.last().unwrap();
    let Some(note) = (last_load + 1..phnum).find(|&i| kind(&bytes, i) == 4) else {
        return false;
    };
    let align = loads
        .iter()
        .map(|&i| u64_at(&bytes, entry(i) + 48))
        .max()
        .unwrap();
    let top = loads
        .iter()
        .map(|&i| u64_at(&bytes, entry(i) + 16) + u64_at(&bytes, entry(i) + 40))
        .max()
        .unwrap();
    let (offset, size) = debug;
    let vaddr = top.div_ceil(align) * align + offset % align;
    let e = entry(note);
    let put = |b: &mut Vec<u8>, at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    bytes[e..e + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    bytes[e + 4..e + 8].copy_from_slice(&4u32.to_le_bytes()); // PF_R
    put(&mut bytes, e + 8, offset);
    put(&mut bytes, e + 16, vaddr);
    put(&mut bytes, e + 24, vaddr);
    put(&mut bytes, e + 32, size);
    put(&mut bytes, e + 40, size);
    put(&mut bytes, e + 48, align);
    fs::write(lib, bytes).unwrap();
    true
}

#[test]
fn debug_data_a_segment_maps_is_kept_and_reported() {
    if let Some(why) = missing_tools(false) {
        eprintln!("skipping: {why}");
        return;
    }
    if !cfg!(all(target_pointer_width = "64", target_endian = "little")) {
        eprintln!("skipping: the fixture is patched as a 64-bit little-endian ELF file");
        return;
    }
    let root = scratch("elf-inside-load");
    let tree = root.join("tree");
    fs::create_dir_all(&tree).unwrap();
    let lib = build_library(&tree, "mapped.so");
    let ranges = debug_ranges(&lib);
    let start = ranges.iter().map(|r| r.0).min().unwrap();
    let end = ranges.iter().map(|r| r.0 + r.1).max().unwrap();
    if !map_debug_data(&lib, (start, end - start)) {
        eprintln!("skipping: gcc emitted no PT_NOTE after the loadable segments");
        return;
    }
    // The fixture is a valid library in which a loadable segment holds the debug data.
    assert!(load_offsets(&lib).contains(&start));
    readelf(&lib, "-a -W");
    assert_eq!(call_answer(&lib), "42");

    let out_dir = root.join("out");
    let out = strip_into(&tree, &out_dir);
    let report = stdout(&out);
    assert!(
        report.contains("strip-debug: no ELF file could be stripped (1 ELF file examined)"),
        "{report}"
    );
    assert!(
        report.contains(
            "strip-debug: 1 ELF file kept its debug sections: debug data lies inside a loadable segment (first: mapped.so)"
        ),
        "{report}"
    );
    assert_eq!(
        fs::read(&lib).unwrap(),
        fs::read(out_dir.join("mapped.so")).unwrap()
    );

    // layer-splitter says the same in its report and warns on stderr.
    fs::write(
        root.join("manifest.txt"),
        format!("file\tapp/mapped.so\t{}\n", lib.display()),
    )
    .unwrap();
    let report_path = root.join("report.txt");
    let out = splitter(
        &root,
        &[
            "--manifest",
            &root.join("manifest.txt").display().to_string(),
            "--output",
            &root.join("layer.tar").display().to_string(),
            "--descriptor",
            &root.join("layer.json").display().to_string(),
            "--compression",
            "none",
            "--strip-debug",
            "--report",
            &report_path.display().to_string(),
        ],
    );
    assert_ok(&out);
    let report = fs::read_to_string(&report_path).unwrap();
    let line = "strip-debug: 1 ELF file kept its debug sections: debug data lies inside a loadable segment (first: app/mapped.so)";
    assert!(report.contains(line), "{report}");
    assert!(
        stderr(&out).contains(&format!("layer-splitter: warning: {line}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn too_little_debug_data_to_move_a_patchelf_segment_is_reported() {
    if let Some(why) = missing_tools(true) {
        eprintln!("skipping: {why}");
        return;
    }
    let root = scratch("elf-small-patchelf");
    let tree = root.join("tree");
    fs::create_dir_all(&tree).unwrap();
    let source = root.join("small.c");
    write(&source, b"long answer(void) { return 42; }\n");
    let lib = tree.join("small.so");
    sh(&format!(
        "gcc -g -O1 -shared -fPIC -o '{0}' '{1}' && patchelf --set-soname libsmall-renamed.so '{0}'",
        lib.display(),
        source.display()
    ));
    let debug: u64 = debug_ranges(&lib).iter().map(|r| r.1).sum();
    assert!(debug > 0 && debug < 4096, "{debug} bytes of debug sections");
    assert_eq!(call_answer(&lib), "42");

    let out_dir = root.join("out");
    let report = stdout(&strip_into(&tree, &out_dir));
    assert!(
        report.contains(
            "strip-debug: 1 ELF file kept its debug sections: the debug data before a later segment is smaller than its alignment (first: small.so)"
        ),
        "{report}"
    );
    assert_eq!(
        fs::read(&lib).unwrap(),
        fs::read(out_dir.join("small.so")).unwrap()
    );
}
