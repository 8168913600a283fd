//! Header merging: the configured headers, the per-call ones and the
//! comma-joined `anthropic-beta`.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::Transport;
use crate::Request;
use crate::error::{Error, Result};

static ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
static ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");
static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

impl Transport {
    pub(super) fn headers(&self, req: &Request) -> Result<HeaderMap> {
        let cfg = &self.inner.config;
        let mut h = cfg.default_headers.clone();
        let mut betas: Vec<String> = Vec::new();
        let mut add_betas = |v: &HeaderValue| -> Result<()> {
            let s = v
                .to_str()
                .map_err(|_| Error::builder_msg("anthropic-beta header is not ASCII"))?;
            for b in s.split(',').map(str::trim).filter(|b| !b.is_empty()) {
                if !betas.iter().any(|x| x == b) {
                    betas.push(b.to_owned());
                }
            }
            Ok(())
        };
        for v in h.get_all(&ANTHROPIC_BETA) {
            add_betas(v)?;
        }
        for b in &cfg.betas {
            add_betas(&HeaderValue::from_str(b).map_err(Error::builder)?)?;
        }
        let per_call = [&req.headers, &req.options.headers];
        for v in per_call.iter().flat_map(|m| m.get_all(&ANTHROPIC_BETA)) {
            add_betas(v)?;
        }
        for b in &req.options.betas {
            add_betas(&HeaderValue::from_str(b).map_err(Error::builder)?)?;
        }
        h.remove(&ANTHROPIC_BETA);

        h.insert(header::USER_AGENT, cfg.user_agent.clone());
        h.insert(ANTHROPIC_VERSION.clone(), cfg.version.clone());
        if let Some(key) = &cfg.api_key {
            h.insert(X_API_KEY.clone(), sensitive(&key.0, "API key")?);
        }
        if let Some(token) = &cfg.auth_token {
            h.insert(
                header::AUTHORIZATION,
                sensitive(&format!("Bearer {}", token.0), "auth token")?,
            );
        }
        if !req.body.is_empty() && !h.contains_key(header::CONTENT_TYPE) {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        if !req.options.streaming && !h.contains_key(header::ACCEPT) {
            h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        }
        for name in per_call.iter().flat_map(|m| m.keys()) {
            h.remove(name);
        }
        for (name, value) in per_call.iter().flat_map(|m| m.iter()) {
            if name != ANTHROPIC_BETA {
                h.append(name.clone(), value.clone());
            }
        }
        if !betas.is_empty() {
            let joined = HeaderValue::from_str(&betas.join(",")).map_err(Error::builder)?;
            h.insert(ANTHROPIC_BETA.clone(), joined);
        }
        Ok(h)
    }
}

pub(super) fn sensitive(s: &str, what: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(s).map_err(|_| {
        Error::builder_msg(format!(
            "the {what} contains characters not allowed in a header"
        ))
    })?;
    v.set_sensitive(true);
    Ok(v)
}
