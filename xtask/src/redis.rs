//! `redis-server` (the queue's tests) and `strace` (the CLI's write count):
//! installed with apt when missing.

use std::process::Command;

use crate::{Result, project_root, run};

/// Makes sure the Debian tools the tests use are on PATH, installing the
/// missing ones with apt (`apt-get update` once, then `apt-get install -y`):
/// `redis-server` for the queue's tests (which start their own servers on
/// loopback; nothing is started here) and `strace` for the CLI's count of
/// write calls.
pub(crate) fn ensure_redis() -> Result {
    let missing: Vec<&str> = [("redis-server", "--version"), ("strace", "-V")]
        .into_iter()
        .filter(|(tool, flag)| {
            !Command::new(tool)
                .arg(flag)
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|(tool, _)| tool)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("{} missing: installing with apt-get", missing.join(" and "));
    let root = project_root();
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    run(&root, "apt-get", &["update"], &env)?;
    let mut args = vec!["install", "-y"];
    args.extend(&missing);
    run(&root, "apt-get", &args, &env)?;
    // redis-server's package starts a system service on some systems; the
    // tests do not use it, and it is left as the package set it up.
    Ok(())
}
