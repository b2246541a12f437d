//! A writer that hands its bytes to a thread of their own.
//!
//! A layer's bytes pass through stages that cannot be split across cores: the SHA-256 of
//! the tar (its diff ID), the SHA-256 of the blob, the writes into the file. On the thread
//! that also reads the files and builds the tar, they add up to a serial stage that keeps
//! the compression threads waiting; [`Offload`] moves one of them to a thread, in chunks,
//! with the chunks' buffers reused.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes per chunk handed over.
pub const CHUNK: usize = 1 << 20;

/// Chunks in flight between the caller and the thread.
const DEPTH: usize = 4;

/// Writes into `W` on a thread of its own. Errors of `W` come back on a later `write` or
/// on [`Offload::finish`].
pub struct Offload<W: Write + Send + 'static> {
    chunk: Vec<u8>,
    chunks: Option<SyncSender<Vec<u8>>>,
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Write + Send + 'static> Offload<W> {
    /// Starts the thread, named `name`, writing into `inner`.
    pub fn new(mut inner: W, name: &str) -> io::Result<Self> {
        let (chunks, incoming) = mpsc::sync_channel::<Vec<u8>>(DEPTH);
        let (give_back, spare) = mpsc::sync_channel::<Vec<u8>>(DEPTH + 1);
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                for mut chunk in incoming {
                    inner.write_all(&chunk)?;
                    chunk.clear();
                    let _ = give_back.try_send(chunk);
                }
                inner.flush()?;
                Ok(inner)
            })?;
        Ok(Offload {
            chunk: Vec::with_capacity(CHUNK),
            chunks: Some(chunks),
            spare,
            thread: Some(thread),
        })
    }

    fn hand_over(&mut self) -> io::Result<()> {
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let chunk = std::mem::replace(&mut self.chunk, next);
        let sent = self.chunks.as_ref().map(|c| c.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped: it holds the reason.
            _ => Err(self.join().err().unwrap_or_else(stopped)),
        }
    }

    fn join(&mut self) -> io::Result<W> {
        self.chunks.take();
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| stopped())?,
            None => Err(stopped()),
        }
    }

    /// Writes what is left, waits for the thread and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.chunk.is_empty() {
            self.hand_over()?;
        }
        self.join()
    }
}

fn stopped() -> io::Error {
    io::Error::other("writer thread stopped unexpectedly")
}

impl<W: Write + Send + 'static> Write for Offload<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let take = (CHUNK - self.chunk.len()).min(buf.len());
        self.chunk.extend_from_slice(&buf[..take]);
        if self.chunk.len() == CHUNK {
            self.hand_over()?;
        }
        Ok(take)
    }

    /// Does not wait for the thread: [`Offload::finish`] does.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write + Send + 'static> Drop for Offload<W> {
    fn drop(&mut self) {
        self.chunks.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A writer that accepts `limit` bytes, then fails with "disk full" (for tests of the
/// writers' error paths).
#[cfg(test)]
pub(crate) struct Full {
    pub(crate) limit: usize,
}

#[cfg(test)]
impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.limit {
            return Err(io::Error::other("disk full"));
        }
        self.limit -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_every_byte_in_order() {
        let data: Vec<u8> = (0..3 * CHUNK + 12_345)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        for step in [1, 4096, CHUNK - 1, CHUNK, 2 * CHUNK + 3] {
            let mut w = Offload::new(Vec::new(), "test").unwrap();
            for part in data.chunks(step) {
                w.write_all(part).unwrap();
            }
            assert_eq!(w.finish().unwrap(), data, "step {step}");
        }
        assert!(Offload::new(Vec::new(), "test")
            .unwrap()
            .finish()
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_writers_error_comes_back() {
        let mut w = Offload::new(Full { limit: CHUNK }, "test").unwrap();
        let data = vec![1u8; CHUNK];
        let mut failed = None;
        for _ in 0..100 {
            if let Err(e) = w.write_all(&data) {
                failed = Some(e);
                break;
            }
        }
        let error = failed.unwrap_or_else(|| w.finish().err().unwrap());
        assert_eq!(error.to_string(), "disk full");

        // A failure in the last chunk shows up in finish.
        let mut w = Offload::new(Full { limit: 10 }, "test").unwrap();
        w.write_all(&[0u8; 11]).unwrap();
        assert_eq!(w.finish().err().unwrap().to_string(), "disk full");
    }
}
