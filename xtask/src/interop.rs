//! `cargo xtask interop`: the official SDKs against `messages-emulator`.
//!
//! Builds the emulator, creates a throwaway Python virtualenv and npm project
//! under `target/interop/` with the SDK versions pinned below, starts the
//! emulator binary and runs every `interop/*.py` and `interop/*.mjs` with
//! `EMULATOR_BASE_URL` set. Any failing script fails the task.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{Result, cargo, project_root, run};

/// The official Python SDK from PyPI (`pip index versions anthropic`).
/// Newest published on 2026-11-30.
pub(crate) const ANTHROPIC_PYTHON: &str = "2.14.0";
/// The official TypeScript SDK from npm (`npm view @anthropic-ai/sdk version`).
/// Newest published on 2026-11-30.
const ANTHROPIC_TYPESCRIPT: &str = "1.14.0";

/// Kills the emulator when the task ends, however it ends.
pub(crate) struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| format!("path is not UTF-8: {}", p.display()))
}

fn scripts(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    Ok(out)
}

pub(crate) fn interop() -> Result {
    let root = project_root();
    cargo(&[
        "build",
        "-p",
        "messages-emulator",
        "--bin",
        "messages-emulator",
    ])?;
    let target = target_dir();
    let bin = target
        .join("debug")
        .join(format!("messages-emulator{}", std::env::consts::EXE_SUFFIX));
    let work = target.join("interop");
    let (python, node) = install_sdks(&work)?;

    // The emulator, with light pacing so streams have many chunks.
    let (emulator, base_url) =
        start_emulator(&bin, &["--token-delay-ms", "1", "--batch-pace-ms", "1"])?;
    let env = [("EMULATOR_BASE_URL", base_url.as_str())];

    let dir = root.join("interop");
    let mut ran = 0;
    for script in scripts(&dir, "py")? {
        run(&root, path_str(&python)?, &[path_str(&script)?], &env)?;
        ran += 1;
    }
    for script in scripts(&dir, "mjs")? {
        // ES modules resolve packages from the script's own directory.
        let name = script.file_name().ok_or("script without a name")?;
        fs::copy(&script, node.join(name))
            .map_err(|e| format!("copying {}: {e}", script.display()))?;
        let name = name.to_str().ok_or("script name is not UTF-8")?;
        run(&node, "node", &[name], &env)?;
        ran += 1;
    }
    drop(emulator);
    if ran == 0 {
        return Err(format!("no interop scripts found in {}", dir.display()));
    }
    eprintln!("interop: {ran} scripts passed against {base_url}");
    Ok(())
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the root) or `target/`.
pub(crate) fn target_dir() -> PathBuf {
    let root = project_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Installs the pinned SDKs under `work`: returns the virtualenv's `python`
/// and the npm project's directory (ES modules run from there resolve the SDK).
pub(crate) fn install_sdks(work: &Path) -> Result<(PathBuf, PathBuf)> {
    fs::create_dir_all(work).map_err(|e| format!("creating {}: {e}", work.display()))?;

    // Python: a virtualenv with the pinned SDK.
    let venv = work.join("venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run(work, "python3", &["-m", "venv", path_str(&venv)?], &[])?;
    }
    let pin = format!("anthropic=={ANTHROPIC_PYTHON}");
    run(
        work,
        path_str(&python)?,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &pin,
        ],
        &[],
    )?;

    // TypeScript: an npm project with the pinned SDK.
    let node = work.join("node");
    fs::create_dir_all(&node).map_err(|e| format!("creating {}: {e}", node.display()))?;
    fs::write(
        node.join("package.json"),
        "{\"name\":\"interop\",\"private\":true,\"type\":\"module\"}\n",
    )
    .map_err(|e| format!("writing package.json: {e}"))?;
    let pkg = format!("@anthropic-ai/sdk@{ANTHROPIC_TYPESCRIPT}");
    run(
        &node,
        "npm",
        &["install", "--no-audit", "--no-fund", "--silent", &pkg],
        &[],
    )?;

    Ok((python, node))
}

/// Starts the emulator binary `bin` with `args` and returns it (killed on
/// drop) with its base URL, read from its first line on stdout.
pub(crate) fn start_emulator(bin: &Path, args: &[&str]) -> Result<(Emulator, String)> {
    eprintln!("$ {} {}", bin.display(), args.join(" "));
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout from the emulator")?;
    let emulator = Emulator(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading the emulator's address: {e}"))?;
    let base_url = line
        .trim_end()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line from the emulator: {line:?}"))?
        .to_owned();
    Ok((emulator, base_url))
}
