//! Outputs that appear only when complete: each is written to a temporary file in the
//! target's directory and renamed over the target on commit; dropped uncommitted, the
//! temporary file is removed.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A temporary file that becomes `target` on [`TempOutput::commit`].
#[derive(Debug)]
pub struct TempOutput {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempOutput {
    /// Creates the temporary file next to `target`.
    pub fn create(target: &Path) -> Result<(TempOutput, File)> {
        let name = target.file_name().ok_or_else(|| {
            Error::LayerSpec(format!("output path {} has no file name", target.display()))
        })?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = dir.join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .map_err(|e| {
                Error::io(
                    format!(
                        "cannot create {}; check that the directory exists and is writable",
                        temp.display()
                    ),
                    e,
                )
            })?;
        Ok((
            TempOutput {
                temp,
                target: target.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the temporary file over the target.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.temp, &self.target).map_err(|e| {
            Error::io(
                format!(
                    "cannot rename {} to {}",
                    self.temp.display(),
                    self.target.display()
                ),
                e,
            )
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = std::env::temp_dir().join(format!("pyimage-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.bin");
        let (temp, mut file) = TempOutput::create(&target).unwrap();
        file.write_all(b"x").unwrap();
        assert!(!target.exists());
        temp.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"x");

        let other = dir.join("never.bin");
        let (temp, _file) = TempOutput::create(&other).unwrap();
        drop(temp);
        assert!(!other.exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
