//! [`TempFile`]: an output written beside its target and renamed into place.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary file in the target's directory with a name no other writer
/// uses (process id and a counter, created with `create_new`), renamed onto
/// the target by [`commit`](TempFile::commit). Dropped without a commit (an
/// error, a panic, a cancelled task), it is removed: no `.tmp` file is left
/// behind, and two writers of the same target never share one.
///
/// The runner's [`write_output`](crate::write_output) writes through one,
/// and so do the `msgs` CLI's `-o` outputs.
///
/// ```
/// use std::io::Write;
///
/// let dir = std::env::temp_dir().join(format!("tempfile-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let target = dir.join("out.jsonl");
/// let mut tmp = messages_batch::TempFile::create(&target).unwrap();
/// tmp.file().write_all(b"{}\n").unwrap();
/// assert!(!target.exists()); // nothing visible before the commit
/// tmp.commit().unwrap();
/// assert_eq!(std::fs::read(&target).unwrap(), b"{}\n");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    target: PathBuf,
    file: File,
}

impl TempFile {
    /// Creates the temporary file for `target`.
    ///
    /// # Errors
    ///
    /// The target has no file name, or the file cannot be created in its
    /// directory.
    pub fn create(target: &Path) -> io::Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the output path has no file name",
            )
        })?;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp = name.to_owned();
            tmp.push(format!(".{}-{n}.tmp", std::process::id()));
            let path = dir.join(tmp);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        target: target.to_owned(),
                        file,
                    });
                }
                // Left by a killed run with the same pid: try the next name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The temporary file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file, to write to.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// A second handle to the open file, for a writer that must own one.
    ///
    /// # Errors
    ///
    /// The handle cannot be duplicated.
    pub fn try_clone_file(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// Flushes the file to disk and renames it onto the target, atomically:
    /// readers see the old target or the whole new one.
    ///
    /// # Errors
    ///
    /// Syncing or renaming failed; the temporary file is then removed.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.sync_all()?;
        std::fs::rename(&self.path, &self.target)?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
