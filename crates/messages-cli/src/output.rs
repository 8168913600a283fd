//! The `-o` path: checked before the first request, `-` for stdout.

use std::path::Path;

use crate::error::CliError;

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
