//! Removing DWARF debug sections from ELF executables and shared libraries.
//!
//! Debug sections (`.debug_*`, `.zdebug_*`, never `SHF_ALLOC`) are dropped; every other
//! section stays, and no section index changes: the dropped sections' headers are zeroed
//! (`SHT_NULL`), so nothing referring to a section by index (`sh_link`, symbol tables)
//! needs rewriting.
//!
//! Everything a loader looks at is copied byte for byte: the ELF header, the program
//! headers and every byte any segment maps. These "anchored" ranges are merged into
//! blocks. The stripped file is the original's pieces in file order with the debug
//! sections (and the old section header table) left out: each block is placed at the
//! lowest free offset congruent to its old offset modulo the largest segment alignment
//! (`p_align`, at least a 4096-byte page), each other kept section at the next offset its
//! `sh_addralign` allows, and a new section header table goes last. A block therefore
//! moves, if at all, by a whole multiple of every segment's alignment, so `p_offset` stays
//! congruent to `p_vaddr` modulo `p_align`; `p_offset`, `sh_offset`, `e_phoff` and
//! `e_shoff` are rewritten by the block's shift. Nothing inside a segment refers to file
//! offsets, so nothing else changes. Between two blocks that both stay in place the
//! original bytes stay too (a page-rounded mapping shows them); other gaps are zeros.
//!
//! This is what a file repaired by auditwheel or patchelf needs: patchelf appends a new
//! loadable segment (and often the program headers) after the debug sections, and that
//! segment moves down by the debug data's size rounded down to a whole page. A plain
//! linker layout (debug sections after the last segment) is the special case in which no
//! block moves.
//!
//! A file with debug sections is left alone, with a [`KeepReason`], when debug data lies
//! inside a segment's bytes, a kept section refers to a debug section, an allocated
//! section lies outside every segment, a kept section straddles a segment's end, kept
//! sections outside the segments overlap, a segment after the debug data would have to
//! move but the alignment is under a page or not a power of two, or the file would not
//! get smaller. Files that are not ELF executables or shared objects are never changed.
//!
//! The plan is computed from the headers only and the output is streamed, so a 1 GB
//! shared library never sits in memory.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

const SHF_ALLOC: u64 = 0x2;
const SHT_NULL: u64 = 0;
const SHT_NOBITS: u64 = 8;
const SHT_REL: u64 = 9;
const SHT_RELA: u64 = 4;

/// One part of the stripped file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Bytes of the original file.
    Copy { offset: u64, len: u64 },
    /// New bytes.
    Bytes(Vec<u8>),
}

/// How to produce the stripped file from the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripPlan {
    pieces: Vec<Piece>,
    /// Size of the stripped file.
    pub stripped_size: u64,
    /// Size of the original file.
    pub original_size: u64,
}

impl StripPlan {
    /// A reader producing the stripped file's bytes from `file`.
    pub fn reader<'a>(&'a self, file: &'a File) -> PlanReader<'a> {
        PlanReader {
            plan: self,
            file,
            piece: 0,
            done: 0,
        }
    }
}

/// Reads the stripped file piece by piece (see [`StripPlan::reader`]).
pub struct PlanReader<'a> {
    plan: &'a StripPlan,
    file: &'a File,
    piece: usize,
    done: u64,
}

impl Read for PlanReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(piece) = self.plan.pieces.get(self.piece) {
            let (len, n) = match piece {
                Piece::Bytes(bytes) => {
                    let rest = &bytes[self.done as usize..];
                    let n = rest.len().min(buf.len());
                    buf[..n].copy_from_slice(&rest[..n]);
                    (bytes.len() as u64, n)
                }
                Piece::Copy { offset, len } => {
                    let want = (len - self.done).min(buf.len() as u64) as usize;
                    let n = if want == 0 {
                        0
                    } else {
                        let n = self.file.read_at(&mut buf[..want], offset + self.done)?;
                        if n == 0 {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "file shrank while being stripped",
                            ));
                        }
                        n
                    };
                    (*len, n)
                }
            };
            self.done += n as u64;
            if self.done == len {
                self.piece += 1;
                self.done = 0;
            }
            if n > 0 {
                return Ok(n);
            }
        }
        Ok(0)
    }
}

/// True when the section name is DWARF debug information.
pub fn is_debug_section(name: &[u8]) -> bool {
    name.starts_with(b".debug_") || name.starts_with(b".zdebug_") || name == b".debug"
}

