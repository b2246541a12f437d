//! The layer manifest: one entry per line, fields separated by a single TAB.
//!
//! ```text
//! # comment
//! file     <dest> <src> [<octal mode>]
//! tree     <dest> <srcdir>
//! symlink  <dest> <target>
//! link     <dest> <src symlink>
//! dir      <dest>
//! empty    <dest>
//! ```

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::path::normalize_dest;

/// What one manifest line asks for. Destinations are normalised (no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestEntry {
    /// A regular file copied from `src` (symlinks on disk are followed).
    File {
        /// In-image path.
        dest: String,
        /// Source on disk.
        src: PathBuf,
        /// Explicit permission bits, else taken from the source's executable bit.
        mode: Option<u32>,
    },
    /// A directory on disk copied recursively under `dest`.
    Tree {
        /// In-image path of the directory.
        dest: String,
        /// Source directory on disk.
        src: PathBuf,
    },
    /// A symbolic link; `target` is as written (relative to the link, or absolute in-image).
    Symlink {
        /// In-image path of the link.
        dest: String,
        /// Link target as written.
        target: String,
    },
    /// A symbolic link whose target is read from the symlink `src` on disk (a Bazel
    /// symlink artifact), never followed.
    Link {
        /// In-image path of the link.
        dest: String,
        /// The symlink on disk whose target is copied.
        src: PathBuf,
    },
    /// An empty directory.
    Dir {
        /// In-image path.
        dest: String,
    },
    /// An empty regular file.
    Empty {
        /// In-image path.
        dest: String,
    },
}

impl ManifestEntry {
    /// The normalised in-image path.
    pub fn dest(&self) -> &str {
        match self {
            ManifestEntry::File { dest, .. }
            | ManifestEntry::Tree { dest, .. }
            | ManifestEntry::Symlink { dest, .. }
            | ManifestEntry::Link { dest, .. }
            | ManifestEntry::Dir { dest }
            | ManifestEntry::Empty { dest } => dest,
        }
    }
}

/// A manifest entry with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLine {
    /// 1-based line number.
    pub line: usize,
    /// The parsed entry.
    pub entry: ManifestEntry,
}

/// Reads and parses a manifest file.
pub fn read_manifest(path: &Path) -> Result<Vec<ManifestLine>> {
    let bytes = std::fs::read(path).map_err(|source| Error::ManifestRead {
        path: path.to_path_buf(),
        source,
    })?;
    parse_manifest_bytes(&bytes)
}

/// Parses manifest bytes, refusing invalid UTF-8 with the offending line number.
pub fn parse_manifest_bytes(bytes: &[u8]) -> Result<Vec<ManifestLine>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_manifest(text),
        Err(e) => {
            let bad = e.valid_up_to();
            let line = bytes[..bad].iter().filter(|&&b| b == b'\n').count() + 1;
            let start = bytes[..bad]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let end = bytes[bad..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| bad + i);
            Err(Error::ManifestNotUtf8 {
                line,
                lossy: String::from_utf8_lossy(&bytes[start..end]).into_owned(),
            })
        }
    }
}

/// Parses manifest text. Blank lines and lines starting with `#` are ignored.
pub fn parse_manifest(text: &str) -> Result<Vec<ManifestLine>> {
    let mut entries = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        entries.push(ManifestLine {
            line,
            entry: parse_line(line, raw)?,
        });
    }
    Ok(entries)
}

fn parse_line<'a>(line: usize, raw: &'a str) -> Result<ManifestEntry> {
    let syntax = |message: String| Error::ManifestSyntax { line, message };
    let fields: Vec<&'a str> = raw.split('\t').collect();
    let kind = fields[0];
    let expected: &[usize] = match kind {
        "file" => &[3, 4],
        "tree" | "symlink" | "link" => &[3],
        "dir" | "empty" => &[2],
        _ => {
            return Err(syntax(format!(
                "unknown entry kind {kind:?}; expected one of file, tree, symlink, link, dir, empty followed by TAB-separated fields"
            )))
        }
    };
    if !expected.contains(&fields.len()) {
        let usage = match kind {
            "file" => "file<TAB>dest<TAB>src[<TAB>mode]",
            "tree" => "tree<TAB>dest<TAB>srcdir",
            "symlink" => "symlink<TAB>dest<TAB>target",
            "link" => "link<TAB>dest<TAB>src-symlink",
            "dir" => "dir<TAB>dest",
            _ => "empty<TAB>dest",
        };
        return Err(syntax(format!(
            "{kind} entry has {} TAB-separated fields; expected {usage}",
            fields.len()
        )));
    }
    let dest = normalize_dest(fields[1]).map_err(|problem| Error::BadPath {
        line,
        path: fields[1].to_string(),
        reason: problem.explain().to_string(),
    })?;
    let non_empty = |what: &str, value: &'a str| -> Result<&'a str> {
        if value.is_empty() {
            Err(syntax(format!(
                "{kind} entry for {dest} has an empty {what}"
            )))
        } else if value.contains(['\r', '\0']) {
            Err(syntax(format!(
                "{kind} entry for {dest} has a {what} with a carriage return or NUL; rename it"
            )))
        } else {
            Ok(value)
        }
    };
    Ok(match kind {
        "file" => ManifestEntry::File {
            src: PathBuf::from(non_empty("source path", fields[2])?),
            mode: match fields.get(3) {
                Some(text) => Some(parse_mode(text).ok_or_else(|| {
                    syntax(format!(
                        "file entry for {dest} has mode {text:?}; write an octal mode such as 0644 or 0755"
                    ))
                })?),
                None => None,
            },
            dest,
        },
        "tree" => ManifestEntry::Tree {
            src: PathBuf::from(non_empty("source directory", fields[2])?),
            dest,
        },
        "symlink" => ManifestEntry::Symlink {
            target: non_empty("target", fields[2])?.to_string(),
            dest,
        },
        "link" => ManifestEntry::Link {
            src: PathBuf::from(non_empty("source symlink", fields[2])?),
            dest,
        },
        "dir" => ManifestEntry::Dir { dest },
        _ => ManifestEntry::Empty { dest },
    })
}

