//! `cargo xtask browser`: the relay against real clients and a real browser.
//!
//! Installs Debian's Chromium with apt when `/usr/bin/chromium` is missing,
//! installs the pinned npm packages of `crates/messages-relay/js/package.json`
//! (the AI SDK `ai` and `playwright-core`, from its lockfile) under
//! `target/relay-js/`, builds `msgs`, and runs the Node checks in
//! `crates/messages-relay/js/` with node's test runner. The demo page's
//! screenshot is written to `target/relay-demo.png`.

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
    if !work.join("node_modules/ai").exists() || !work.join("node_modules/playwright-core").exists()
    {
        run(&work, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    }
    cargo(&["build", "-p", "messages-cli", "--bin", "msgs"])?;
    let msgs = target
        .join("debug")
        .join(format!("msgs{}", std::env::consts::EXE_SUFFIX));
    let script = js.join("relay.test.mjs");
    run(
        &root,
        "node",
        &["--test", path_str(&script)?],
        &[
            ("MSGS_BIN", path_str(&msgs)?),
            ("RELAY_JS_MODULES", path_str(&work)?),
            ("RELAY_ARTIFACTS", path_str(&target)?),
        ],
    )
}