/// Field layout of one ELF class and byte order.
#[derive(Clone, Copy)]
struct Layout {
    is64: bool,
    little: bool,
}

impl Layout {
    fn get(self, bytes: &[u8], offset: usize, width: usize) -> Option<u64> {
        let field = bytes.get(offset..offset + width)?;
        let mut value = 0u64;
        for i in 0..width {
            let b = if self.little {
                field[width - 1 - i]
            } else {
                field[i]
            };
            value = (value << 8) | u64::from(b);
        }
        Some(value)
    }

    fn put(self, bytes: &mut [u8], offset: usize, width: usize, value: u64) {
        for i in 0..width {
            let shift = 8 * if self.little { i } else { width - 1 - i };
            bytes[offset + i] = (value >> shift) as u8;
        }
    }

    /// Width of an address/offset field.
    fn word(self) -> usize {
        if self.is64 {
            8
        } else {
            4
        }
    }
}

struct Section {
    kind: u64,
    flags: u64,
    offset: u64,
    size: u64,
    link: u64,
    info: u64,
    align: u64,
    name: u64,
}

/// Why a file with debug sections keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeepReason {
    /// Offsets or sizes in the headers point past the end of the file or overflow.
    Malformed,
    /// A debug section's bytes lie inside a loadable segment (a loader maps them).
    InsideLoadableSegment,
    /// A debug section's bytes lie inside another segment or a header table.
    InsideSegment,
    /// A kept section's `sh_link` (or a relocation section's `sh_info`) names a debug section.
    LinkedFromKept,
    /// An `SHF_ALLOC` section's bytes lie outside every segment.
    AllocatedOutsideSegments,
    /// A kept section lies partly inside and partly outside a segment.
    StraddlesSegment,
    /// Two kept sections outside the segments overlap.
    OverlappingSections,
    /// A segment after the debug data would have to move, but the alignment is not a
    /// power of two of at least 4096 bytes.
    UnalignedSegments,
    /// The debug data before a later segment is smaller than that segment's alignment, so
    /// the segment cannot move down and the file would not get smaller.
    TooLittleToMove,
    /// Rewriting the section headers would not make the file smaller.
    NoGain,
}

impl KeepReason {
    /// A short explanation for reports.
    pub fn describe(self) -> &'static str {
        match self {
            KeepReason::Malformed => "section or segment offsets lie outside the file",
            KeepReason::InsideLoadableSegment => "debug data lies inside a loadable segment",
            KeepReason::InsideSegment => {
                "debug data lies inside a non-loadable segment or a header table"
            }
            KeepReason::LinkedFromKept => "a kept section refers to a debug section",
            KeepReason::AllocatedOutsideSegments => {
                "an allocated section lies outside every segment"
            }
            KeepReason::StraddlesSegment => "a kept section straddles the end of a segment",
            KeepReason::OverlappingSections => "kept sections outside the segments overlap",
            KeepReason::UnalignedSegments => {
                "a segment after the debug data is aligned to less than a 4096-byte page"
            }
            KeepReason::TooLittleToMove => {
                "the debug data before a later segment is smaller than its alignment"
            }
            KeepReason::NoGain => "removing the debug sections would not make the file smaller",
        }
    }
}

impl std::fmt::Display for KeepReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// What debug stripping makes of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebugStrip {
    /// Not an ELF executable or shared object.
    NotElf,
    /// An ELF executable or shared object whose headers cannot be read.
    UnreadableHeaders,
    /// An ELF executable or shared object without debug sections.
    NoDebugSections,
    /// Debug sections present, and kept for this reason.
    Kept(KeepReason),
    /// Debug sections present; this plan removes them.
    Strip(StripPlan),
}

/// Works out how to strip debug sections from `file` (of `size` bytes). Returns `None`
/// unless the file is an ELF executable or shared object with debug sections that can be
/// removed (see [`examine`] for the reason).
pub fn plan_debug_strip(file: &File, size: u64) -> io::Result<Option<StripPlan>> {
    Ok(match examine(file, size)? {
        DebugStrip::Strip(plan) => Some(plan),
        _ => None,
    })
}

