//! API versions (`anthropic-version`) and what each one rejects.
//!
//! # Sources
//!
//! - The versioning page of the API reference
//!   (<https://platform.claude.com/docs/en/api/versioning>) defines the
//!   header and the rule that a version only adds optional inputs, output
//!   values and enum variants; breaking changes come with a new date. The
//!   copies of that page this crate's authors could read list versions up to
//!   `2023-06-01` only.
//! - The `2026-10-21` rules below come from write-ups that quote the
//!   official migration guide and release notes of 2026-10-21 (developersdigest.tech
//!   "Claude API 2026-10-21: Breaking Changes and SDK Migration", apidog.com
//!   "Claude API version 2026-10-21", codersera.com "Every Breaking Change
//!   and How to Upgrade the SDKs") and from a write-up that measured them
//!   against the API with Sonnet 4.6 (qiita.com, Synthorai, "temperature は 1.0
//!   でも 400 に", which quotes the error text `temperature: Extra inputs are
//!   not permitted`). The primary migration guide exists
//!   (<https://platform.claude.com/docs/en/api/migration-2026-10-21>; the
//!   copies this crate's authors could read are its French and Spanish
//!   translations, `/docs/fr/...` and `/docs/es/...`, 2026-11-30), but only
//!   its opening was readable: the upgrade steps (set `anthropic-version:
//!   2026-10-21`, or the first SDK majors that send it), not its list of
//!   changes. The rules are encoded because these independent sources agree
//!   on them, and they are kept to exactly what they state.
//!
//! Under `2026-10-21`, for Messages, token counting and batch requests:
//!
//! - `temperature`, `top_p` and `top_k` are rejected, even at their default
//!   values;
//! - a `document` block in an `assistant` message is rejected;
//! - non-empty `citations` on a `text` block of a `user` message are
//!   rejected.
//!
//! The new SDK majors send the key as `Authorization: Bearer`; when both
//! `x-api-key` and a Bearer token are present the API uses `x-api-key`
//! (same sources). That is a header rule, not a body rule: it is the
//! transport's business and is not checked here.

use std::fmt;

use serde_json::Value;

use crate::content::{BlocksOrText, ContentBlock};
use crate::message::Role;
use crate::models::CountTokensRequest;
use crate::request::{InputMessage, MessageRequest};

/// An API version, the value of the `anthropic-version` header.
///
/// [`ApiVersion::LATEST`] is the newest version these types model, and the
/// default a client should send.
///
/// ```
/// use messages_types::ApiVersion;
///
/// assert_eq!(ApiVersion::LATEST.as_str(), "2026-10-21");
/// assert_eq!(ApiVersion::parse("2023-06-01"), Some(ApiVersion::V2023_06_01));
/// assert_eq!(ApiVersion::parse("2099-01-01"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `2023-06-01`: the version every client sent from 2023 to 2026.
    V2023_06_01,
    /// `2026-10-21`: removes the sampling parameters and tightens message
    /// content (see the [module docs](self)).
    V2026_10_21,
}

impl ApiVersion {
    /// The newest version these types model.
    pub const LATEST: ApiVersion = ApiVersion::V2026_10_21;

    /// Every version these types model, oldest first.
    pub const ALL: [ApiVersion; 2] = [ApiVersion::V2023_06_01, ApiVersion::V2026_10_21];

    /// The header value.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2023_06_01 => "2023-06-01",
            ApiVersion::V2026_10_21 => "2026-10-21",
        }
    }

    /// The version for a header value; `None` for a version these types do
    /// not model.
    pub fn parse(s: &str) -> Option<ApiVersion> {
        ApiVersion::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether this version accepts the sampling parameters `temperature`,
    /// `top_p` and `top_k`.
    pub fn accepts_sampling_parameters(self) -> bool {
        self < ApiVersion::V2026_10_21
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request field that the chosen API version does not accept.
///
/// [`field`](VersionError::field) is the path of the field, as the API names
/// fields in its errors (`temperature`, `messages.1.content.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionError {
    field: String,
    version: ApiVersion,
    reason: &'static str,
}

impl VersionError {
    /// The path of the rejected field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The version that rejects it.
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// Why the version rejects it.
    pub fn reason(&self) -> &str {
        self.reason
    }
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not accepted by API version {} ({})",
            self.field, self.version, self.reason
        )
    }
}

impl std::error::Error for VersionError {}

const SAMPLING: &str = "sampling parameters were removed";
const ASSISTANT_DOCUMENT: &str = "`document` blocks are not accepted in assistant messages";
const USER_CITATIONS: &str = "`citations` on a user text block must be empty";

pub(crate) fn check_request(req: &MessageRequest, version: ApiVersion) -> Result<(), VersionError> {
    let typed = [
        ("temperature", req.temperature.is_some()),
        ("top_p", req.top_p.is_some()),
        ("top_k", req.top_k.is_some()),
    ];
    check_sampling(typed, &req.extra, version)?;
    check_messages(&req.messages, version)
}

pub(crate) fn check_count_tokens(
    req: &CountTokensRequest,
    version: ApiVersion,
) -> Result<(), VersionError> {
    let none = [("temperature", false), ("top_p", false), ("top_k", false)];
    check_sampling(none, &req.extra, version)?;
    check_messages(&req.messages, version)
}

/// The sampling parameters, typed or set through `extra` (sent just the
/// same).
fn check_sampling(
    typed: [(&str, bool); 3],
    extra: &serde_json::Map<String, Value>,
    version: ApiVersion,
) -> Result<(), VersionError> {
    if !version.accepts_sampling_parameters() {
        for (name, set) in typed {
            if set || extra.contains_key(name) {
                return Err(VersionError {
                    field: name.to_owned(),
                    version,
                    reason: SAMPLING,
                });
            }
        }
    }
    Ok(())
}

fn check_messages(messages: &[InputMessage], version: ApiVersion) -> Result<(), VersionError> {
    let err = |field: String, reason| VersionError {
        field,
        version,
        reason,
    };
    if version >= ApiVersion::V2026_10_21 {
        for (i, m) in messages.iter().enumerate() {
            let BlocksOrText::Blocks(blocks) = &m.content else {
                continue;
            };
            for (j, b) in blocks.iter().enumerate() {
                match (&m.role, b) {
                    (Role::Assistant, ContentBlock::Document(_)) => {
                        return Err(err(format!("messages.{i}.content.{j}"), ASSISTANT_DOCUMENT));
                    }
                    (Role::Assistant, ContentBlock::Unknown(v))
                        if v.get("type").and_then(Value::as_str) == Some("document") =>
                    {
                        return Err(err(format!("messages.{i}.content.{j}"), ASSISTANT_DOCUMENT));
                    }
                    (Role::User, ContentBlock::Text(t))
                        if t.citations.as_ref().is_some_and(|c| !c.is_empty()) =>
                    {
                        return Err(err(
                            format!("messages.{i}.content.{j}.citations"),
                            USER_CITATIONS,
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}
