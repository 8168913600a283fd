//! `cargo xtask browser`: the relay against real clients and a real browser.
//!
//! Installs Debian's Chromium with apt when `/usr/bin/chromium` is missing,
//! installs the pinned npm packages of `crates/messages-relay/js/package.json`
//! (the AI SDK `ai`, `playwright-core` and the `uplot` charts of the queue
//! dashboard, from its lockfile) under `target/relay-js/`, builds `msgs`, and
//! runs the Node checks in `crates/messages-relay/js/` and
//! `crates/messages-cli/js/` (the queue dashboard, which needs
//! `redis-server`) with node's test runner. Screenshots: the demo page's in
//! `target/relay-demo.png`, the dashboard's in `target/browser/dashboard.png`.

use std::fs;
use std::path::Path;

use crate::interop::{path_str, target_dir};
use crate::{Result, cargo, project_root, run};

const CHROMIUM: &str = "/usr/bin/chromium";

pub(crate) fn browser() -> Result {
    let root = project_root();
    if !Path::new(CHROMIUM).exists() {
        run(&root, "apt-get", &["update"], &[])?;
        run(&root, "apt-get", &["install", "-y", "chromium"], &[])?;
    }
    let js = root.join("crates/messages-relay/js");
    let target = target_dir();
    let work = target.join("relay-js");
    fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    for file in ["package.json", "package-lock.json"] {
        fs::copy(js.join(file), work.join(file))
            .map_err(|e| format!("copying {file} to {}: {e}", work.display()))?;
    }
    if ["ai", "playwright-core", "uplot"]
        .iter()
        .any(|m| !work.join("node_modules").join(m).exists())
    {
        run(&work, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    }
    cargo(&["build", "-p", "messages-cli", "--bin", "msgs"])?;
    let msgs = target
        .join("debug")
        .join(format!("msgs{}", std::env::consts::EXE_SUFFIX));
    crate::redis::ensure_redis()?;
    let script = js.join("relay.test.mjs");
    let dashboard = root.join("crates/messages-cli/js/dashboard.test.mjs");
    run(
        &root,
        "node",
        &["--test", path_str(&script)?, path_str(&dashboard)?],
        &[
            ("MSGS_BIN", path_str(&msgs)?),
            ("RELAY_JS_MODULES", path_str(&work)?),
            ("RELAY_ARTIFACTS", path_str(&target)?),
        ],
    )
}
