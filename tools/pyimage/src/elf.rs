//! Removing DWARF debug sections from ELF executables and shared libraries.
//!
//! The approach is deliberately conservative: everything a loader looks at (the ELF
//! header, program headers and every byte any segment maps) is copied unchanged, at the
//! same offsets. Debug sections (`.debug_*`, `.zdebug_*`, never `SHF_ALLOC`) are dropped;
//! the other non-loaded sections (`.symtab`, `.strtab`, `.comment`, ...) are packed after
//! the last segment, followed by a new section header table in which the dropped sections'
//! headers are zeroed (`SHT_NULL`), so no section index changes and nothing referring to
//! one (`sh_link`, symbol tables) needs rewriting. Files that are not ELF executables or
//! shared objects, or that look unusual in any way, are left alone.
//!
//! The plan is computed from the headers only and the output is streamed, so a 1 GB
//! shared library never sits in memory.

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

/// Works out how to strip debug sections from `file` (of `size` bytes). Returns `None`
/// when the file is not an ELF executable or shared object, has no debug sections, or has
/// a layout this conservative rewriter does not handle.
pub fn plan_debug_strip(file: &File, size: u64) -> io::Result<Option<StripPlan>> {
    let mut ident = [0u8; 64];
    let n = read_at_most(file, &mut ident, 0)?;
    if n < 52 || &ident[..4] != b"\x7fELF" {
        return Ok(None);
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
        _ => return Ok(None),
    };
    if layout.is64 && n < 64 {
        return Ok(None);
    }
    Ok(plan(file, size, &ident, layout))
}

fn plan(file: &File, size: u64, ehdr: &[u8; 64], l: Layout) -> Option<StripPlan> {
    let w = l.word();
    let e_type = l.get(ehdr, 16, 2)?;
    if e_type != 2 && e_type != 3 {
        return None; // only executables and shared objects
    }
    let (phoff, shoff, rest) = if l.is64 { (32, 40, 52) } else { (28, 32, 40) };
    let phoff = l.get(ehdr, phoff, w)?;
    let shoff_field = shoff;
    let shoff = l.get(ehdr, shoff, w)?;
    let ehsize = l.get(ehdr, rest, 2)?;
    let phentsize = l.get(ehdr, rest + 2, 2)?;
    let phnum = l.get(ehdr, rest + 4, 2)?;
    let shentsize = l.get(ehdr, rest + 6, 2)?;
    let shnum = l.get(ehdr, rest + 8, 2)?;
    let shstrndx = l.get(ehdr, rest + 10, 2)?;
    let (want_ph, want_sh) = if l.is64 { (56, 64) } else { (32, 40) };
    if shoff == 0
        || shnum == 0
        || shstrndx >= shnum
        || shentsize != want_sh
        || (phnum > 0 && phentsize != want_ph)
    {
        return None;
    }
    if ehsize > 64 || ehsize < if l.is64 { 64 } else { 52 } {
        return None;
    }
    let sh_table_len = shnum * shentsize;
    if shoff.checked_add(sh_table_len)? > size {
        return None;
    }

    // Everything a loader can see: the headers and every segment's file bytes.
    let mut loaded_end = ehsize.max(phoff.checked_add(phnum * phentsize)?);
    let mut phdrs = vec![0u8; (phnum * phentsize) as usize];
    read_exact(file, &mut phdrs, phoff)?;
    for i in 0..phnum as usize {
        let p = &phdrs[i * want_ph as usize..];
        let (offset, filesz) = if l.is64 {
            (l.get(p, 8, 8)?, l.get(p, 32, 8)?)
        } else {
            (l.get(p, 4, 4)?, l.get(p, 16, 4)?)
        };
        loaded_end = loaded_end.max(offset.checked_add(filesz)?);
    }
    if loaded_end > size {
        return None;
    }

    let mut shdrs = vec![0u8; sh_table_len as usize];
    read_exact(file, &mut shdrs, shoff)?;
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
        .collect::<Option<_>>()?;

    let names = &sections[shstrndx as usize];
    if names.size > 16 << 20 || names.offset.checked_add(names.size)? > size {
        return None;
    }
    let mut strtab = vec![0u8; names.size as usize];
    read_exact(file, &mut strtab, names.offset)?;
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
        return None;
    }
    for (i, s) in sections.iter().enumerate() {
        if removed[i] {
            continue;
        }
        // Anything still pointing at a dropped section would dangle: leave such files alone.
        let points_at_removed = |index: u64| index < shnum && index != 0 && removed[index as usize];
        if points_at_removed(s.link)
            || ((s.kind == SHT_REL || s.kind == SHT_RELA) && points_at_removed(s.info))
        {
            return None;
        }
        if has_data(s) {
            let end = s.offset.checked_add(s.size)?;
            if end > size || (s.flags & SHF_ALLOC != 0 && end > loaded_end) {
                return None;
            }
            if s.offset < loaded_end && end > loaded_end {
                return None;
            }
        }
    }

    // Kept sections beyond the loaded part move, in file order, right after it.
    let mut moved: Vec<usize> = (0..sections.len())
        .filter(|&i| !removed[i] && has_data(&sections[i]) && sections[i].offset >= loaded_end)
        .collect();
    moved.sort_by_key(|&i| sections[i].offset);
    for pair in moved.windows(2) {
        let (a, b) = (&sections[pair[0]], &sections[pair[1]]);
        if a.offset + a.size > b.offset {
            return None; // overlapping sections
        }
    }

    let mut pieces = Vec::new();
    let mut new_ehdr = ehdr[..ehsize as usize].to_vec();
    pieces.push(Piece::Bytes(Vec::new())); // the header, filled in below
    pieces.push(Piece::Copy {
        offset: ehsize,
        len: loaded_end - ehsize,
    });
    let mut cursor = loaded_end;
    let mut new_offsets = vec![None; sections.len()];
    for &i in &moved {
        let s = &sections[i];
        let aligned = align_up(cursor, s.align.max(1))?;
        if aligned > cursor {
            pieces.push(Piece::Bytes(vec![0; (aligned - cursor) as usize]));
        }
        pieces.push(Piece::Copy {
            offset: s.offset,
            len: s.size,
        });
        new_offsets[i] = Some(aligned);
        cursor = aligned + s.size;
    }
    let new_shoff = align_up(cursor, w as u64)?;
    if new_shoff > cursor {
        pieces.push(Piece::Bytes(vec![0; (new_shoff - cursor) as usize]));
    }
    let mut new_shdrs = shdrs;
    let off_field = if l.is64 { 24 } else { 16 };
    for (i, s) in sections.iter().enumerate() {
        let entry = &mut new_shdrs[i * shentsize as usize..(i + 1) * shentsize as usize];
        if removed[i] {
            entry.fill(0);
        } else if let Some(offset) = new_offsets[i] {
            l.put(entry, off_field, w, offset);
        } else if !has_data(s) && s.offset > loaded_end {
            // Empty or NOBITS sections past the loaded part: point them at its end.
            l.put(entry, off_field, w, loaded_end);
        }
    }
    pieces.push(Piece::Bytes(new_shdrs));
    let stripped_size = new_shoff + sh_table_len;
    if stripped_size >= size {
        return None;
    }
    l.put(&mut new_ehdr, shoff_field, w, new_shoff);
    pieces[0] = Piece::Bytes(new_ehdr);
    Some(StripPlan {
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
