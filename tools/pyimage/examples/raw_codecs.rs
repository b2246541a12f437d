//! The cost of each stage of writing a layer, measured alone on the same tar bytes: what
//! `bench/layer_bench.py` sets layer-splitter's CPU per byte against.
//!
//! Reads a tar into memory, then times on `--threads` threads: libdeflate over every byte
//! of the 1 MiB blocks layer-splitter cuts (compression only), the final-block scan over
//! that output, layer-splitter's own gzip writer over the same bytes in memory (segments
//! that look compressed are stored, the scan, CRC-32, both SHA-256s), libzstd's
//! multithreaded encoder with layer-splitter's parameters, layer-splitter's zstd writer in
//! memory (both SHA-256s), SHA-256 and CRC-32.
//! Prints one tab-separated line per stage: name, wall s, CPU s, CPU ns per input byte,
//! output bytes.
//!
//! Usage: `raw_codecs TAR [--threads N] [--gzip-level L] [--zstd-level L]`

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use libdeflater::{CompressionLvl, Compressor};
use pyimage::compress::{CompressOptions, Compression, Encoder, GZIP_BLOCK, ZSTD_JOB};
use pyimage::deflate_scan::scan;
use sha2::{Digest as _, Sha256};

/// CPU time of the whole process so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Runs `work`, which returns its input and output byte counts, and prints its line.
fn measure(name: &str, work: impl FnOnce() -> (usize, usize)) {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let (input, output) = work();
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let per_byte = cpu * 1e9 / input.max(1) as f64;
    println!("{name}\t{wall:.3}\t{cpu:.3}\t{per_byte:.2}\t{output}");
}

/// Applies `f` to every block on `threads` threads, blocks taken in turn.
fn parallel<T: Send>(
    blocks: &[&[u8]],
    threads: usize,
    f: impl Fn(usize, &[u8]) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(block) = blocks.get(i) else { break };
                        mine.push((i, f(i, block)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: i32| -> i32 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name} takes a number"))
            })
    };
    let Some(path) = args.first() else {
        eprintln!("usage: raw_codecs TAR [--threads N] [--gzip-level L] [--zstd-level L]");
        std::process::exit(2);
    };
    let threads = flag("--threads", 2).max(1) as usize;
    let gzip_level = flag("--gzip-level", 5);
    let zstd_level = flag("--zstd-level", 3);
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let blocks: Vec<&[u8]> = data.chunks(GZIP_BLOCK).collect();
    let n = data.len();

    let mut deflated: Vec<Vec<u8>> = Vec::new();
    measure("libdeflate", || {
        deflated = parallel(&blocks, threads, |_, block| {
            let level = CompressionLvl::new(gzip_level).expect("gzip level 0-12");
            let mut c = Compressor::new(level);
            let mut out = vec![0u8; c.deflate_compress_bound(block.len())];
            let len = c.deflate_compress(block, &mut out).expect("deflate");
            out.truncate(len);
            out
        });
        (n, deflated.iter().map(Vec::len).sum())
    });
    measure("final-block scan", || {
        let streams: Vec<&[u8]> = deflated.iter().map(Vec::as_slice).collect();
        let found = parallel(&streams, threads, |_, s| usize::from(scan(s).is_some()));
        assert!(
            found.iter().all(|&f| f == 1),
            "a libdeflate stream did not scan"
        );
        (n, 0)
    });
    measure("libdeflate inflate", || {
        let streams: Vec<&[u8]> = deflated.iter().map(Vec::as_slice).collect();
        let sizes = parallel(&streams, threads, |i, s| {
            let mut d = libdeflater::Decompressor::new();
            let mut out = vec![0u8; blocks[i].len()];
            d.deflate_decompress(s, &mut out).expect("inflate")
        });
        (n, sizes.iter().sum())
    });
    let pipeline = |options: CompressOptions| {
        let mut e = Encoder::new(std::io::sink(), options).expect("encoder");
        for chunk in data.chunks(256 * 1024) {
            e.write_all(chunk).expect("compress");
        }
        (n, e.finish().expect("compress").blob.size as usize)
    };
    measure("layer-splitter gzip in memory", || {
        pipeline(CompressOptions {
            compression: Compression::Gzip,
            level: gzip_level,
            threads,
        })
    });
    measure("libzstd", || {
        let mut sink = Counter(0);
        let mut e = zstd::stream::write::Encoder::new(&mut sink, zstd_level).expect("zstd");
        e.multithread(threads as u32).expect("zstd threads");
        e.set_parameter(zstd::stream::raw::CParameter::JobSize(ZSTD_JOB))
            .expect("zstd job size");
        e.include_checksum(false).expect("zstd checksum");
        e.write_all(&data).expect("zstd");
        e.finish().expect("zstd");
        (n, sink.0)
    });
    measure("layer-splitter zstd in memory", || {
        pipeline(CompressOptions {
            compression: Compression::Zstd,
            level: zstd_level,
            threads,
        })
    });
    measure("sha256", || {
        std::hint::black_box(Sha256::digest(&data));
        (n, 32)
    });
    measure("crc32", || {
        std::hint::black_box(libdeflater::crc32(&data));
        (n, 4)
    });
}

/// Counts what is written to it.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
