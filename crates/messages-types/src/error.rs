//! The API's error envelope.
//!
//! Every error the API returns, as an HTTP body or as a mid-stream `error`
//! event, has this shape:
//!
//! ```json
//! {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011"}
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The whole error body: `{"type":"error","error":{..},"request_id":..}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "error")]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The error itself.
    pub error: ApiError,
    /// The request id, when the API included one in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorResponse {
    /// An error body with no request id.
    pub fn new(error: ApiError) -> ErrorResponse {
        ErrorResponse {
            error,
            request_id: None,
        }
    }

    /// The same body with this request id.
    pub fn with_request_id(mut self, request_id: Option<String>) -> ErrorResponse {
        self.request_id = request_id;
        self
    }
}

/// The `error` object inside an [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// The kind of error.
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// A human-readable message.
    #[serde(default)]
    pub message: String,
}

impl ApiError {
    /// An error of this kind with this message.
    pub fn new(kind: ErrorType, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

/// The kind of an API error. New kinds are kept in [`ErrorType::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorType {
    /// `invalid_request_error` (HTTP 400).
    InvalidRequest,
    /// `authentication_error` (HTTP 401).
    Authentication,
    /// `billing_error`.
    Billing,
    /// `permission_error` (HTTP 403).
    Permission,
    /// `not_found_error` (HTTP 404).
    NotFound,
    /// `request_too_large` (HTTP 413).
    RequestTooLarge,
    /// `rate_limit_error` (HTTP 429).
    RateLimit,
    /// `timeout_error`.
    Timeout,
    /// `api_error` (HTTP 500).
    Api,
    /// `overloaded_error` (HTTP 529).
    Overloaded,
    /// A kind this version does not know, kept verbatim.
    Unknown(String),
}

impl ErrorType {
    /// Whether the same request, sent again unchanged, may succeed: the
    /// API was busy or failed (`rate_limit_error`, `overloaded_error`,
    /// `api_error`, `timeout_error`), as opposed to a fault of the request
    /// or the account.
    ///
    /// ```
    /// use messages_types::ErrorType;
    ///
    /// assert!(ErrorType::Overloaded.is_retryable());
    /// assert!(!ErrorType::InvalidRequest.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorType::RateLimit | ErrorType::Overloaded | ErrorType::Api | ErrorType::Timeout
        )
    }

    /// The wire name, such as `"overloaded_error"`.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorType::InvalidRequest => "invalid_request_error",
            ErrorType::Authentication => "authentication_error",
            ErrorType::Billing => "billing_error",
            ErrorType::Permission => "permission_error",
            ErrorType::NotFound => "not_found_error",
            ErrorType::RequestTooLarge => "request_too_large",
            ErrorType::RateLimit => "rate_limit_error",
            ErrorType::Timeout => "timeout_error",
            ErrorType::Api => "api_error",
            ErrorType::Overloaded => "overloaded_error",
            ErrorType::Unknown(s) => s,
        }
    }

    /// Parses a wire name; unknown names become [`ErrorType::Unknown`].
    pub fn from_wire(s: &str) -> ErrorType {
        match s {
            "invalid_request_error" => ErrorType::InvalidRequest,
            "authentication_error" => ErrorType::Authentication,
            "billing_error" => ErrorType::Billing,
            "permission_error" => ErrorType::Permission,
            "not_found_error" => ErrorType::NotFound,
            "request_too_large" => ErrorType::RequestTooLarge,
            "rate_limit_error" => ErrorType::RateLimit,
            "timeout_error" => ErrorType::Timeout,
            "api_error" => ErrorType::Api,
            "overloaded_error" => ErrorType::Overloaded,
            other => ErrorType::Unknown(other.to_owned()),
        }
    }

    /// The error kind the API uses for an HTTP status, for bodies that are
    /// not JSON (a proxy's HTML page, for example).
    pub fn from_status(status: u16) -> ErrorType {
        match status {
            400 | 422 => ErrorType::InvalidRequest,
            401 => ErrorType::Authentication,
            402 => ErrorType::Billing,
            403 => ErrorType::Permission,
            404 => ErrorType::NotFound,
            408 | 504 => ErrorType::Timeout,
            413 => ErrorType::RequestTooLarge,
            429 => ErrorType::RateLimit,
            529 => ErrorType::Overloaded,
            _ => ErrorType::Api,
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(ErrorType::from_wire(&s))
    }
}
