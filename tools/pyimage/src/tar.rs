//! A deterministic ustar/PAX header writer.
//!
//! Only what a layer needs: directories, regular files, symlinks and hard links, with a fixed
//! mtime, numeric owner and (unless an entry names them) empty user/group names. Fields that do not fit ustar (paths or link targets
//! over 100 bytes, files of 8 GiB or more, large ids or times) go into a PAX extended
//! header, never GNU extensions, so every reader sees the same archive.

use std::io::{self, Write};

/// Size of a tar block.
pub const BLOCK: usize = 512;

/// The largest value an 11-digit octal field holds (8 GiB - 1).
const MAX_OCTAL_11: u64 = 0o77_777_777_777;
/// The largest value a 7-digit octal field holds.
const MAX_OCTAL_7: u64 = 0o7_777_777;

/// The type of a tar member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberType<'a> {
    /// A directory.
    Dir,
    /// A regular file of this many bytes (the content follows the header).
    File(u64),
    /// A symbolic link to this target.
    Symlink(&'a str),
    /// A hard link to this earlier member (a normalised path; no content follows).
    HardLink(&'a str),
}

/// Owner and time stamped on every member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// Numeric user id.
    pub uid: u64,
    /// Numeric group id.
    pub gid: u64,
}

/// The largest mtime standard readers read back exactly: 2^53 seconds. Python's `tarfile`
/// reads PAX times as floating point numbers, exact up to 2^53; GNU tar and bsdtar list
/// and extract it (GNU tar refuses times of 2^63 and more, bsdtar crashes listing
/// 2^63 - 1).
pub const MAX_MTIME: u64 = 1 << 53;

/// The largest uid or gid: 2^32 - 2. GNU tar refuses ids above 2^32 - 1, and 2^32 - 1 is
/// `(uid_t) -1`, which `chown` takes as "leave unchanged", so no extracted file gets it.
pub const MAX_ID: u64 = u32::MAX as u64 - 1;

impl Stamp {
    /// Refuses an mtime or owner that standard tar readers cannot represent.
    pub fn check(&self) -> Result<(), String> {
        if self.mtime > MAX_MTIME {
            return Err(format!(
                "--mtime {} is too large for tar readers (Python's tarfile reads times as floating point, exact only up to {MAX_MTIME}; GNU tar refuses and bsdtar crashes on larger ones); give seconds since the epoch up to {MAX_MTIME}, such as 0 or a release date",
                self.mtime
            ));
        }
        for (what, id) in [("uid", self.uid), ("gid", self.gid)] {
            if id > MAX_ID {
                return Err(format!(
                    "--owner {}:{} has {what} {id}, which tar readers cannot give a file (GNU tar refuses ids above {}, and {} means \"no owner change\" to chown); use an id up to {MAX_ID}",
                    self.uid,
                    self.gid,
                    u32::MAX,
                    u32::MAX
                ));
            }
        }
        Ok(())
    }
}

/// User and group names of a member (empty: none), as tar readers list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Names<'a> {
    /// User name.
    pub user: &'a str,
    /// Group name.
    pub group: &'a str,
}

/// Writes the header block(s) of one member without user or group names; see
/// [`write_named_header`].
pub fn write_header(
    out: &mut impl Write,
    path: &str,
    member: MemberType<'_>,
    mode: u32,
    stamp: Stamp,
) -> io::Result<u64> {
    write_named_header(out, path, member, mode, stamp, Names::default())
}

/// Writes the header block(s) of one member: an optional PAX header, then the ustar
/// header. `path` is normalised (no leading `/`); directories get a trailing `/`.
/// Returns the number of bytes written.
pub fn write_named_header(
    out: &mut impl Write,
    path: &str,
    member: MemberType<'_>,
    mode: u32,
    stamp: Stamp,
    names: Names<'_>,
) -> io::Result<u64> {
    let name = match member {
        MemberType::Dir => format!("{path}/"),
        _ => path.to_string(),
    };
    let (size, link, typeflag) = match member {
        MemberType::Dir => (0, "", b'5'),
        MemberType::File(size) => (size, "", b'0'),
        MemberType::Symlink(target) => (0, target, b'2'),
        MemberType::HardLink(target) => (0, target, b'1'),
    };

    let mut records = Vec::new();
    if name.len() > 100 {
        pax_record(&mut records, "path", &name);
    }
    if link.len() > 100 {
        pax_record(&mut records, "linkpath", link);
    }
    if size > MAX_OCTAL_11 {
        pax_record(&mut records, "size", &size.to_string());
    }
    if stamp.uid > MAX_OCTAL_7 {
        pax_record(&mut records, "uid", &stamp.uid.to_string());
    }
    if stamp.gid > MAX_OCTAL_7 {
        pax_record(&mut records, "gid", &stamp.gid.to_string());
    }
    if stamp.mtime > MAX_OCTAL_11 {
        pax_record(&mut records, "mtime", &stamp.mtime.to_string());
    }
    if names.user.len() > 31 {
        pax_record(&mut records, "uname", names.user);
    }
    if names.group.len() > 31 {
        pax_record(&mut records, "gname", names.group);
    }

    let mut written = 0;
    if !records.is_empty() {
        let pax_name = format!("PaxHeaders/{}", truncate(basename(&name), 88));
        let header = ustar_header(
            &pax_name,
            b'x',
            records.len() as u64,
            0o644,
            "",
            stamp,
            Names::default(),
        );
        out.write_all(&header)?;
        out.write_all(&records)?;
        let pad = padding(records.len() as u64);
        out.write_all(&[0u8; BLOCK][..pad])?;
        written += (BLOCK + records.len() + pad) as u64;
    }
    let header = ustar_header(
        truncate(&name, 100),
        typeflag,
        size,
        mode,
        truncate(link, 100),
        stamp,
        Names {
            user: truncate(names.user, 31),
            group: truncate(names.group, 31),
        },
    );
    out.write_all(&header)?;
    Ok(written + BLOCK as u64)
}

