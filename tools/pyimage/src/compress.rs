//! Layer compression: none, gzip (parallel, pigz-style, one gzip member) or zstd
//! (libzstd's multithreaded encoder). Output bytes never depend on the thread count.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use flate2::{Compress, FlushCompress, Status};

use crate::crc::crc32_combine;

/// The layer compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (deflate), one member.
    #[default]
    Gzip,
    /// zstd, one frame.
    Zstd,
}

impl Compression {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The OCI media type of a layer blob with this compression.
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => crate::descriptor::MEDIA_TYPE_LAYER_TAR,
            Compression::Gzip => crate::descriptor::MEDIA_TYPE_LAYER_GZIP,
            Compression::Zstd => crate::descriptor::MEDIA_TYPE_LAYER_ZSTD,
        }
    }

    /// The level used when none is given: gzip 6 (as `gzip -6`), zstd 3 (as `zstd -3`).
    pub fn default_level(self) -> i32 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 6,
            Compression::Zstd => 3,
        }
    }

    /// Checks a level for this compression.
    pub fn check_level(self, level: i32) -> Result<(), String> {
        let (lo, hi) = match self {
            Compression::None => return Ok(()),
            Compression::Gzip => (0, 9),
            Compression::Zstd => (-7, 22),
        };
        if (lo..=hi).contains(&level) {
            Ok(())
        } else {
            Err(format!(
                "--level {level} is out of range for {}; use {lo} to {hi}",
                self.name()
            ))
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            _ => Err(format!(
                "unknown compression {s:?}; expected none, gzip or zstd"
            )),
        }
    }
}

/// How to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressOptions {
    /// The algorithm.
    pub compression: Compression,
    /// The level (already checked).
    pub level: i32,
    /// Worker threads, at least 1.
    pub threads: usize,
}

/// A streaming compressor writing into `W`.
pub enum Encoder<W: Write + Send> {
    /// No compression.
    Plain(W),
    /// Parallel gzip.
    Gzip(ParallelGzip<W>),
    /// zstd.
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write + Send> Encoder<W> {
    /// Starts a compressed stream into `out`.
    pub fn new(out: W, options: CompressOptions) -> io::Result<Self> {
        Ok(match options.compression {
            Compression::None => Encoder::Plain(out),
            Compression::Gzip => Encoder::Gzip(ParallelGzip::new(
                out,
                options.level.clamp(0, 9) as u32,
                options.threads,
                GZIP_BLOCK,
            )?),
            Compression::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(out, options.level)?;
                // Always use libzstd's multithreaded mode (even with one worker): its
                // output depends on the parameters, not on the number of workers.
                encoder.multithread(options.threads.clamp(1, 200) as u32)?;
                encoder.include_checksum(false)?;
                Encoder::Zstd(encoder)
            }
        })
    }

    /// Ends the stream and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(g) => g.finish(),
            Encoder::Zstd(z) => z.finish(),
        }
    }
}

impl<W: Write + Send> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(g) => g.write(buf),
            Encoder::Zstd(z) => z.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(g) => g.flush(),
            Encoder::Zstd(z) => z.flush(),
        }
    }
}

/// Uncompressed bytes per parallel gzip block.
pub const GZIP_BLOCK: usize = 1 << 20;
/// The deflate window: each block is primed with this much of the data before it.
const WINDOW: usize = 32 * 1024;

/// The fixed gzip header: no name, mtime 0, no extra flags, OS "unknown".
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// One compressed block.
struct Block {
    deflated: Vec<u8>,
    crc: u32,
    len: u64,
}

struct Job {
    input: Arc<Vec<u8>>,
    dictionary: Option<Arc<Vec<u8>>>,
    last: bool,
    reply: SyncSender<io::Result<Block>>,
}

