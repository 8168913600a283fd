//! Output files and write errors: [`TempFile`] and [`EXIT_WRITE`].

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::CliError;

/// Exit code: the output could not be written (disk full, closed pipe, a
/// failed rename). `EX_IOERR` of sysexits.h.
pub(crate) const EXIT_WRITE: u8 = 74;

/// A write error: `writing {what}: {e}`, exit code [`EXIT_WRITE`].
pub(crate) fn write_error(what: impl std::fmt::Display, e: io::Error) -> CliError {
    CliError::new(EXIT_WRITE, format!("writing {what}: {e}"))
}

/// A temporary file beside an output, named for this process and write
/// (`OUT.<pid>-<n>.tmp`, created with `create_new`), so two runs sharing an
/// output path never write the same file. [`commit`](TempFile::commit)
/// syncs it and renames it onto the output, atomically; dropped without a
/// commit (any error, a panic) it is removed.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    target: PathBuf,
    file: Option<File>,
}

impl TempFile {
    /// Creates the temporary file for `target`.
    pub(crate) fn create(target: &Path) -> io::Result<TempFile> {
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
                        file: Some(file),
                    });
                }
                // Left by a killed run that had the same pid.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The temporary file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A handle to the open file (for a writer that must own one).
    pub(crate) fn try_clone_file(&self) -> io::Result<File> {
        self.file
            .as_ref()
            .ok_or_else(|| io::Error::other("already committed"))?
            .try_clone()
    }

    /// Syncs the file and renames it onto the target.
    pub(crate) fn commit(mut self) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        std::fs::rename(&self.path, &self.target)?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file = None;
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `-o` asks for stdout.
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Checks that `path` can be written, before any request is sent: not a
/// directory, its directory exists, and a file can be created there. Leaves
/// no file behind (an existing file is opened for appending, unchanged).
pub(crate) fn check(path: &Path) -> Result<(), CliError> {
    if is_stdout(path) {
        return Ok(());
    }
    let name = path.display();
    if path.is_dir() {
        return Err(CliError::input(format!(
            "-o {name}: is a directory; give a file path"
        )));
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| CliError::input(format!("-o {name}: cannot write there: {e}")))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}