/// Examines `file` (of `size` bytes): whether it is an ELF file with debug sections, and
/// either how to remove them or why they stay.
pub fn examine(file: &File, size: u64) -> io::Result<DebugStrip> {
    let mut ident = [0u8; 64];
    let n = read_at_most(file, &mut ident, 0)?;
    if n < 52 || &ident[..4] != b"\x7fELF" {
        return Ok(DebugStrip::NotElf);
    }
    let layout = match (ident[4], ident[5]) {
        (1, 1) => Layout {
            is64: false,
            little: true,
        },
        (1, 2) => Layout {
            is64: false,
            little: false,
        },
        (2, 1) => Layout {
            is64: true,
            little: true,
        },
        (2, 2) => Layout {
            is64: true,
            little: false,
        },
        _ => return Ok(DebugStrip::NotElf),
    };
    if layout.is64 && n < 64 {
        return Ok(DebugStrip::NotElf);
    }
    Ok(match plan(file, size, &ident, layout) {
        Ok(plan) => DebugStrip::Strip(plan),
        Err(outcome) => outcome,
    })
}

/// What debug stripping did across many files, for reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebugStripStats {
    /// ELF executables and shared objects examined.
    pub elf_files: u64,
    /// Of those, files whose debug sections were removed.
    pub stripped: u64,
    /// Bytes saved by removing them.
    pub bytes_saved: u64,
    /// ELF files whose headers could not be read, and the first one's path.
    pub unreadable: Option<(u64, String)>,
    /// Files that kept their debug sections: per reason, how many and the first one's path.
    pub kept: BTreeMap<KeepReason, (u64, String)>,
}

impl DebugStripStats {
    /// Counts what stripping made of the file at `path` (a path for the report).
    pub fn record(&mut self, path: &str, outcome: &DebugStrip) {
        let count = |slot: &mut (u64, String)| slot.0 += 1;
        match outcome {
            DebugStrip::NotElf => return,
            DebugStrip::UnreadableHeaders => {
                count(self.unreadable.get_or_insert_with(|| (0, path.to_string())))
            }
            DebugStrip::NoDebugSections => {}
            DebugStrip::Kept(reason) => count(
                self.kept
                    .entry(*reason)
                    .or_insert_with(|| (0, path.to_string())),
            ),
            DebugStrip::Strip(plan) => {
                self.stripped += 1;
                self.bytes_saved += plan.original_size - plan.stripped_size;
            }
        }
        self.elf_files += 1;
    }

    /// Lines for a report: what was stripped, then every reason files kept their debug
    /// sections, each with a count and the first such file.
    pub fn report(&self) -> String {
        let files = |n: u64| format!("{n} ELF file{}", if n == 1 { "" } else { "s" });
        let examined = files(self.elf_files);
        let mut out = if self.stripped > 0 {
            format!(
                "strip-debug: {}, {} bytes saved ({examined} examined)\n",
                files(self.stripped),
                self.bytes_saved
            )
        } else if self.kept.is_empty() {
            format!("strip-debug: no ELF file with debug sections ({examined} examined)\n")
        } else {
            format!("strip-debug: no ELF file could be stripped ({examined} examined)\n")
        };
        for (reason, (n, first)) in &self.kept {
            let verb = if *n == 1 { "kept its" } else { "kept their" };
            out += &format!(
                "strip-debug: {} {verb} debug sections: {reason} (first: {first})\n",
                files(*n)
            );
        }
        if let Some((n, first)) = &self.unreadable {
            out += &format!(
                "strip-debug: {} left as {}: unreadable ELF headers (first: {first})\n",
                files(*n),
                if *n == 1 { "it is" } else { "they are" }
            );
        }
        out
    }

    /// One warning per reason files kept their debug sections.
    pub fn warnings(&self) -> Vec<String> {
        self.report().lines().skip(1).map(str::to_string).collect()
    }
}

/// The smallest segment alignment that lets a segment move.
const MIN_MOVE_ALIGN: u64 = 4096;
const PT_LOAD: u64 = 1;

struct Segment {
    kind: u64,
    offset: u64,
    filesz: u64,
}