struct Pool {
    jobs: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs.take();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A gzip writer that cuts the input into fixed blocks and deflates them on a pool of
/// threads, each block primed with the previous 32 KiB as a dictionary and ended with a
/// sync flush, so the concatenation is one valid deflate stream. Output is written in
/// order as blocks complete; at most a few blocks per thread are in flight, so memory
/// stays bounded whatever the input size. The bytes are identical for any thread count.
pub struct ParallelGzip<W: Write> {
    out: W,
    level: u32,
    block_size: usize,
    buffer: Vec<u8>,
    previous: Option<Arc<Vec<u8>>>,
    pool: Option<Pool>,
    pending: VecDeque<Receiver<io::Result<Block>>>,
    max_pending: usize,
    crc: u32,
    len: u64,
}

impl<W: Write> ParallelGzip<W> {
    /// Starts a gzip member on `out` with `threads` workers (1 compresses inline).
    pub fn new(mut out: W, level: u32, threads: usize, block_size: usize) -> io::Result<Self> {
        out.write_all(&GZIP_HEADER)?;
        let threads = threads.max(1);
        let pool = if threads == 1 {
            None
        } else {
            Some(start_pool(threads, level)?)
        };
        Ok(ParallelGzip {
            out,
            level,
            block_size: block_size.max(WINDOW),
            buffer: Vec::with_capacity(block_size),
            previous: None,
            pool,
            pending: VecDeque::new(),
            max_pending: 2 * threads + 1,
            crc: 0,
            len: 0,
        })
    }

    /// Compresses the buffered block (`last` ends the deflate stream).
    fn submit(&mut self, last: bool) -> io::Result<()> {
        let input = Arc::new(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(self.block_size),
        ));
        let dictionary = self.previous.replace(Arc::clone(&input));
        if self.pool.is_none() {
            let block = compress_block(
                self.level,
                &input,
                dictionary.as_deref().map(Vec::as_slice),
                last,
            )?;
            return self.emit(block);
        }
        let (reply, receiver) = mpsc::sync_channel(1);
        let job = Job {
            input,
            dictionary,
            last,
            reply,
        };
        let sent = self
            .pool
            .as_ref()
            .and_then(|p| p.jobs.as_ref())
            .map(|jobs| jobs.send(job));
        if !matches!(sent, Some(Ok(()))) {
            return Err(io::Error::other("gzip worker pool stopped"));
        }
        self.pending.push_back(receiver);
        while self.pending.len() > self.max_pending {
            self.collect_one()?;
        }
        Ok(())
    }

    fn collect_one(&mut self) -> io::Result<()> {
        if let Some(receiver) = self.pending.pop_front() {
            let block = receiver
                .recv()
                .map_err(|_| io::Error::other("gzip worker stopped unexpectedly"))??;
            self.emit(block)?;
        }
        Ok(())
    }

    fn emit(&mut self, block: Block) -> io::Result<()> {
        self.out.write_all(&block.deflated)?;
        self.crc = crc32_combine(self.crc, block.crc, block.len);
        self.len += block.len;
        Ok(())
    }

    /// Ends the member (last block, CRC-32, size) and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while !self.pending.is_empty() {
            self.collect_one()?;
        }
        self.pool.take();
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&self.crc.to_le_bytes());
        trailer[4..].copy_from_slice(&(self.len as u32).to_le_bytes());
        self.out.write_all(&trailer)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let total = buf.len();
        while !buf.is_empty() {
            let room = self.block_size - self.buffer.len();
            let take = room.min(buf.len());
            self.buffer.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.buffer.len() == self.block_size {
                self.submit(false)?;
            }
        }
        Ok(total)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Blocks are cut at fixed offsets only, so flushing never changes the output.
        Ok(())
    }
}

fn new_compressor(level: u32) -> Compress {
    Compress::new(flate2::Compression::new(level), false)
}

fn start_pool(threads: usize, level: u32) -> io::Result<Pool> {
    let (jobs, queue) = mpsc::sync_channel::<Job>(threads);
    let queue = Arc::new(Mutex::new(queue));
    let mut workers = Vec::with_capacity(threads);
    for i in 0..threads {
        let queue = Arc::clone(&queue);
        let worker = std::thread::Builder::new()
            .name(format!("gzip-{i}"))
            .spawn(move || loop {
                let job = match queue.lock() {
                    Ok(q) => q.recv(),
                    Err(_) => return,
                };
                let Ok(job) = job else { return };
                let dictionary = job.dictionary.as_deref().map(Vec::as_slice);
                let block = compress_block(level, &job.input, dictionary, job.last);
                let _ = job.reply.send(block);
            })?;
        workers.push(worker);
    }
    Ok(Pool {
        jobs: Some(jobs),
        workers,
    })
}

