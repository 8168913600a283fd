//! Fault injection: the `x-emulator-fault` grammar and its bookkeeping.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use crate::Error;

/// A parsed fault specification: one or more faults, as written in the
/// `x-emulator-fault` header or passed to [`EmulatorBuilder::fault`].
///
/// See the [crate docs](crate#fault-injection) for the grammar.
///
/// [`EmulatorBuilder::fault`]: crate::EmulatorBuilder::fault
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultSpec {
    pub(crate) faults: Vec<Fault>,
    pub(crate) source: String,
}

/// One fault with its `times` limit and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) kind: FaultKind,
    /// Only the first `times` identical requests see this fault (or the
    /// first `times` matching requests overall, with `scope=all`).
    pub(crate) times: Option<u32>,
    /// The first `skip` requests that would see it do not.
    pub(crate) skip: u32,
    /// Count requests overall (`scope=all`), not per identical request.
    pub(crate) overall: bool,
    /// Only requests with this method (`method=POST`).
    pub(crate) method: Option<String>,
    /// Only requests to this exact path (`path=/v1/messages/batches`).
    pub(crate) path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FaultKind {
    Status {
        code: u16,
        error_type: Option<String>,
        retry_after: Option<String>,
        retry_after_ms: Option<u64>,
        should_retry: Option<bool>,
    },
    DisconnectAfter(u64),
    ErrorAfter {
        after: u64,
        error_type: String,
    },
    StallAfter(u64),
    MalformedAfter(u64),
    TruncateResults(u64),
    BatchExpiryMs(u64),
    MalformedResults(u64),
    /// The reply is a refusal with `stop_details` of this category.
    Refusal(String),
    /// A `fallback` block to this model comes first.
    Fallback(String),
    /// A `compaction` block of this many words comes first.
    Compaction(u64),
    /// The first text block is this many words long.
    Text(u64),
    /// Nothing is answered for this many milliseconds.
    Hang(u64),
}

impl FaultSpec {
    /// Parses a specification such as `status=429,retry-after=1,times=2; disconnect-after=5`.
    ///
    /// `none` (or an empty string) is the empty specification: it turns off
    /// server-wide faults for one request.
    ///
    /// # Errors
    ///
    /// Returns an error naming the offending fault or parameter.
    pub fn parse(spec: &str) -> Result<FaultSpec, Error> {
        let trimmed = spec.trim();
        let mut faults = Vec::new();
        if !(trimmed.is_empty() || trimmed.eq_ignore_ascii_case("none")) {
            for part in trimmed.split(';') {
                let part = part.trim();
                if part.is_empty() {
                    continue;
                }
                faults.push(parse_fault(part)?);
            }
        }
        Ok(FaultSpec {
            faults,
            source: trimmed.to_owned(),
        })
    }

    /// Whether the specification holds no fault.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }
}

impl FromStr for FaultSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<FaultSpec, Error> {
        FaultSpec::parse(s)
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn parse_fault(part: &str) -> Result<Fault, Error> {
    let mut params = Vec::new();
    for kv in part.split(',') {
        let kv = kv.trim();
        let Some((k, v)) = kv.split_once('=') else {
            return Err(Error::fault(format!(
                "`{kv}` in `{part}` is not `key=value`"
            )));
        };
        params.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let (name, value) = params[0].clone();
    let num = |key: &str, v: &str| -> Result<u64, Error> {
        v.parse::<u64>().map_err(|_| {
            Error::fault(format!(
                "`{key}={v}` in `{part}`: expected a non-negative integer"
            ))
        })
    };
    let mut times = None;
    let mut skip = 0;
    let mut overall = false;
    let mut method = None;
    let mut path = None;
    let mut error_type = None;
    let mut retry_after = None;
    let mut retry_after_ms = None;
    let mut should_retry = None;
    for (k, v) in &params[1..] {
        match k.as_str() {
            "times" => {
                let n = num(k, v)?;
                times = Some(u32::try_from(n).unwrap_or(u32::MAX));
            }
            "skip" => skip = u32::try_from(num(k, v)?).unwrap_or(u32::MAX),
            "scope" => {
                overall = match v.as_str() {
                    "all" => true,
                    "request" => false,
                    _ => {
                        return Err(Error::fault(format!(
                            "`scope={v}` in `{part}`: expected all or request"
                        )));
                    }
                };
            }
            "method" => method = Some(v.to_ascii_uppercase()),
            "path" => path = Some(v.clone()),
            "type" if matches!(name.as_str(), "status" | "error-after") => {
                error_type = Some(v.clone());
            }
            "retry-after" if name == "status" => retry_after = Some(v.clone()),
            "retry-after-ms" if name == "status" => retry_after_ms = Some(num(k, v)?),
            "should-retry" if name == "status" => {
                should_retry = Some(match v.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(Error::fault(format!(
                            "`should-retry={v}` in `{part}`: expected true or false"
                        )));
                    }
                });
            }
            _ => {
                return Err(Error::fault(format!(
                    "unknown parameter `{k}` for fault `{name}` in `{part}`"
                )));
            }
        }
    }
    let kind = match name.as_str() {
        "status" => {
            let code = num(&name, &value)?;
            if !(100..=999).contains(&code) {
                return Err(Error::fault(format!(
                    "`status={value}` in `{part}`: expected an HTTP status code"
                )));
            }
            FaultKind::Status {
                code: code as u16,
                error_type,
                retry_after,
                retry_after_ms,
                should_retry,
            }
        }
        "disconnect-after" => FaultKind::DisconnectAfter(num(&name, &value)?),
        "error-after" => FaultKind::ErrorAfter {
            after: num(&name, &value)?,
            error_type: error_type.unwrap_or_else(|| "overloaded_error".to_owned()),
        },
        "stall-after" => FaultKind::StallAfter(num(&name, &value)?),
        "malformed-after" => FaultKind::MalformedAfter(num(&name, &value)?),
        "truncate-results" => FaultKind::TruncateResults(num(&name, &value)?),
        "batch-expiry-ms" => FaultKind::BatchExpiryMs(num(&name, &value)?),
        "malformed-results" => FaultKind::MalformedResults(num(&name, &value)?),
        "refusal" | "fallback" if value.is_empty() => {
            return Err(Error::fault(format!(
                "`{name}=` in `{part}`: expected a value"
            )));
        }
        "refusal" => FaultKind::Refusal(value.clone()),
        "fallback" => FaultKind::Fallback(value.clone()),
        "compaction" => FaultKind::Compaction(num(&name, &value)?.clamp(1, 10_000)),
        "hang" => FaultKind::Hang(num(&name, &value)?),
        "text" => FaultKind::Text(num(&name, &value)?.clamp(1, 100_000)),
        other => {
            return Err(Error::fault(format!(
                "unknown fault `{other}` in `{part}`; expected one of status, disconnect-after, \
                 error-after, stall-after, malformed-after, truncate-results, malformed-results, \
                 batch-expiry-ms, refusal, fallback, compaction, hang, text"
            )));
        }
    };
    Ok(Fault {
        kind,
        times,
        skip,
        overall,
        method,
        path,
    })
}

