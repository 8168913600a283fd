//! Request fingerprints: which request produced a checkpoint line.
//!
//! A fingerprint is the 64-bit FNV-1a hash of the request params written as
//! canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace,
//! strings and numbers as `serde_json` writes them. It detects edits (a
//! changed prompt, `max_tokens`, model...) between two runs of a job; it is
//! not a cryptographic hash and does not defend against a forged
//! checkpoint.
//!
//! In a checkpoint line it is the last field, `"request_fingerprint":
//! "fnv1a64:<16 hex digits>"`, so it is found by looking at the end of the
//! line, without parsing the result again.

use std::io::Write;

use messages_types::MessageRequest;
use serde_json::Value;

/// The name of the field, with the algorithm prefix of its value.
const FIELD: &[u8] = b",\"request_fingerprint\":\"";
const ALGO: &str = "fnv1a64:";

/// A request's fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint(pub(crate) u64);

impl Fingerprint {
    /// The fingerprint of `params`. Costs one serialization of the params.
    pub(crate) fn of(params: &MessageRequest) -> Fingerprint {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        match serde_json::to_value(params) {
            Ok(v) => write_canonical(&mut h, &v),
            // Params that do not serialize cannot be sent either; they get
            // the fingerprint of their debug text, which stays stable.
            Err(_) => h.bytes(format!("{params:?}").as_bytes()),
        }
        Fingerprint(h.0)
    }

    /// Appends the field to a serialized result line that ends in `}`
    /// (before the line terminator).
    pub(crate) fn append_to(self, line: &mut Vec<u8>) {
        debug_assert_eq!(line.last(), Some(&b'}'));
        line.pop();
        line.extend_from_slice(FIELD);
        let _ = write!(line, "{ALGO}{:016x}\"}}", self.0);
    }
}

/// What the end of a checkpoint line says about the request behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// Format 1: no fingerprint; the request cannot be checked.
    Missing,
    /// A fingerprint this version does not know (a newer format).
    Unknown,
    /// Format 2.
    Fnv(Fingerprint),
}

/// Reads the fingerprint at the end of a line (without its terminator), and
/// the length of the line without the field (the result line as the API
/// writes it).
pub(crate) fn read_stamp(line: &[u8]) -> (Stamp, usize) {
    // The field, its value and the closing brace: at most ~64 bytes.
    let tail_start = line.len().saturating_sub(96);
    let tail = &line[tail_start..];
    let Some(at) = memchr::memmem::rfind(tail, FIELD) else {
        return (Stamp::Missing, line.len());
    };
    let start = tail_start + at;
    let value = &line[start + FIELD.len()..];
    let stamp = value
        .strip_suffix(b"\"}")
        .and_then(|v| v.strip_prefix(ALGO.as_bytes()))
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .filter(|hex| hex.len() == 16)
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .map_or(Stamp::Unknown, |v| Stamp::Fnv(Fingerprint(v)));
    (stamp, start)
}

struct Fnv(u64);

impl Fnv {
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_canonical(h: &mut Fnv, v: &Value) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            h.bytes(b"{");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    h.bytes(b",");
                }
                let _ = serde_json::to_writer(&mut *h, k);
                h.bytes(b":");
                write_canonical(h, &map[k]);
            }
            h.bytes(b"}");
        }
        Value::Array(items) => {
            h.bytes(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    h.bytes(b",");
                }
                write_canonical(h, item);
            }
            h.bytes(b"]");
        }
        other => {
            let _ = serde_json::to_writer(&mut *h, other);
        }
    }
}
