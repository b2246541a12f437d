//! Lists the members of a layer tar that another tool wrote (a `pkg_tar`, a layer given
//! to `extra_layers`), plain, gzip or zstd: paths, types and sizes, for the image report.
//! Reads ustar, PAX (`path`, `size`) and GNU long names; the data is skipped, not kept.

use std::io::{self, BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::tar::header_checksum;

/// What a tar member is, as far as the report cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    /// A regular file (or a contiguous file).
    File,
    /// A hard link to an earlier member.
    HardLink,
    /// A directory.
    Dir,
    /// A symlink, device, FIFO or anything else.
    Other,
}

/// One member of a tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its path, normalised: no leading `./` or `/`, no trailing `/`.
    pub path: String,
    /// Its type.
    pub kind: MemberKind,
    /// Bytes of data (0 for all but regular files).
    pub size: u64,
}

const BLOCK: usize = 512;

/// Lists the members of the tar at `path`, decompressing gzip or zstd as its first bytes say.
pub fn list_tar_file(path: &Path) -> Result<Vec<Member>> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("opening layer {}", path.display()), e))?;
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 4];
    let n = read_full(&mut reader, &mut magic)
        .map_err(|e| Error::io(format!("reading layer {}", path.display()), e))?;
    let head = io::Cursor::new(magic[..n].to_vec()).chain(reader);
    let listed = if magic[..2] == [0x1f, 0x8b] {
        list_tar(flate2::read::MultiGzDecoder::new(head))
    } else if magic == [0x28, 0xb5, 0x2f, 0xfd] {
        let decoder = zstd::stream::read::Decoder::new(head)
            .map_err(|e| Error::io(format!("reading layer {}", path.display()), e))?;
        list_tar(decoder)
    } else {
        list_tar(head)
    };
    listed.map_err(|e| Error::BadFile {
        path: path.to_path_buf(),
        message: format!("not a readable layer tar (plain, gzip or zstd): {e}"),
    })
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// A numeric header field: octal (space or NUL padded) or GNU base-256.
fn number(field: &[u8]) -> io::Result<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| invalid("a base-256 size overflows 64 bits".into()))?;
        }
        return Ok(value);
    }
    let text = std::str::from_utf8(cstr(field))
        .map_err(|_| invalid("a numeric field is not ASCII".into()))?
        .trim_matches([' ', '\0']);
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|_| invalid(format!("bad octal field {text:?}")))
}

fn skip(reader: &mut impl Read, bytes: u64) -> io::Result<()> {
    let padded = bytes.div_ceil(BLOCK as u64) * BLOCK as u64;
    let copied = io::copy(&mut reader.take(padded), &mut io::sink())?;
    if copied != padded {
        return Err(invalid("the tar ends inside a member's data".into()));
    }
    Ok(())
}

fn read_data(reader: &mut impl Read, bytes: u64) -> io::Result<Vec<u8>> {
    if bytes > 1 << 20 {
        return Err(invalid(format!(
            "an extended header of {bytes} bytes (more than 1 MiB)"
        )));
    }
    let padded = bytes.div_ceil(BLOCK as u64) as usize * BLOCK;
    let mut data = vec![0u8; padded];
    reader.read_exact(&mut data)?;
    data.truncate(bytes as usize);
    Ok(data)
}

/// PAX records `LEN KEY=VALUE\n`: the `path` and `size` values.
fn pax(data: &[u8]) -> io::Result<(Option<Vec<u8>>, Option<u64>)> {
    let (mut path, mut size) = (None, None);
    let mut rest = data;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| invalid("a PAX record without a length".into()))?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&l| l > space && l <= rest.len())
            .ok_or_else(|| invalid("a PAX record with a bad length".into()))?;
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            match &record[..eq] {
                b"path" => path = Some(record[eq + 1..].to_vec()),
                b"size" => {
                    size = std::str::from_utf8(&record[eq + 1..])
                        .ok()
                        .and_then(|s| s.parse().ok())
                }
                _ => {}
            }
        }
        rest = &rest[len..];
    }
    Ok((path, size))
}

