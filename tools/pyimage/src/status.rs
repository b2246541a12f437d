//! The version tag from Bazel's workspace status file (`pyimage-meta version-tag`).
//!
//! The file has one `KEY VALUE` pair per line: the key runs up to the first space, the
//! value is the rest of the line (a trailing carriage return is dropped). The value of
//! the key asked for must be an OCI distribution tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
//! A version given on the command line (`--define=VERSION=...`) is held to the same rule.

use std::io::Write;
use std::path::Path;

use crate::atomic::TempOutput;
use crate::error::{Error, Result};

/// The longest tag the OCI distribution spec allows.
pub const MAX_TAG: usize = 128;

/// Whether `tag` is an OCI distribution tag.
pub fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    first_ok
        && tag.len() <= MAX_TAG
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The value of `key` in the status file text `text`, or `None` when the key is absent
/// or its value empty (a status script that found no version). `path` names the file in
/// messages.
pub fn status_value<'t>(path: &Path, text: &'t str, key: &str) -> Result<Option<&'t str>> {
    let mut found: Option<(usize, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (k, value) = line.split_once(' ').unwrap_or((line, ""));
        if k != key {
            continue;
        }
        match found {
            Some((first, earlier)) if earlier != value => {
                return Err(Error::BadFile {
                    path: path.to_path_buf(),
                    message: format!(
                        "key {key} appears on line {} with {earlier:?} and on line {} with {value:?}; make the workspace status command print it once",
                        first + 1,
                        i + 1
                    ),
                });
            }
            Some(_) => {}
            None => found = Some((i, value)),
        }
    }
    let Some((line, value)) = found else {
        return Ok(None);
    };
    if value.is_empty() {
        return Ok(None);
    }
    if !is_tag(value) {
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!(
                "line {}: the value of {key}, {value:?}, is not an OCI tag: a tag is 1 to {MAX_TAG} letters, digits, `_`, `.` and `-`, not starting with `.` or `-` ([A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}); make the workspace status command print a valid tag",
                line + 1
            ),
        });
    }
    Ok(Some(value))
}

/// What `version-tag` writes: `prefix` verbatim, then the value and a newline if the key
/// has one.
pub fn version_tag_content(prefix: &str, value: Option<&str>) -> String {
    match value {
        Some(value) => format!("{prefix}{value}\n"),
        None => prefix.to_string(),
    }
}

/// Checks a version given as `--define=NAME=VALUE` and writes the tag file `out`
/// atomically; `define` is `NAME=VALUE`.
pub fn write_defined_version_tag(define: &str, prefix: &str, out: &Path) -> Result<()> {
    let (name, value) = define.split_once('=').unwrap_or((define, ""));
    if !is_tag(value) {
        return Err(Error::LayerSpec(format!(
            "--define={name}={value}: {value:?} is not an OCI tag: a tag is 1 to {MAX_TAG} letters, digits, `_`, `.` and `-`, not starting with `.` or `-`; pass e.g. --define={name}=v1.2.3"
        )));
    }
    write_tags(out, &version_tag_content(prefix, Some(value)))
}

fn write_tags(out: &Path, content: &str) -> Result<()> {
    let (output, mut file) = TempOutput::create(out)?;
    file.write_all(content.as_bytes())
        .map_err(|e| Error::io(format!("writing {}", out.display()), e))?;
    output.commit()
}

/// Reads `status`, looks `key` up and writes the tag file `out` atomically.
pub fn write_version_tag(status: &Path, key: &str, prefix: &str, out: &Path) -> Result<()> {
    if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::LayerSpec(format!(
            "--key {key:?} cannot be a workspace status key; give a key without spaces, such as STABLE_VERSION"
        )));
    }
    let bytes = std::fs::read(status).map_err(|e| {
        Error::io(
            format!(
                "cannot read workspace status file {}; check the path",
                status.display()
            ),
            e,
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|_| Error::BadFile {
        path: status.to_path_buf(),
        message: "is not UTF-8 text; make the workspace status command print UTF-8".to_string(),
    })?;
    let value = status_value(status, &text, key)?;
    write_tags(out, &version_tag_content(prefix, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        for ok in ["v1.2.3", "latest", "_x", "A", "1.0-rc_1", &"a".repeat(128)] {
            assert!(is_tag(ok), "{ok}");
        }
        for bad in [
            "",
            ".v1",
            "-v1",
            "v 1",
            "v1+build",
            "v1/2",
            "é",
            &"a".repeat(129),
        ] {
            assert!(!is_tag(bad), "{bad}");
        }
    }

    #[test]
    fn values() {
        let p = Path::new("status.txt");
        let text = "STABLE_VERSION_SUFFIX x\nSTABLE_VERSION v1.2\r\nEMPTY\nBLANK \n";
        assert_eq!(
            status_value(p, text, "STABLE_VERSION").unwrap(),
            Some("v1.2")
        );
        assert_eq!(
            status_value(p, text, "STABLE_VERSION_SUFFIX").unwrap(),
            Some("x")
        );
        assert_eq!(status_value(p, text, "STABLE").unwrap(), None);
        assert_eq!(status_value(p, text, "EMPTY").unwrap(), None);
        assert_eq!(status_value(p, text, "BLANK").unwrap(), None);
        let twice = "K a\nK a\n";
        assert_eq!(status_value(p, twice, "K").unwrap(), Some("a"));
        let clash = status_value(p, "K a\nK b\n", "K").unwrap_err().to_string();
        assert!(
            clash.contains("line 1") && clash.contains("line 2"),
            "{clash}"
        );
        assert_eq!(version_tag_content("latest\n", Some("v1")), "latest\nv1\n");
        assert_eq!(version_tag_content("latest\n", None), "latest\n");
        assert_eq!(version_tag_content("", None), "");
    }
}