/// Parses an octal permission string of 1 to 5 digits, at most `0o7777`.
fn parse_mode(text: &str) -> Option<u32> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return None;
    }
    let mode = u32::from_str_radix(digits, 8).ok()?;
    (mode <= 0o7777).then_some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> ManifestEntry {
        let mut entries = parse_manifest(text).unwrap();
        assert_eq!(entries.len(), 1);
        entries.remove(0).entry
    }

    #[test]
    fn parses_every_kind() {
        let text = "# header\n\nfile\t/usr/bin/app\tbazel-out/app\nfile\tetc/x\tsrc/x\t0600\ntree\t/opt/t\tout/t\nsymlink\tbin/py\tpython3.11\ndir\tvar/empty\nempty\t/app/__init__.py\nlink\t//lib/./libx.so\tbazel-out/libx.so\n";
        let entries = parse_manifest(text).unwrap();
        assert_eq!(entries.len(), 7);
        assert_eq!(entries[0].line, 3);
        assert_eq!(
            entries[0].entry,
            ManifestEntry::File {
                dest: "usr/bin/app".into(),
                src: "bazel-out/app".into(),
                mode: None
            }
        );
        assert_eq!(
            entries[1].entry,
            ManifestEntry::File {
                dest: "etc/x".into(),
                src: "src/x".into(),
                mode: Some(0o600)
            }
        );
        assert_eq!(entries[2].entry.dest(), "opt/t");
        assert_eq!(
            entries[3].entry,
            ManifestEntry::Symlink {
                dest: "bin/py".into(),
                target: "python3.11".into()
            }
        );
        assert_eq!(
            entries[4].entry,
            ManifestEntry::Dir {
                dest: "var/empty".into()
            }
        );
        assert_eq!(
            entries[5].entry,
            ManifestEntry::Empty {
                dest: "app/__init__.py".into()
            }
        );
        assert_eq!(entries[6].line, 9);
        assert_eq!(
            entries[6].entry,
            ManifestEntry::Link {
                dest: "lib/libx.so".into(),
                src: "bazel-out/libx.so".into()
            }
        );
    }

    #[test]
    fn normalizes_dest() {
        assert_eq!(one("dir\t//a/./b//").dest(), "a/b");
    }

    #[test]
    fn refuses_bad_lines_with_line_numbers() {
        let err = |text: &str| parse_manifest(text).unwrap_err().to_string();
        assert!(err("\nfoo\tx").contains("line 2: unknown entry kind \"foo\""));
        assert!(err("file\tx").contains("expected file<TAB>dest<TAB>src"));
        assert!(err("file\tx\ty\t0755\textra").contains("5 TAB-separated fields"));
        assert!(err("dir\ta/../b").contains("\"a/../b\" has a '..'"));
        assert!(err("dir\t/").contains("names the image root"));
        assert!(err("file\tx\ty\t0999").contains("octal mode"));
        assert!(err("file\tx\ty\t17777").contains("octal mode"));
        assert!(err("file\tx\t").contains("empty source path"));
        assert!(err("symlink\tx\t").contains("empty target"));
        assert!(err("link\tx\t").contains("empty source symlink"));
        assert!(err("link\tx").contains("expected link<TAB>dest<TAB>src-symlink"));
        assert!(err("link\tx\ty\tz").contains("4 TAB-separated fields"));
        assert!(err("link\tx\ty\r").contains("carriage return"));
        assert!(err("dir\tx\r").contains("carriage return"));
        assert!(err("file\tx\ty\t\t0755").contains("TAB-separated fields"));
    }

    #[test]
    fn refuses_invalid_utf8_naming_the_line() {
        let err = parse_manifest_bytes(b"dir\ta\nfile\tb\xff\tc\ndir\td\n").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("b\u{fffd}"), "{message}");
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0755"), Some(0o755));
        assert_eq!(parse_mode("644"), Some(0o644));
        assert_eq!(parse_mode("04755"), Some(0o4755));
        assert_eq!(parse_mode("0o700"), Some(0o700));
        assert_eq!(parse_mode(""), None);
        assert_eq!(parse_mode("rwx"), None);
        assert_eq!(parse_mode("-1"), None);
    }

    /// A cheap, always-on stand-in for the fuzz target: random byte soup and random
    /// mutations of valid lines must give `Ok` or `Err`, never a panic, and every accepted
    /// destination must be normalised.
    #[test]
    fn random_input_never_panics() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: &[&[u8]] = &[
            b"file",
            b"tree",
            b"symlink",
            b"link",
            b"dir",
            b"empty",
            b"\t",
            b"\n",
            b"/",
            b"..",
            b".",
            b"a",
            b"#",
            b"0755",
            b"\xff",
            b"\xc3\xa9",
            b"\r",
            b"\0",
            b" ",
            b"//",
            b"0o7",
        ];
        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..(next() % 24) {
                input.extend_from_slice(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            if let Ok(entries) = parse_manifest_bytes(&input) {
                for entry in entries {
                    let dest = entry.entry.dest();
                    assert_eq!(normalize_dest(dest).as_deref(), Ok(dest));
                }
            }
        }
    }
}
