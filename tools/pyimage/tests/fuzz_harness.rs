//! The fuzz harnesses (`pyimage::fuzzing`, also run by the cargo-fuzz targets in
//! `tools/fuzz`) over generated inputs: token soup and mutations for the manifest and
//! parameter-file parsers, random build scripts for the tree walker. Each test prints how
//! many inputs it ran.

mod common;

use common::scratch;

/// xorshift64: the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `count` inputs: tokens from `alphabet`, with now and then a random byte.
fn corpus(seed: u64, count: usize, max_tokens: usize, alphabet: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let mut input = Vec::new();
            for _ in 0..rng.below(max_tokens + 1) {
                if rng.below(16) == 0 {
                    input.push(rng.next() as u8);
                } else {
                    input.extend_from_slice(alphabet[rng.below(alphabet.len())]);
                }
            }
            input
        })
        .collect()
}

#[test]
fn manifest_harness() {
    let alphabet: &[&[u8]] = &[
        b"file",
        b"tree",
        b"symlink",
        b"link",
        b"output",
        b"dir",
        b"empty",
        b"\t",
        b"\n",
        b"\r\n",
        b"/",
        b"..",
        b".",
        b"a",
        b"#",
        b"0755",
        b"mode=0755",
        b"uid=1",
        b"uname=a",
        b"rawlink",
        b"\xff",
        b"\xc3\xa9",
        b"\r",
        b"\0",
        b" ",
        b"//",
        b"0o7",
    ];
    let inputs = corpus(0x5eed_0001, 40_000, 32, alphabet);
    for input in &inputs {
        pyimage::fuzzing::manifest(input);
    }
    println!("manifest harness: {} executions", inputs.len());
}

#[test]
fn paramfile_harness() {
    let alphabet: &[&[u8]] = &[
        b"--manifest",
        b"m.txt",
        b"\n",
        b"\r\n",
        b"\r",
        b"@x",
        b"\xff",
        b"\xe9",
        b"a b",
        b"",
        b"\xc3\xa9",
        b"\t",
        b"=",
        b"--output",
    ];
    let inputs = corpus(0x5eed_0002, 40_000, 24, alphabet);
    for input in &inputs {
        pyimage::fuzzing::paramfile(input);
    }
    println!("paramfile harness: {} executions", inputs.len());
}

#[test]
fn tree_walk_harness() {
    // tmpfs where there is one: the harness creates and removes thousands of files.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        let dir = shm.join(format!("pyimage-fuzz-tree-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    } else {
        scratch("fuzz-tree")
    };
    let mut rng = Rng(0x5eed_0003);
    let count = 10_000;
    for _ in 0..count {
        let len = rng.below(96);
        let input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        pyimage::fuzzing::tree_walk(&input, &dir.join("case"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
    println!("tree walk harness: {count} executions");
}

/// Tar headers built from valid and broken fields: checksums right and wrong, PAX and GNU
/// long-name records, sizes octal and base-256, truncations.
#[test]
fn tar_list_harness() {
    let mut rng = Rng(0x5eed_0004);
    let mut executions = 0;
    for _ in 0..20_000 {
        let mut data = Vec::new();
        for _ in 0..rng.below(4) + 1 {
            let mut header = [0u8; 512];
            let name = [b"a/b".as_slice(), b"./x/", b"", b"/abs", b"\xff\xfe"][rng.below(5)];
            header[..name.len()].copy_from_slice(name);
            let kind = [b'0', b'x', b'L', b'5', b'2', b'g', 0, b'Z'][rng.below(8)];
            header[156] = kind;
            let body: Vec<u8> = match kind {
                b'x' => [
                    b"12 path=abc\n".as_slice(),
                    b"99 path=x\n",
                    b"9 size=7\n",
                    b"x",
                ][rng.below(4)]
                .to_vec(),
                b'L' => b"long/name\0".to_vec(),
                _ => vec![7u8; rng.below(700)],
            };
            let size = if rng.below(10) == 0 {
                body.len() as u64 + 3
            } else {
                body.len() as u64
            };
            if rng.below(8) == 0 {
                header[124] = 0x80;
                header[135] = size as u8;
            } else {
                header[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
            }
            header[257..262].copy_from_slice(b"ustar");
            let sum = pyimage::tar::header_checksum(&header);
            let sum = if rng.below(12) == 0 { sum + 1 } else { sum };
            header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            data.extend_from_slice(&header);
            data.extend_from_slice(&body);
            data.resize(data.len().div_ceil(512) * 512, 0);
        }
        let cut = if rng.below(6) == 0 {
            rng.below(data.len() + 1)
        } else {
            data.len()
        };
        pyimage::fuzzing::tar_list(&data[..cut]);
        executions += 1;
    }
    println!("tar_list harness: {executions} executions");
}

/// Contents files: valid ones with a field removed, changed or out of range.
#[test]
fn contents_harness() {
    let dir = std::env::temp_dir().join(format!("contents-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let valid = r#"{"schema":"rules_pyimage/layer-contents/1","name":"deps","mediaType":"m","digest":"d","size":1,"diffID":"i","uncompressedSize":2,"entries":3,"strip":[{"rule":"r","files":1,"bytes":2}],"debugStrip":{"files":0,"bytes":0},"distributions":[{"name":"a","version":"1","summary":"","licenseExpression":"","license":"","distInfo":"x","recordSha256":"","files":1,"bytes":1}],"files":[["x/a.py",1,0],["y",2,null]]}"#;
    let mut rng = Rng(0x5eed_0005);
    let tokens: &[&str] = &[
        "",
        "null",
        "5",
        "-1",
        "\"s\"",
        "[]",
        "{}",
        "[\"p\",1,9]",
        "1e99",
    ];
    for i in 0..5_000 {
        let mut text = valid.to_string();
        // Replace one value (after a ':' or inside a list) with a token.
        let positions: Vec<usize> = text.match_indices([':', ',']).map(|(p, _)| p + 1).collect();
        let at = positions[rng.below(positions.len())];
        let end = text[at..]
            .find([',', '}', ']'])
            .map_or(text.len(), |e| at + e);
        text.replace_range(at..end, tokens[rng.below(tokens.len())]);
        if rng.below(10) == 0 {
            text.truncate(rng.below(text.len()));
        }
        pyimage::fuzzing::contents(text.as_bytes(), &dir.join(format!("c{}", i % 4)));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