/// The faults that apply to one request, after `times` bookkeeping.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveFaults {
    pub(crate) status: Option<FaultKind>,
    pub(crate) disconnect_after: Option<u64>,
    pub(crate) error_after: Option<(u64, String)>,
    pub(crate) stall_after: Option<u64>,
    pub(crate) malformed_after: Option<u64>,
    pub(crate) truncate_results: Option<u64>,
    pub(crate) batch_expiry_ms: Option<u64>,
    pub(crate) malformed_results: Option<u64>,
    pub(crate) refusal: Option<String>,
    pub(crate) fallback: Option<String>,
    pub(crate) compaction: Option<u64>,
    pub(crate) text: Option<u64>,
    pub(crate) hang_ms: Option<u64>,
}

impl ActiveFaults {
    /// Whether any stream fault is active (the stream must be written event by event).
    pub(crate) fn any_stream_fault(&self) -> bool {
        self.disconnect_after.is_some()
            || self.error_after.is_some()
            || self.stall_after.is_some()
            || self.malformed_after.is_some()
    }
}

/// Counts how often each (request, fault) pair has fired, for `times=N`.
#[derive(Debug, Default)]
pub(crate) struct FaultCounter {
    fired: Mutex<HashMap<u64, u32>>,
}

impl FaultCounter {
    /// Resolves `spec` for one request: `request_key` identifies identical
    /// requests; `method` and `path` are matched by the `method=` and
    /// `path=` filters.
    pub(crate) fn activate(
        &self,
        spec: &FaultSpec,
        request_key: u64,
        method: &str,
        path: &str,
    ) -> ActiveFaults {
        let mut active = ActiveFaults::default();
        // The spec itself, for faults counted overall.
        let spec_key = {
            let mut h = crate::util::Fnv::new();
            h.write(spec.source.as_bytes());
            h.finish()
        };
        // A status fault answers the request by itself: when one fires, the
        // other faults are neither applied nor counted.
        for pass_status in [true, false] {
            for (i, fault) in spec.faults.iter().enumerate() {
                let is_status = matches!(fault.kind, FaultKind::Status { .. });
                if is_status != pass_status || (is_status && active.status.is_some()) {
                    continue;
                }
                if fault.method.as_deref().is_some_and(|m| m != method)
                    || fault.path.as_deref().is_some_and(|p| p != path)
                {
                    continue;
                }
                if fault.times.is_some() || fault.skip > 0 {
                    let key = if fault.overall { spec_key } else { request_key };
                    if !self.take(key, i, fault.skip, fault.times) {
                        continue;
                    }
                }
                match &fault.kind {
                    FaultKind::Status { .. } => active.status = Some(fault.kind.clone()),
                    FaultKind::DisconnectAfter(n) => active.disconnect_after = Some(*n),
                    FaultKind::ErrorAfter { after, error_type } => {
                        active.error_after = Some((*after, error_type.clone()));
                    }
                    FaultKind::StallAfter(n) => active.stall_after = Some(*n),
                    FaultKind::MalformedAfter(n) => active.malformed_after = Some(*n),
                    FaultKind::TruncateResults(n) => active.truncate_results = Some(*n),
                    FaultKind::BatchExpiryMs(n) => active.batch_expiry_ms = Some(*n),
                    FaultKind::MalformedResults(n) => active.malformed_results = Some(*n),
                    FaultKind::Refusal(c) => active.refusal = Some(c.clone()),
                    FaultKind::Fallback(m) => active.fallback = Some(m.clone()),
                    FaultKind::Compaction(n) => active.compaction = Some(*n),
                    FaultKind::Text(n) => active.text = Some(*n),
                    FaultKind::Hang(ms) => active.hang_ms = Some(*ms),
                }
            }
            if active.status.is_some() {
                break;
            }
        }
        active
    }

    /// Counts one request that fault `index` may fire on: whether it fires
    /// (after `skip` requests, for `times` of them).
    fn take(&self, key: u64, index: usize, skip: u32, times: Option<u32>) -> bool {
        let key = key ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut fired = crate::util::lock(&self.fired);
        let count = fired.entry(key).or_insert(0);
        let n = *count;
        let end = times.map_or(u32::MAX, |t| skip.saturating_add(t));
        if n >= end {
            return false;
        }
        *count += 1;
        n >= skip
    }
}