fn normalise(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Lists the members of an uncompressed tar stream.
pub fn list_tar(mut reader: impl Read) -> io::Result<Vec<Member>> {
    let mut members = Vec::new();
    let mut long_name: Option<Vec<u8>> = None;
    let mut pax_path: Option<Vec<u8>> = None;
    let mut pax_size: Option<u64> = None;
    let mut header = [0u8; BLOCK];
    loop {
        match read_full(&mut reader, &mut header)? {
            0 => break,
            BLOCK => {}
            _ => return Err(invalid("the tar ends inside a header".into())),
        }
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let stored: u64 = number(&header[148..156])?;
        if stored != u64::from(header_checksum(&header)) {
            return Err(invalid(format!(
                "header {} has a bad checksum",
                members.len() + 1
            )));
        }
        let size = number(&header[124..136])?;
        match header[156] {
            b'x' => {
                (pax_path, pax_size) = pax(&read_data(&mut reader, size)?)?;
                continue;
            }
            b'L' => {
                let data = read_data(&mut reader, size)?;
                long_name = Some(cstr(&data).to_vec());
                continue;
            }
            b'g' | b'K' => {
                skip(&mut reader, size)?;
                continue;
            }
            _ => {}
        }
        let size = pax_size.take().unwrap_or(size);
        let name = match (pax_path.take(), long_name.take()) {
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => {
                let name = cstr(&header[0..100]);
                let prefix = if &header[257..262] == b"ustar" {
                    cstr(&header[345..500])
                } else {
                    &[]
                };
                if prefix.is_empty() {
                    name.to_vec()
                } else {
                    [prefix, b"/", name].concat()
                }
            }
        };
        let kind = match header[156] {
            b'0' | 0 | b'7' => MemberKind::File,
            b'1' => MemberKind::HardLink,
            b'5' => MemberKind::Dir,
            _ => MemberKind::Other,
        };
        let data = if matches!(kind, MemberKind::File) {
            size
        } else {
            0
        };
        skip(&mut reader, data)?;
        members.push(Member {
            path: normalise(&name),
            kind,
            size: data,
        });
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn lists_what_gnu_tar_writes() {
        let dir = std::env::temp_dir().join(format!("tar-list-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let long = "d/".to_string() + &"n".repeat(150);
        std::fs::create_dir_all(dir.join(&long)).unwrap();
        std::fs::write(dir.join("d/a.txt"), b"hello").unwrap();
        std::fs::write(dir.join(&long).join("f"), vec![7u8; 1000]).unwrap();
        std::os::unix::fs::symlink("a.txt", dir.join("d/link")).unwrap();
        for format in ["gnu", "posix"] {
            let tar = dir.join(format!("{format}.tar.gz"));
            let status = Command::new("tar")
                .args(["--sort=name", "-czf"])
                .arg(&tar)
                .arg(format!("--format={format}"))
                .arg("-C")
                .arg(&dir)
                .arg("d")
                .status()
                .expect("GNU tar");
            assert!(status.success());
            let members = list_tar_file(&tar).unwrap();
            let files: Vec<(&str, u64)> = members
                .iter()
                .filter(|m| m.kind == MemberKind::File)
                .map(|m| (m.path.as_str(), m.size))
                .collect();
            let long_file = format!("{long}/f");
            assert_eq!(
                files,
                [("d/a.txt", 5), (long_file.as_str(), 1000)],
                "{format}"
            );
            assert!(members
                .iter()
                .any(|m| m.path == "d/link" && m.kind == MemberKind::Other));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_damaged_tars() {
        let mut header = [0u8; BLOCK];
        header[..5].copy_from_slice(b"a.txt");
        header[124..135].copy_from_slice(b"00000000005");
        header[148..156].copy_from_slice(b"00000000");
        let err = list_tar(&header[..]).unwrap_err();
        assert!(err.to_string().contains("bad checksum"), "{err}");
        assert!(list_tar(&header[..100]).is_err());
        assert_eq!(list_tar(&[0u8; 1024][..]).unwrap(), []);
    }
}