/// Deflates one block as part of a larger raw deflate stream: primed with the tail of
/// the previous block, ended with a sync flush (byte-aligned, not final) unless `last`.
fn compress_block(
    level: u32,
    input: &[u8],
    dictionary: Option<&[u8]>,
    last: bool,
) -> io::Result<Block> {
    // A fresh compressor per block: a reset one may keep match-finder state from the
    // block before, which would make the output depend on which thread ran which block.
    let compress = &mut new_compressor(level);
    if let Some(dictionary) = dictionary {
        let tail = &dictionary[dictionary.len().saturating_sub(WINDOW)..];
        compress.set_dictionary(tail).map_err(io::Error::other)?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut deflated = Vec::with_capacity(input.len() + input.len() / 8 + 1024);
    loop {
        let consumed = compress.total_in() as usize;
        let status = compress
            .compress_vec(&input[consumed..], &mut deflated, flush)
            .map_err(io::Error::other)?;
        let consumed = compress.total_in() as usize;
        let room_left = deflated.len() < deflated.capacity();
        match status {
            Status::StreamEnd => break,
            _ if !last && consumed == input.len() && room_left => break,
            _ => deflated.reserve(deflated.capacity().max(64 * 1024)),
        }
    }
    Ok(Block {
        deflated,
        crc: crc32fast::hash(input),
        len: input.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(len: usize) -> Vec<u8> {
        let words = [
            "import", "numpy", "def", "class", "return", "self", "__init__", "\n", "    ",
        ];
        let mut state = 12345u64;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if state >> 60 == 0 {
                out.push((state >> 32) as u8);
            } else {
                out.extend_from_slice(words[(state >> 33) as usize % words.len()].as_bytes());
            }
        }
        out.truncate(len);
        out
    }

    fn gzip(data: &[u8], threads: usize, block: usize) -> Vec<u8> {
        let mut g = ParallelGzip::new(Vec::new(), 6, threads, block).unwrap();
        for chunk in data.chunks(7777) {
            g.write_all(chunk).unwrap();
        }
        g.finish().unwrap()
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut decoder = flate2::read::GzDecoder::new(data);
        let mut out = Vec::new();
        decoder.read_to_end(&mut out).unwrap();
        // One member only: nothing may follow it.
        let mut rest = Vec::new();
        decoder.into_inner().read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "trailing bytes after the gzip member");
        out
    }

    #[test]
    fn round_trips_at_any_size() {
        for len in [
            0,
            1,
            WINDOW - 1,
            WINDOW,
            2 * WINDOW,
            5 * WINDOW + 17,
            300_000,
        ] {
            let data = sample(len);
            let packed = gzip(&data, 2, WINDOW);
            assert_eq!(&packed[..10], &GZIP_HEADER);
            assert_eq!(gunzip(&packed), data, "length {len}");
        }
    }

    #[test]
    fn identical_bytes_for_any_thread_count() {
        let data = sample(700_000);
        let one = gzip(&data, 1, 64 * 1024);
        assert_eq!(one, gzip(&data, 2, 64 * 1024));
        assert_eq!(one, gzip(&data, 5, 64 * 1024));
    }

    #[test]
    fn trailer_holds_crc_and_size() {
        let data = sample(200_000);
        let packed = gzip(&data, 3, WINDOW);
        let n = packed.len();
        assert_eq!(
            u32::from_le_bytes(packed[n - 8..n - 4].try_into().unwrap()),
            crc32fast::hash(&data)
        );
        assert_eq!(
            u32::from_le_bytes(packed[n - 4..].try_into().unwrap()),
            200_000
        );
    }

    #[test]
    fn dictionary_keeps_ratio_close_to_single_stream() {
        let data = sample(1 << 20);
        let blocks = gzip(&data, 2, 128 * 1024).len() as f64;
        let mut single = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        single.write_all(&data).unwrap();
        let single = single.finish().unwrap().len() as f64;
        assert!(blocks / single < 1.01, "blocks {blocks} vs single {single}");
    }

    #[test]
    fn zstd_is_thread_count_independent() {
        let data = sample(3 << 20);
        let run = |threads| {
            let options = CompressOptions {
                compression: Compression::Zstd,
                level: 3,
                threads,
            };
            let mut e = Encoder::new(Vec::new(), options).unwrap();
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(4));
        assert_eq!(zstd::decode_all(&one[..]).unwrap(), data);
    }

    #[test]
    fn levels_and_names() {
        assert!(Compression::Gzip.check_level(10).is_err());
        assert!(Compression::Zstd.check_level(19).is_ok());
        assert_eq!("zstd".parse::<Compression>().unwrap(), Compression::Zstd);
        assert!("lz4".parse::<Compression>().is_err());
    }
}
