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
