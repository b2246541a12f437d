//! Writing the layer: its entries, with their parent directories, as a
//! deterministic tar streamed through the compressor into a temporary blob, plus the
//! descriptor JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use crate::atomic::{OutputSet, TempOutput};
use crate::compress::{CompressOptions, Compression, Encoder};
use crate::dedup::duplicate_files;
use crate::descriptor::LayerDescriptor;
use crate::elf::{examine, DebugStrip, DebugStripStats};
use crate::error::{Error, Result};
use crate::inputs::{read_full, Entry, EntryKind};
use crate::path::ancestors;
use crate::sparse::SparseFile;
use crate::tar::{
    padding, write_header, write_named_header, write_trailer, MemberType, Names, Stamp,
};

/// Where one layer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerTarget {
    /// The layer's name.
    pub name: String,
    /// The blob path.
    pub blob: PathBuf,
    /// The descriptor JSON path.
    pub descriptor: PathBuf,
}

/// How layers are written.
#[derive(Debug, Clone, Copy)]
pub struct LayerOptions {
    /// Compression settings.
    pub compress: CompressOptions,
    /// Owner and mtime of every member.
    pub stamp: Stamp,
    /// Remove debug sections from ELF files.
    pub strip_debug: bool,
    /// Store regular files with the same content and mode once; later ones (in path
    /// order) become hard links to the first.
    pub hardlink_duplicates: bool,
}

/// A written (not yet committed) layer.
#[derive(Debug)]
pub struct WrittenLayer {
    /// The layer's name.
    pub name: String,
    /// What was written.
    pub descriptor: LayerDescriptor,
    /// What debug stripping did.
    pub debug_strip: DebugStripStats,
    /// Files stored as hard links to an identical earlier file.
    pub hardlinked_files: u64,
    /// Content bytes those hard links did not store again.
    pub hardlinked_bytes: u64,
    outputs: Vec<TempOutput>,
}

impl WrittenLayer {
    /// Moves the blob and the descriptor to their final paths, both or neither.
    pub fn commit(self) -> Result<()> {
        OutputSet::from(self.outputs).commit()
    }

    /// The blob and descriptor, to commit together with the run's other outputs.
    pub fn into_outputs(self) -> Vec<TempOutput> {
        self.outputs
    }
}

/// One tar member: an entry, or a parent directory implied by one.
enum Member<'a> {
    Entry(&'a Entry),
    ImpliedDir,
}

/// The entries plus every parent directory, sorted bytewise by path (so a parent always
/// precedes its children).
fn members<'a>(entries: &[&'a Entry]) -> BTreeMap<&'a str, Member<'a>> {
    let mut members = BTreeMap::new();
    for entry in entries {
        for ancestor in ancestors(&entry.path) {
            members.entry(ancestor).or_insert(Member::ImpliedDir);
        }
        members.insert(entry.path.as_str(), Member::Entry(entry));
    }
    members
}