fn plan(file: &File, size: u64, ehdr: &[u8; 64], l: Layout) -> Result<StripPlan, DebugStrip> {
    let bad_headers = || DebugStrip::UnreadableHeaders;
    let malformed = || DebugStrip::Kept(KeepReason::Malformed);
    let kept = |reason| Err(DebugStrip::Kept(reason));
    let w = l.word();
    let e_type = l.get(ehdr, 16, 2).ok_or_else(bad_headers)?;
    if e_type != 2 && e_type != 3 {
        return Err(DebugStrip::NotElf); // only executables and shared objects
    }
    let field = |offset: usize, width: usize| l.get(ehdr, offset, width).ok_or_else(bad_headers);
    let (phoff_field, shoff_field, rest) = if l.is64 { (32, 40, 52) } else { (28, 32, 40) };
    let phoff = field(phoff_field, w)?;
    let shoff = field(shoff_field, w)?;
    let ehsize = field(rest, 2)?;
    let phentsize = field(rest + 2, 2)?;
    let phnum = field(rest + 4, 2)?;
    let shentsize = field(rest + 6, 2)?;
    let shnum = field(rest + 8, 2)?;
    let shstrndx = field(rest + 10, 2)?;
    if shoff == 0 {
        return Err(DebugStrip::NoDebugSections);
    }
    let (want_ph, want_sh) = if l.is64 { (56, 64) } else { (32, 40) };
    if shnum == 0
        || shstrndx >= shnum
        || shentsize != want_sh
        || (phnum > 0 && phentsize != want_ph)
        || ehsize > 64
        || ehsize < if l.is64 { 64 } else { 52 }
        || (phnum > 0 && phoff < ehsize)
    {
        return Err(bad_headers());
    }
    let sh_table_len = shnum * shentsize;
    let ph_table_len = phnum * phentsize;
    if shoff.checked_add(sh_table_len).ok_or_else(bad_headers)? > size
        || phoff.checked_add(ph_table_len).ok_or_else(bad_headers)? > size
    {
        return Err(bad_headers());
    }

    let mut phdrs = vec![0u8; ph_table_len as usize];
    read_exact(file, &mut phdrs, phoff).ok_or_else(bad_headers)?;
    let (off_at, filesz_at, align_at) = if l.is64 { (8, 32, 48) } else { (4, 16, 28) };
    let mut segments = Vec::new();
    // The largest segment alignment, and whether every loadable one is a power of two of
    // at least a page (so a segment may move by multiples of it).
    let mut max_align = 1u64;
    let mut movable = true;
    for i in 0..phnum as usize {
        let p = &phdrs[i * want_ph as usize..];
        let kind = l.get(p, 0, 4).ok_or_else(bad_headers)?;
        let offset = l.get(p, off_at, w).ok_or_else(bad_headers)?;
        let filesz = l.get(p, filesz_at, w).ok_or_else(bad_headers)?;
        let align = l.get(p, align_at, w).ok_or_else(bad_headers)?;
        if offset.checked_add(filesz).ok_or_else(bad_headers)? > size {
            return Err(bad_headers());
        }
        if align > 1 && !align.is_power_of_two() {
            movable = false;
        }
        if kind == PT_LOAD && align < MIN_MOVE_ALIGN {
            movable = false;
        }
        max_align = max_align.max(align);
        segments.push(Segment {
            kind,
            offset,
            filesz,
        });
    }
    if max_align < MIN_MOVE_ALIGN {
        movable = false;
    }

    let mut shdrs = vec![0u8; sh_table_len as usize];
    read_exact(file, &mut shdrs, shoff).ok_or_else(bad_headers)?;
    let sections: Vec<Section> = (0..shnum as usize)
        .map(|i| {
            let s = &shdrs[i * shentsize as usize..];
            Some(if l.is64 {
                Section {
                    name: l.get(s, 0, 4)?,
                    kind: l.get(s, 4, 4)?,
                    flags: l.get(s, 8, 8)?,
                    offset: l.get(s, 24, 8)?,
                    size: l.get(s, 32, 8)?,
                    link: l.get(s, 40, 4)?,
                    info: l.get(s, 44, 4)?,
                    align: l.get(s, 48, 8)?,
                }
            } else {
                Section {
                    name: l.get(s, 0, 4)?,
                    kind: l.get(s, 4, 4)?,
                    flags: l.get(s, 8, 4)?,
                    offset: l.get(s, 16, 4)?,
                    size: l.get(s, 20, 4)?,
                    link: l.get(s, 24, 4)?,
                    info: l.get(s, 28, 4)?,
                    align: l.get(s, 32, 4)?,
                }
            })
        })
        .collect::<Option<_>>()
        .ok_or_else(bad_headers)?;

    let names = &sections[shstrndx as usize];
    if names.size > 16 << 20
        || names
            .offset
            .checked_add(names.size)
            .ok_or_else(bad_headers)?
            > size
    {
        return Err(bad_headers());
    }
    let mut strtab = vec![0u8; names.size as usize];
    read_exact(file, &mut strtab, names.offset).ok_or_else(bad_headers)?;
    let name_of = |s: &Section| -> &[u8] {
        let start = (s.name as usize).min(strtab.len());
        let end = strtab[start..]
            .iter()
            .position(|&b| b == 0)
            .map_or(strtab.len(), |e| start + e);
        &strtab[start..end]
    };

    let has_data = |s: &Section| s.kind != SHT_NULL && s.kind != SHT_NOBITS && s.size > 0;
    let removed: Vec<bool> = sections
        .iter()
        .map(|s| s.flags & SHF_ALLOC == 0 && s.kind != SHT_NOBITS && is_debug_section(name_of(s)))
        .collect();
    if !removed.iter().any(|&r| r) {
        return Err(DebugStrip::NoDebugSections);
    }

    // The anchored ranges (ELF header, program headers, segment bytes), merged into blocks.
    let mut ranges = vec![(0, ehsize)];
    if phnum > 0 {
        ranges.push((phoff, phoff + ph_table_len));
    }
    ranges.extend(
        segments
            .iter()
            .filter(|s| s.filesz > 0)
            .map(|s| (s.offset, s.offset + s.filesz)),
    );
    ranges.sort_unstable();
    let mut blocks: Vec<(u64, u64)> = Vec::new();
    for (start, end) in ranges {
        match blocks.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => blocks.push((start, end)),
        }
    }
    let overlaps = |start: u64, end: u64| blocks.iter().any(|b| start < b.1 && end > b.0);
    let block_holding =
        |start: u64, end: u64| blocks.iter().position(|b| b.0 <= start && end <= b.1);

    for (i, s) in sections.iter().enumerate() {
        if has_data(s) && s.offset.checked_add(s.size).ok_or_else(malformed)? > size {
            return Err(malformed());
        }
        if removed[i] {
            let end = s.offset + s.size;
            if has_data(s)
                && segments
                    .iter()
                    .any(|p| p.kind == PT_LOAD && s.offset < p.offset + p.filesz && end > p.offset)
            {
                return kept(KeepReason::InsideLoadableSegment);
            }
            if has_data(s) && overlaps(s.offset, end) {
                return kept(KeepReason::InsideSegment);
            }
            continue;
        }
        // Anything still pointing at a dropped section would dangle: leave such files alone.
        let points_at_removed = |index: u64| index < shnum && index != 0 && removed[index as usize];
        if points_at_removed(s.link)
            || ((s.kind == SHT_REL || s.kind == SHT_RELA) && points_at_removed(s.info))
        {
            return kept(KeepReason::LinkedFromKept);
        }
    }

    // Kept sections with bytes outside every block move, in file order.
    let mut loose = Vec::new();
    for (i, s) in sections.iter().enumerate() {
        if removed[i] || !has_data(s) {
            continue;
        }
        let end = s.offset + s.size;
        if block_holding(s.offset, end).is_some() {
            continue;
        }
        if overlaps(s.offset, end) {
            return kept(KeepReason::StraddlesSegment);
        }
        if s.flags & SHF_ALLOC != 0 {
            return kept(KeepReason::AllocatedOutsideSegments);
        }
        loose.push(i);
    }
    loose.sort_by_key(|&i| (sections[i].offset, i));
    for pair in loose.windows(2) {
        let (a, b) = (&sections[pair[0]], &sections[pair[1]]);
        if a.offset + a.size > b.offset {
            return kept(KeepReason::OverlappingSections);
        }
    }

    // Lay out blocks and loose sections in file order.
    let mut placed: Vec<(u64, u64, Option<usize>)> = blocks
        .iter()
        .map(|&(start, end)| (start, end, None))
        .chain(loose.iter().map(|&i| {
            let s = &sections[i];
            (s.offset, s.offset + s.size, Some(i))
        }))
        .collect();
    placed.sort_unstable();
    // (new offset, old start, length, whether it is a block of segment bytes)
    let mut layout_pieces: Vec<(u64, u64, u64, bool)> = Vec::new();
    let mut block_new_start = vec![0u64; blocks.len()];
    let mut new_offsets = vec![None; sections.len()];
    let mut cursor = 0u64;
    let mut block_index = 0;
    for (start, end, section) in placed {
        let new = match section {
            Some(i) => {
                // Never past the old offset (a section the file did not align stays
                // unaligned), so nothing placed later has to move up.
                let aligned = align_up(cursor, sections[i].align.max(1))
                    .filter(|&offset| offset <= start)
                    .unwrap_or(cursor);
                new_offsets[i] = Some(aligned);
                aligned
            }
            None => {
                let gap = start.checked_sub(cursor).ok_or_else(malformed)?;
                let new = if movable {
                    start - gap / max_align * max_align
                } else {
                    start
                };
                block_new_start[block_index] = new;
                block_index += 1;
                new
            }
        };
        layout_pieces.push((new, start, end - start, section.is_none()));
        cursor = new + (end - start);
    }
    let shift = |offset: u64| -> u64 {
        // The block at or before `offset`; offsets past its end map to its new end.
        match blocks.iter().rposition(|b| b.0 <= offset) {
            Some(b) => offset.min(blocks[b].1) - blocks[b].0 + block_new_start[b],
            None => offset,
        }
    };

    // New section headers.
    let new_shoff = align_up(cursor, w as u64).ok_or_else(malformed)?;
    let stripped_size = new_shoff + sh_table_len;
    if stripped_size >= size {
        let blocked = sections
            .iter()
            .zip(&removed)
            .any(|(s, &r)| r && has_data(s) && blocks.iter().any(|b| b.0 > s.offset));
        return kept(match (blocked, movable) {
            (true, false) => KeepReason::UnalignedSegments,
            (true, true) => KeepReason::TooLittleToMove,
            (false, _) => KeepReason::NoGain,
        });
    }
    let mut new_shdrs = shdrs;
    let off_field = if l.is64 { 24 } else { 16 };
    for (i, s) in sections.iter().enumerate() {
        let entry = &mut new_shdrs[i * shentsize as usize..(i + 1) * shentsize as usize];
        if removed[i] {
            entry.fill(0);
        } else if let Some(offset) = new_offsets[i] {
            l.put(entry, off_field, w, offset);
        } else if i != 0 || s.kind != SHT_NULL {
            l.put(entry, off_field, w, shift(s.offset));
        }
    }

    // New program headers and ELF header.
    let mut new_phdrs = phdrs;
    for (i, s) in segments.iter().enumerate() {
        let entry = &mut new_phdrs[i * want_ph as usize..(i + 1) * want_ph as usize];
        l.put(entry, off_at, w, shift(s.offset));
    }
    let mut new_ehdr = ehdr[..ehsize as usize].to_vec();
    l.put(&mut new_ehdr, shoff_field, w, new_shoff);
    if phnum > 0 {
        l.put(&mut new_ehdr, phoff_field, w, shift(phoff));
    }

    // The pieces: copies of the old bytes with the two header tables patched in.
    let mut patches = vec![(0u64, new_ehdr)];
    if phnum > 0 {
        patches.push((phoff, new_phdrs));
    }
    let mut pieces = Vec::new();
    // Between two blocks that stay where they were, the original bytes stay too (the
    // padding a page-rounded mapping shows), unless removed debug data lies there.
    let removed_between = |from: u64, to: u64| {
        sections
            .iter()
            .zip(&removed)
            .any(|(s, &r)| r && has_data(s) && s.offset < to && s.offset + s.size > from)
    };
    let mut written = 0u64;
    let mut previous_stayed = false;
    for (new, start, len, is_block) in layout_pieces {
        let stays = is_block && new == start;
        if new > written {
            if stays && previous_stayed && !removed_between(written, new) {
                pieces.push(Piece::Copy {
                    offset: written,
                    len: new - written,
                });
            } else {
                pieces.push(Piece::Bytes(vec![0; (new - written) as usize]));
            }
        }
        previous_stayed = stays;
        let end = start + len;
        let mut at = start;
        for (offset, bytes) in &patches {
            let patch_end = offset + bytes.len() as u64;
            if *offset >= at && patch_end <= end {
                if *offset > at {
                    pieces.push(Piece::Copy {
                        offset: at,
                        len: offset - at,
                    });
                }
                pieces.push(Piece::Bytes(bytes.clone()));
                at = patch_end;
            }
        }
        if end > at {
            pieces.push(Piece::Copy {
                offset: at,
                len: end - at,
            });
        }
        written = new + len;
    }
    if new_shoff > written {
        pieces.push(Piece::Bytes(vec![0; (new_shoff - written) as usize]));
    }
    pieces.push(Piece::Bytes(new_shdrs));
    Ok(StripPlan {
        pieces,
        stripped_size,
        original_size: size,
    })
}

