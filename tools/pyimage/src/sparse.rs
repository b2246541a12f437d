//! A file writer that leaves holes where whole pages are zero.
//!
//! Uncompressed layers copy their files' bytes verbatim, so a sparse input (a disk image,
//! a preallocated database) would otherwise be written out in full. Reading the file
//! back gives exactly the bytes written; only the disk blocks are saved.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

/// Holes are made of whole pages of this size, aligned to the file offset.
const PAGE: usize = 4096;

static ZEROS: [u8; PAGE] = [0; PAGE];

/// Data is written in runs of up to this many bytes.
const RUN: usize = 1 << 20;

/// Writes to a new, empty file, seeking over page-aligned all-zero pages instead of
/// writing them; buffered, so writes of any size and alignment give the same holes.
/// Call [`SparseFile::finish`] to write the rest and set the final length.
#[derive(Debug)]
pub struct SparseFile {
    file: File,
    /// Logical length accepted so far.
    len: u64,
    /// Bytes not yet written, starting at file offset `pending_start`; always holds the
    /// current incomplete page.
    pending: Vec<u8>,
    pending_start: u64,
    /// Where the file's cursor is.
    cursor: u64,
}

impl SparseFile {
    /// Wraps a new, empty file (positioned at 0).
    pub fn new(file: File) -> Self {
        SparseFile {
            file,
            len: 0,
            pending: Vec::with_capacity(RUN + PAGE),
            pending_start: 0,
            cursor: 0,
        }
    }

    fn write_pending(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            if self.cursor != self.pending_start {
                self.file.seek(SeekFrom::Start(self.pending_start))?;
            }
            self.file.write_all(&self.pending)?;
            self.pending_start += self.pending.len() as u64;
            self.cursor = self.pending_start;
            self.pending.clear();
        }
        Ok(())
    }

    /// Writes what is buffered, gives the file its full length (a trailing hole is not
    /// written either) and returns it.
    pub fn finish(mut self) -> io::Result<File> {
        self.write_pending()?;
        if self.cursor != self.len {
            self.file.set_len(self.len)?;
        }
        Ok(self.file)
    }
}

impl Write for SparseFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let in_page = (self.len % PAGE as u64) as usize;
            let take = (PAGE - in_page).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            self.len += take as u64;
            rest = &rest[take..];
            if in_page + take < PAGE {
                break; // the page is not complete yet
            }
            let page_start = self.pending.len() - PAGE;
            // Slice equality is a memcmp, fast even in unoptimised builds.
            if self.pending[page_start..] == ZEROS[..] {
                self.pending.truncate(page_start);
                self.write_pending()?;
                self.pending_start = self.len;
            } else if self.pending.len() >= RUN {
                self.write_pending()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Only whole pages can be judged; the rest is written by `finish`.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;

    fn roundtrip(name: &str, writes: &[Vec<u8>]) -> (Vec<u8>, u64) {
        let path =
            std::env::temp_dir().join(format!("pyimage-sparse-{name}-{}", std::process::id()));
        let mut sparse = SparseFile::new(File::create(&path).unwrap());
        for w in writes {
            sparse.write_all(w).unwrap();
        }
        sparse.finish().unwrap();
        let mut back = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut back).unwrap();
        let blocks = std::fs::metadata(&path).unwrap().blocks();
        std::fs::remove_file(&path).unwrap();
        (back, blocks)
    }

    #[test]
    fn reads_back_exactly_what_was_written() {
        let mut state = 0x1234_5678_9abc_def1_u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for case in 0..200 {
            // Random writes of zeros and data, of random lengths around page sizes.
            let mut writes = Vec::new();
            let mut all = Vec::new();
            for _ in 0..next(8) {
                let len = next(3 * PAGE as u64) as usize;
                let mut w = vec![0u8; len];
                if next(2) == 0 {
                    for _ in 0..next(4) {
                        let i = next(len.max(1) as u64) as usize;
                        if i < len {
                            w[i] = 1 + next(255) as u8;
                        }
                    }
                }
                all.extend_from_slice(&w);
                writes.push(w);
            }
            let (back, _) = roundtrip(&format!("random-{case}"), &writes);
            assert_eq!(back, all, "case {case}");
        }
    }

    #[test]
    fn zero_pages_take_no_disk_space() {
        let mut writes = vec![b"head".to_vec()];
        writes.extend((0..256).map(|_| vec![0u8; 64 * 1024])); // 16 MiB of zeros
        writes.push(b"tail".to_vec());
        writes.push(vec![0u8; 3 * PAGE]); // a trailing hole
        let (back, blocks) = roundtrip("holes", &writes);
        assert_eq!(back.len(), 4 + (16 << 20) + 4 + 3 * PAGE);
        assert_eq!(&back[..4], b"head");
        assert_eq!(&back[4 + (16 << 20)..][..4], b"tail");
        assert!(back[4..4 + (16 << 20)].iter().all(|&b| b == 0));
        // 512-byte blocks: a few pages of data, not 16 MiB.
        assert!(blocks * 512 < 1 << 20, "{blocks} blocks allocated");
    }
}
