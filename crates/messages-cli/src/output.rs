//! Output files and write errors: [`TempFile`] and [`EXIT_WRITE`].

use std::io;
use std::path::Path;

use crate::error::CliError;

/// Exit code: the output could not be written (disk full, closed pipe, a
/// failed rename). `EX_IOERR` of sysexits.h.
pub(crate) const EXIT_WRITE: u8 = 74;

/// A write error: `writing {what}: {e}`, exit code [`EXIT_WRITE`].
pub(crate) fn write_error(what: impl std::fmt::Display, e: io::Error) -> CliError {
    CliError::new(EXIT_WRITE, format!("writing {what}: {e}"))
}

/// Outputs are written through the batch crate's [`TempFile`]: a unique
/// name beside the target, renamed into place on success, removed on every
/// failure path.
pub(crate) use messages::batch::TempFile;

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
