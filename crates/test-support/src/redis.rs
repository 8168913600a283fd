//! A `redis-server` for one test: its own free loopback port and temporary
//! directory, killed (and waited for) on drop.
//!
//! The binary must be on `PATH`; `cargo xtask ci` installs it with apt when
//! it is missing. Persistence is off unless [`Redis::start_aof`] asks for an
//! append-only file with `appendfsync always`, which is what a test of "no
//! acknowledged write is lost across a crash" needs.

use std::fmt;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::TempDir;

/// A running `redis-server`; see the [module docs](self).
pub struct Redis {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
    aof: bool,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("port", &self.port)
            .field("dir", &self.dir.0)
            .field("aof", &self.aof)
            .finish()
    }
}

impl Redis {
    /// A server without persistence.
    ///
    /// # Panics
    ///
    /// If `redis-server` cannot be started or does not accept connections
    /// within 4 seconds.
    pub fn start() -> Redis {
        Redis::spawn_new(false)
    }

    /// A server with an append-only file, synced on every write.
    ///
    /// # Panics
    ///
    /// As [`start`](Redis::start).
    pub fn start_aof() -> Redis {
        Redis::spawn_new(true)
    }

    fn spawn_new(aof: bool) -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = TempDir::new(&format!("test-support-redis-{port}"));
        let mut redis = Redis {
            child: None,
            port,
            dir,
            aof,
        };
        redis.spawn();
        redis
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", if self.aof { "yes" } else { "no" }])
            .args(["--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (cargo xtask ci installs it)");
        // Owned at once, so that it is killed on drop even if it never
        // comes up.
        self.child = Some(child);
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its working directory (where an append-only file goes).
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// SIGKILLs the server (no shutdown save), then starts it again on the
    /// same port and directory.
    ///
    /// # Panics
    ///
    /// As [`start`](Redis::start).
    pub fn crash_and_restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        // The server first, then its directory (the field, dropped after).
        self.kill();
    }
}
