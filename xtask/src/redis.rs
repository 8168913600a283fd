//! `redis-server` for the queue's tests: installed with apt when missing.

use std::process::Command;

use crate::{Result, project_root, run};

/// Makes sure `redis-server` is on PATH, installing Debian's package
/// (`apt-get update` once, then `apt-get install -y redis-server`) when it
/// is missing. The tests start their own servers on loopback; nothing is
/// started here.
pub(crate) fn ensure_redis() -> Result {
    let have = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if have {
        return Ok(());
    }
    eprintln!("redis-server is missing: installing it with apt-get");
    let root = project_root();
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    run(&root, "apt-get", &["update"], &env)?;
    run(&root, "apt-get", &["install", "-y", "redis-server"], &env)?;
    // The package starts a system service on some systems; the tests do
    // not use it, and it is left as the package set it up.
    Ok(())
}
