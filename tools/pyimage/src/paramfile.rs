//! `@paramfile` expansion, done before flag parsing: an argument `@PATH` is replaced by
//! the lines of PATH, one argument per line (Bazel's "multiline" parameter file format).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Expands every `@PATH` argument after the program name. Not recursive.
pub fn expand_paramfiles(args: impl IntoIterator<Item = OsString>) -> Result<Vec<OsString>> {
    Ok(expand_paramfiles_listing(args)?.0)
}

/// As [`expand_paramfiles`], also returning the parameter files read, in order.
pub fn expand_paramfiles_listing(
    args: impl IntoIterator<Item = OsString>,
) -> Result<(Vec<OsString>, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    for (i, arg) in args.into_iter().enumerate() {
        let path = arg.to_str().and_then(|s| s.strip_prefix('@'));
        match path {
            Some(path) if i > 0 && !path.is_empty() => {
                let path = PathBuf::from(path);
                let bytes = std::fs::read(&path).map_err(|source| Error::ParamFile {
                    path: path.clone(),
                    source,
                })?;
                out.extend(parse_paramfile(&path, &bytes)?);
                files.push(path);
            }
            _ => out.push(arg),
        }
    }
    Ok((out, files))
}

/// The arguments in a parameter file's bytes: one per line, the last line's newline
/// optional. Refuses non-UTF-8 text and CRLF line endings (naming `path`).
pub fn parse_paramfile(path: &Path, bytes: &[u8]) -> Result<Vec<OsString>> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::ParamFile {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    if let Some(line) = crate::manifest::crlf_line(bytes) {
        return Err(Error::CrlfLineEndings {
            what: "parameter file",
            path: path.to_path_buf(),
            line,
        });
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(text.split('\n').map(OsString::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_lines_in_place() {
        let dir = std::env::temp_dir().join(format!("pyimage-params-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("args");
        std::fs::write(&file, "--manifest\nm a.txt\n\n--allow-setuid\n").unwrap();
        let args = vec![
            OsString::from("@prog"),
            OsString::from("--first"),
            OsString::from(format!("@{}", file.display())),
            OsString::from("last"),
        ];
        let expanded = expand_paramfiles(args).unwrap();
        assert_eq!(
            expanded,
            [
                "@prog",
                "--first",
                "--manifest",
                "m a.txt",
                "",
                "--allow-setuid",
                "last"
            ]
        );
        let missing =
            expand_paramfiles(vec![OsString::from("p"), OsString::from("@/nonexistent/x")]);
        assert!(missing.unwrap_err().to_string().contains("/nonexistent/x"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