/// Writes the layer's blob and descriptor to temporary files next to their targets.
pub fn write_layer(
    target: &LayerTarget,
    entries: &[&Entry],
    options: &LayerOptions,
) -> Result<WrittenLayer> {
    let (blob_output, blob_file) = TempOutput::create(&target.blob)?;
    let writing = |e: io::Error| {
        Error::io(
            format!("writing layer {} to {}", target.name, target.blob.display()),
            e,
        )
    };
    let sink = BlobSink::new(blob_file, options.compress.compression);
    let mut tar = Encoder::new(sink, options.compress).map_err(writing)?;
    let mut count = 0u64;
    let mut debug_strip = DebugStripStats::default();
    let mut buffer = vec![0u8; 256 * 1024];
    let links = if options.hardlink_duplicates {
        duplicate_files(entries, options.compress.threads)?
    } else {
        BTreeMap::new()
    };
    let link_targets: BTreeSet<&str> = links.values().copied().collect();
    // Stored length of each link target, known once it is written (targets come first).
    let mut target_lengths: BTreeMap<&str, u64> = BTreeMap::new();
    let mut hardlinked_files = 0;
    let mut hardlinked_bytes = 0;

    for (path, member) in members(entries) {
        count += 1;
        let entry = match member {
            Member::ImpliedDir => {
                write_header(&mut tar, path, MemberType::Dir, 0o755, options.stamp)
                    .map_err(writing)?;
                continue;
            }
            Member::Entry(entry) => entry,
        };
        // The layer's owner, where the manifest gave the entry none of its own.
        let stamp = Stamp {
            uid: entry.owner.uid.unwrap_or(options.stamp.uid),
            gid: entry.owner.gid.unwrap_or(options.stamp.gid),
            ..options.stamp
        };
        let names = Names {
            user: &entry.owner.uname,
            group: &entry.owner.gname,
        };
        let header = |tar: &mut Encoder<_>, member, mode| {
            write_named_header(tar, path, member, mode, stamp, names).map_err(writing)
        };
        match &entry.kind {
            EntryKind::Dir => {
                header(&mut tar, MemberType::Dir, entry.mode)?;
            }
            EntryKind::Symlink { target } => {
                header(&mut tar, MemberType::Symlink(target), 0o777)?;
            }
            EntryKind::File { src: None, .. } => {
                header(&mut tar, MemberType::File(0), entry.mode)?;
            }
            EntryKind::File { src: Some(_), .. } if links.contains_key(path) => {
                let target = links[path];
                header(&mut tar, MemberType::HardLink(target), entry.mode)?;
                hardlinked_files += 1;
                hardlinked_bytes += target_lengths[target];
            }
            EntryKind::File {
                src: Some(src),
                size,
                ..
            } => {
                let unreadable = |source| Error::Unreadable {
                    dest: entry.path.clone(),
                    src: src.clone(),
                    source,
                };
                let file = File::open(src).map_err(unreadable)?;
                let plan = if options.strip_debug {
                    let outcome = examine(&file, *size).map_err(unreadable)?;
                    debug_strip.record(path, &outcome);
                    match outcome {
                        DebugStrip::Strip(plan) => Some(plan),
                        _ => None,
                    }
                } else {
                    None
                };
                let length = plan.as_ref().map_or(*size, |p| p.stripped_size);
                header(&mut tar, MemberType::File(length), entry.mode)?;
                let copied = match &plan {
                    Some(plan) => copy(&mut plan.reader(&file), &mut tar, &mut buffer, length),
                    None => copy(&mut &file, &mut tar, &mut buffer, length),
                };
                match copied {
                    Ok(n) if n == length => {}
                    Ok(actual) => {
                        return Err(Error::FileChanged {
                            dest: entry.path.clone(),
                            src: src.clone(),
                            expected: length,
                            actual,
                        })
                    }
                    Err(CopyError::Read(e)) => return Err(unreadable(e)),
                    Err(CopyError::Write(e)) => return Err(writing(e)),
                }
                if link_targets.contains(path) {
                    target_lengths.insert(path, length);
                }
                tar.write_all(&[0u8; 512][..padding(length)])
                    .map_err(writing)?;
            }
        }
    }
    write_trailer(&mut tar).map_err(writing)?;

    let finished = tar.finish().map_err(writing)?;
    finished.out.finish().map_err(writing)?;
    let (tar_digest, blob_digest) = (finished.tar, finished.blob);

    let descriptor = LayerDescriptor {
        compression: options.compress.compression,
        blob: blob_digest,
        tar: tar_digest,
        entries: count,
    };
    let (descriptor_output, mut descriptor_file) = TempOutput::create(&target.descriptor)?;
    descriptor_file
        .write_all(descriptor.to_json().as_bytes())
        .map_err(|e| {
            Error::io(
                format!("writing descriptor {}", target.descriptor.display()),
                e,
            )
        })?;
    Ok(WrittenLayer {
        name: target.name.clone(),
        descriptor,
        debug_strip,
        hardlinked_files,
        hardlinked_bytes,
        outputs: vec![blob_output, descriptor_output],
    })
}

/// Where the compressed bytes go: the blob file (the encoder takes the digests). An
/// uncompressed blob is the tar itself, whose all-zero pages become holes.
enum BlobSink {
    Buffered(BufWriter<File>),
    Plain(SparseFile),
}

impl BlobSink {
    fn new(file: File, compression: Compression) -> Self {
        match compression {
            Compression::None => BlobSink::Plain(SparseFile::new(file)),
            _ => BlobSink::Buffered(BufWriter::with_capacity(1 << 20, file)),
        }
    }

    /// Flushes and closes the blob.
    fn finish(self) -> io::Result<()> {
        match self {
            BlobSink::Buffered(writer) => {
                writer.into_inner().map_err(|e| e.into_error())?;
                Ok(())
            }
            BlobSink::Plain(file) => file.finish().map(drop),
        }
    }
}

impl Write for BlobSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            BlobSink::Buffered(w) => w.write(buf),
            BlobSink::Plain(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            BlobSink::Buffered(w) => w.flush(),
            BlobSink::Plain(w) => w.flush(),
        }
    }
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies until the end of `from`, refusing to write more than `limit` bytes (a file that
/// grew is reported by the caller from the returned count).
fn copy(
    from: &mut impl Read,
    to: &mut impl Write,
    buffer: &mut [u8],
    limit: u64,
) -> Result<u64, CopyError> {
    let mut total = 0u64;
    loop {
        let n = read_full(from, buffer).map_err(CopyError::Read)?;
        if n == 0 {
            return Ok(total);
        }
        let room = (limit - total).min(n as u64) as usize;
        to.write_all(&buffer[..room]).map_err(CopyError::Write)?;
        total += n as u64;
        if total > limit {
            return Ok(total);
        }
    }
}
