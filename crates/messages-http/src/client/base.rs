//! The base URL: parsed once by the builder, and the origin every request
//! path is resolved against ([`Transport::url`]).

use http::Uri;

use super::Transport;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub(super) struct Base {
    scheme: String,
    authority: String,
    // `scheme://authority/prefix` without a trailing `/`.
    pub(super) prefix: String,
}

impl Base {
    pub(super) fn parse(s: &str) -> Result<Base> {
        let uri: Uri = s
            .trim()
            .parse()
            .map_err(|e| Error::builder_msg(format!("invalid base URL {s:?}: {e}")))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_owned(),
            _ => {
                return Err(Error::builder_msg(format!(
                    "invalid base URL {s:?}: the scheme must be http or https"
                )));
            }
        };
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| Error::builder_msg(format!("invalid base URL {s:?}: no host")))?;
        if uri.query().is_some() {
            return Err(Error::builder_msg(format!(
                "invalid base URL {s:?}: it must not have a query"
            )));
        }
        let path = uri.path().trim_end_matches('/');
        Ok(Base {
            prefix: format!("{scheme}://{authority}{path}"),
            scheme,
            authority,
        })
    }
}

impl Transport {
    /// The absolute URL for `path` (which starts with `/` and may carry a
    /// query), or `path` itself if it is an absolute URL with the same origin
    /// as the base URL.
    ///
    /// # Errors
    ///
    /// [`Error::is_builder`] if `path` is neither, or is not a valid URI.
    pub fn url(&self, path: &str) -> Result<Uri> {
        let base = &self.inner.config.base;
        let full = if path.starts_with('/') {
            format!("{}{}", base.prefix, path)
        } else if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            return Err(Error::builder_msg(format!(
                "request path {path:?} must start with '/'"
            )));
        };
        let uri: Uri = full
            .parse()
            .map_err(|e| Error::builder_msg(format!("invalid request URL {full:?}: {e}")))?;
        let same_origin = uri.scheme_str() == Some(base.scheme.as_str())
            && uri.authority().map(|a| a.as_str()) == Some(base.authority.as_str());
        if !same_origin {
            return Err(Error::builder_msg(format!(
                "refusing to send credentials to {full:?}: not the base URL's origin"
            )));
        }
        Ok(uri)
    }
}