fn align_up(value: u64, align: u64) -> Option<u64> {
    if !align.is_power_of_two() {
        return Some(value);
    }
    value.checked_add(align - 1).map(|v| v & !(align - 1))
}

fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn read_exact(file: &File, buf: &mut [u8], offset: u64) -> Option<()> {
    file.read_exact_at(buf, offset).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_section_names() {
        assert!(is_debug_section(b".debug_info"));
        assert!(is_debug_section(b".zdebug_line"));
        assert!(!is_debug_section(b".symtab"));
        assert!(!is_debug_section(b".dynsym"));
        assert!(!is_debug_section(b".debugger"));
    }

    #[test]
    fn layout_round_trips() {
        for little in [true, false] {
            let l = Layout { is64: true, little };
            let mut b = [0u8; 8];
            l.put(&mut b, 0, 8, 0x0102_0304_0506_0708);
            assert_eq!(l.get(&b, 0, 8), Some(0x0102_0304_0506_0708));
            assert_eq!(b[0], if little { 8 } else { 1 });
        }
        assert_eq!(align_up(13, 8), Some(16));
        assert_eq!(align_up(16, 8), Some(16));
        assert_eq!(align_up(13, 0), Some(13));
    }

    #[test]
    fn stats_name_every_reason_and_never_read_as_idle() {
        let mut stats = DebugStripStats::default();
        stats.record("a.txt", &DebugStrip::NotElf);
        stats.record("lib/a.so", &DebugStrip::NoDebugSections);
        assert_eq!(
            stats.report(),
            "strip-debug: no ELF file with debug sections (1 ELF file examined)\n"
        );
        stats.record(
            "lib/b.so",
            &DebugStrip::Kept(KeepReason::InsideLoadableSegment),
        );
        stats.record(
            "lib/c.so",
            &DebugStrip::Kept(KeepReason::InsideLoadableSegment),
        );
        stats.record("lib/d.so", &DebugStrip::UnreadableHeaders);
        assert_eq!(
            stats.report(),
            "strip-debug: no ELF file could be stripped (4 ELF files examined)\n\
             strip-debug: 2 ELF files kept their debug sections: debug data lies inside a loadable segment (first: lib/b.so)\n\
             strip-debug: 1 ELF file left as it is: unreadable ELF headers (first: lib/d.so)\n"
        );
        stats.record(
            "lib/e.so",
            &DebugStrip::Strip(StripPlan {
                pieces: Vec::new(),
                stripped_size: 10,
                original_size: 110,
            }),
        );
        let report = stats.report();
        assert!(
            report.starts_with("strip-debug: 1 ELF file, 100 bytes saved (5 ELF files examined)\n")
        );
        assert_eq!(stats.warnings().len(), 2);
    }

    #[test]
    fn non_elf_is_left_alone() {
        let path = std::env::temp_dir().join(format!("pyimage-notelf-{}", std::process::id()));
        std::fs::write(&path, b"#!/bin/sh\necho hi\n").unwrap();
        let file = File::open(&path).unwrap();
        assert!(plan_debug_strip(&file, 18).unwrap().is_none());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn strips_the_test_binary_itself_when_it_has_debug_info() {
        // The test executable is an ELF file; with debug info (the default test profile)
        // the plan must shrink it and keep the header intact.
        let exe = std::env::current_exe().unwrap();
        let file = File::open(&exe).unwrap();
        let size = file.metadata().unwrap().len();
        if let Some(plan) = plan_debug_strip(&file, size).unwrap() {
            assert!(plan.stripped_size < size);
            let mut out = Vec::new();
            plan.reader(&file).read_to_end(&mut out).unwrap();
            assert_eq!(out.len() as u64, plan.stripped_size);
            assert_eq!(&out[..4], b"\x7fELF");
            // Stripping again finds nothing left to remove.
            let path =
                std::env::temp_dir().join(format!("pyimage-stripped-{}", std::process::id()));
            std::fs::write(&path, &out).unwrap();
            let again = File::open(&path).unwrap();
            assert!(plan_debug_strip(&again, out.len() as u64)
                .unwrap()
                .is_none());
            std::fs::remove_file(&path).unwrap();
        }
    }
}