/// Zero bytes needed after `len` bytes of content to reach a block boundary.
pub fn padding(len: u64) -> usize {
    ((BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64) as usize
}

/// The end-of-archive marker: two zero blocks.
pub fn write_trailer(out: &mut impl Write) -> io::Result<u64> {
    out.write_all(&[0u8; 2 * BLOCK])?;
    Ok(2 * BLOCK as u64)
}

fn ustar_header(
    name: &str,
    typeflag: u8,
    size: u64,
    mode: u32,
    link: &str,
    stamp: Stamp,
    names: Names<'_>,
) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], u64::from(mode & 0o7777));
    octal(&mut h[108..116], stamp.uid.min(MAX_OCTAL_7));
    octal(&mut h[116..124], stamp.gid.min(MAX_OCTAL_7));
    octal(&mut h[124..136], if size > MAX_OCTAL_11 { 0 } else { size });
    octal(&mut h[136..148], stamp.mtime.min(MAX_OCTAL_11));
    h[156] = typeflag;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // uname and gname are NUL-terminated (at most 31 bytes here); device numbers are zero.
    h[265..265 + names.user.len()].copy_from_slice(names.user.as_bytes());
    h[297..297 + names.group.len()].copy_from_slice(names.group.as_bytes());
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    let text = format!("{:06o}\0 ", header_checksum(&h));
    h[148..156].copy_from_slice(text.as_bytes());
    h
}

/// The ustar header checksum: the sum of the header's bytes, the checksum field (bytes
/// 148..156) counted as spaces.
pub fn header_checksum(header: &[u8]) -> u32 {
    header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum()
}

/// Writes `value` as zero-padded octal filling the field but its last byte (a NUL).
fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
}

/// Appends one PAX record `"<len> <key>=<value>\n"`, where `<len>` counts itself.
fn pax_record(out: &mut Vec<u8>, key: &str, value: &str) {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    out.extend_from_slice(format!("{len} {key}={value}\n").as_bytes());
}

fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(h: &[u8], range: std::ops::Range<usize>) -> String {
        String::from_utf8(h[range].iter().take_while(|&&b| b != 0).copied().collect()).unwrap()
    }

    fn checksum_ok(h: &[u8]) -> bool {
        let stored = u32::from_str_radix(field(h, 148..154).trim(), 8).unwrap();
        stored == header_checksum(h)
    }

    #[test]
    fn names_in_the_header_and_in_pax_when_long() {
        let stamp = Stamp {
            mtime: 0,
            uid: 1000,
            gid: 1000,
        };
        let mut out = Vec::new();
        let names = Names {
            user: "app",
            group: "staff",
        };
        write_named_header(&mut out, "a", MemberType::Dir, 0o750, stamp, names).unwrap();
        assert_eq!(out.len(), 512);
        assert_eq!(field(&out, 265..297), "app");
        assert_eq!(field(&out, 297..329), "staff");
        assert!(checksum_ok(&out));
        let long = "u".repeat(40);
        let mut out = Vec::new();
        let names = Names {
            user: &long,
            group: "g",
        };
        write_named_header(&mut out, "a", MemberType::Dir, 0o750, stamp, names).unwrap();
        let pax = String::from_utf8_lossy(&out[512..1024]).to_string();
        assert!(pax.contains(&format!("uname={long}\n")), "{pax}");
        assert_eq!(field(&out, 1024 + 265..1024 + 297), "u".repeat(31));
    }

    #[test]
    fn plain_header_fields() {
        let mut out = Vec::new();
        let stamp = Stamp {
            mtime: 1234,
            uid: 0,
            gid: 0,
        };
        let n = write_header(&mut out, "usr/bin/app", MemberType::File(5), 0o755, stamp).unwrap();
        assert_eq!(n, 512);
        assert_eq!(out.len(), 512);
        assert_eq!(field(&out, 0..100), "usr/bin/app");
        assert_eq!(field(&out, 100..108), "0000755");
        assert_eq!(field(&out, 108..116), "0000000");
        assert_eq!(field(&out, 124..136), "00000000005");
        assert_eq!(field(&out, 136..148), "00000002322");
        assert_eq!(out[156], b'0');
        assert_eq!(&out[257..265], b"ustar\x0000");
        assert_eq!(field(&out, 265..297), "");
        assert!(checksum_ok(&out));
    }

    #[test]
    fn dirs_and_symlinks() {
        let mut out = Vec::new();
        write_header(&mut out, "a/b", MemberType::Dir, 0o755, Stamp::default()).unwrap();
        assert_eq!(field(&out, 0..100), "a/b/");
        assert_eq!(out[156], b'5');
        let mut out = Vec::new();
        write_header(
            &mut out,
            "bin/py",
            MemberType::Symlink("python3.11"),
            0o777,
            Stamp::default(),
        )
        .unwrap();
        assert_eq!(field(&out, 157..257), "python3.11");
        assert_eq!(out[156], b'2');
        assert!(checksum_ok(&out));
    }

    #[test]
    fn hard_links() {
        let mut out = Vec::new();
        let n = write_header(
            &mut out,
            "lib/b.so",
            MemberType::HardLink("lib/a.so"),
            0o755,
            Stamp::default(),
        )
        .unwrap();
        assert_eq!(n, 512);
        assert_eq!(out[156], b'1');
        assert_eq!(field(&out, 0..100), "lib/b.so");
        assert_eq!(field(&out, 157..257), "lib/a.so");
        assert_eq!(field(&out, 124..136), "00000000000");
        assert_eq!(field(&out, 100..108), "0000755");
        assert!(checksum_ok(&out));
        // A long target goes into a PAX linkpath record.
        let target = format!("{}/a.so", "d".repeat(120));
        let mut out = Vec::new();
        write_header(
            &mut out,
            "b",
            MemberType::HardLink(&target),
            0o644,
            Stamp::default(),
        )
        .unwrap();
        assert_eq!(out[156], b'x');
        let records = String::from_utf8_lossy(&out[512..1024]);
        assert!(
            records.contains(&format!(" linkpath={target}\n")),
            "{records}"
        );
        assert_eq!(out[1024 + 156], b'1');
    }

    #[test]
    fn long_names_use_pax() {
        let long = format!("{}/é{}", "d".repeat(60), "f".repeat(60));
        let target = "t/".repeat(60);
        let mut out = Vec::new();
        let n = write_header(
            &mut out,
            &long,
            MemberType::Symlink(&target),
            0o777,
            Stamp::default(),
        )
        .unwrap();
        assert_eq!(n as usize, out.len());
        assert_eq!(out[156], b'x');
        assert!(checksum_ok(&out[..512]));
        let size = usize::from_str_radix(&field(&out, 124..136), 8).unwrap();
        let records = std::str::from_utf8(&out[512..512 + size]).unwrap();
        assert_eq!(
            records,
            format!(
                "{} path={long}\n{} linkpath={target}\n",
                10 + long.len(),
                14 + target.len()
            )
        );
        let main = &out[out.len() - 512..];
        assert_eq!(main[156], b'2');
        assert!(checksum_ok(main));
        assert_eq!(out.len() % 512, 0);
    }

    #[test]
    fn exactly_100_byte_name_needs_no_pax() {
        let name = "n".repeat(100);
        let mut out = Vec::new();
        write_header(
            &mut out,
            &name,
            MemberType::File(0),
            0o644,
            Stamp::default(),
        )
        .unwrap();
        assert_eq!(out.len(), 512);
        // A directory of 100 bytes gets a trailing slash: 101 bytes, PAX.
        let mut out = Vec::new();
        write_header(&mut out, &name, MemberType::Dir, 0o755, Stamp::default()).unwrap();
        assert_eq!(out.len(), 1536);
    }

    #[test]
    fn huge_files_and_ids_use_pax() {
        let mut out = Vec::new();
        let big = 9 * 1024 * 1024 * 1024u64;
        let stamp = Stamp {
            mtime: 0,
            uid: 3_000_000,
            gid: 5,
        };
        write_header(&mut out, "big", MemberType::File(big), 0o644, stamp).unwrap();
        let size = usize::from_str_radix(&field(&out, 124..136), 8).unwrap();
        let records = std::str::from_utf8(&out[512..512 + size]).unwrap();
        assert_eq!(records, "19 size=9663676416\n15 uid=3000000\n");
        let main = &out[out.len() - 512..];
        assert_eq!(field(main, 124..136), "00000000000");
        assert_eq!(field(main, 116..124), "0000005");
    }

    #[test]
    fn pax_record_length_counts_itself() {
        for value_len in 0..300 {
            let mut out = Vec::new();
            pax_record(&mut out, "path", &"x".repeat(value_len));
            let text = std::str::from_utf8(&out).unwrap();
            let declared: usize = text.split(' ').next().unwrap().parse().unwrap();
            assert_eq!(declared, out.len(), "value length {value_len}");
        }
    }

    #[test]
    fn padding_and_truncation() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(basename("a/b/c/"), "c");
    }
}
