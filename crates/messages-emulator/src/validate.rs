//! Request validation, with messages that name the offending field the way
//! the API does (`messages.0.role: Input should be 'user' or 'assistant'`).

use messages_types::ApiVersion;
use serde_json::{Map, Value};

use crate::models::{self, Model};
use crate::util::{hash_json, json_len};

/// An error answer: HTTP status, API error type and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) kind: String,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: u16, kind: &str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            kind: kind.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(400, "invalid_request_error", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Failure {
        Failure::new(404, "not_found_error", message)
    }
}

/// What a request is checked against besides its body: the API version of
/// its `anthropic-version` header and the date for model retirement.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) version: ApiVersion,
    pub(crate) today: String,
}

impl Rules {
    /// The rules of a request with these headers: the version of
    /// `anthropic-version` (`2023-06-01` when absent, as the emulator has
    /// always been lenient about the header).
    pub(crate) fn for_version(header: Option<&str>, today: &str) -> Result<Rules, Failure> {
        let version = match header {
            None => ApiVersion::V2023_06_01,
            Some(v) => ApiVersion::parse(v.trim()).ok_or_else(|| {
                Failure::invalid(format!(
                    "anthropic-version: unknown API version `{v}` (known: {})",
                    ApiVersion::ALL.map(ApiVersion::as_str).join(", ")
                ))
            })?,
        };
        Ok(Rules {
            version,
            today: today.to_owned(),
        })
    }
}

/// How thinking was requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Thinking {
    /// `enabled` with a budget.
    Budget(u64),
    /// `adaptive`; `omitted` when `display` is `omitted`.
    Adaptive { omitted: bool },
}

/// A client tool: a name and the JSON schema of its input.
#[derive(Debug, Clone)]
pub(crate) struct ToolDef {
    pub(crate) name: String,
    pub(crate) schema: Value,
}

/// `tool_choice`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToolChoice {
    Auto,
    Any,
    Tool(String),
    None,
}

/// What generation needs from a valid Messages request.
#[derive(Debug, Clone)]
pub(crate) struct MessageParams {
    pub(crate) model: String,
    pub(crate) max_tokens: u64,
    pub(crate) stream: bool,
    pub(crate) stop_sequences: Vec<String>,
    pub(crate) tools: Vec<ToolDef>,
    pub(crate) tool_choice: ToolChoice,
    pub(crate) thinking: Option<Thinking>,
    /// `output_config.format.schema`: the text is JSON valid for it.
    pub(crate) output_schema: Option<Value>,
    pub(crate) prompt_words: Vec<String>,
    pub(crate) after_tool_result: bool,
    pub(crate) input_tokens: u64,
    pub(crate) seed: u64,
}

fn field(path: &str, msg: &str) -> Failure {
    Failure::invalid(format!("{path}: {msg}"))
}

/// Parses a body as a JSON object, or says why not.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Failure> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Failure::invalid(format!(
            "The request body is not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(Failure::invalid(
            "The request body must be a JSON object".to_owned(),
        )),
    }
}

fn get_model<'m>(
    obj: &Map<String, Value>,
    models: &'m [Model],
    today: &str,
) -> Result<(String, &'m Model), Failure> {
    match obj.get("model") {
        None | Some(Value::Null) => Err(field("model", "Field required")),
        Some(Value::String(s)) if s.is_empty() => {
            Err(field("model", "String should have at least 1 character"))
        }
        Some(Value::String(s)) => {
            let Some(m) = models::find(models, s) else {
                return Err(Failure::not_found(format!("model: {s}")));
            };
            if let Some(on) = &m.retires_on
                && today >= on.as_str()
            {
                return Err(Failure::not_found(format!(
                    "model: {s} was retired on {on} and is no longer available"
                )));
            }
            Ok((s.clone(), m))
        }
        Some(_) => Err(field("model", "Input should be a valid string")),
    }
}

fn get_uint(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u64>, Failure> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) => Ok(Some(v)),
            None if n.as_i64().is_some() => {
                Err(field(path, "Input should be greater than or equal to 0"))
            }
            None => Err(field(path, "Input should be a valid integer")),
        },
        Some(_) => Err(field(path, "Input should be a valid integer")),
    }
}

fn check_unit_float(obj: &Map<String, Value>, key: &str, max: f64) -> Result<(), Failure> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            if v < 0.0 {
                Err(field(key, "Input should be greater than or equal to 0"))
            } else if v > max {
                Err(field(
                    key,
                    &format!("Input should be less than or equal to {max}"),
                ))
            } else {
                Ok(())
            }
        }
        Some(_) => Err(field(key, "Input should be a valid number")),
    }
}

/// Validates a Messages request (`POST /v1/messages` or a batch's `params`).
///
/// `prefix` is prepended to field paths (`requests.3.params.`), so batch
/// errors name the field inside the batch.
pub(crate) fn message_request(
    obj: &Map<String, Value>,
    models: &[Model],
    rules: &Rules,
    prefix: &str,
) -> Result<MessageParams, Failure> {
    let p = |s: &str| format!("{prefix}{s}");
    let (model, spec) = get_model(obj, models, &rules.today).map_err(|mut f| {
        if f.status == 400 {
            f.message = format!("{prefix}{}", f.message);
        }
        f
    })?;
    let max_output = spec.max_output_tokens;
    if !rules.version.accepts_sampling_parameters() {
        // The error text is the one measured against the API (see
        // messages-types' `version` module for the sources).
        for key in ["temperature", "top_p", "top_k"] {
            if obj.contains_key(key) {
                return Err(field(&p(key), "Extra inputs are not permitted"));
            }
        }
    }
    let max_tokens = match get_uint(obj, "max_tokens", &p("max_tokens"))? {
        None => return Err(field(&p("max_tokens"), "Field required")),
        Some(0) => {
            return Err(field(
                &p("max_tokens"),
                "Input should be greater than or equal to 1",
            ));
        }
        Some(n) if n > max_output => {
            return Err(field(
                &p("max_tokens"),
                &format!(
                    "{n} > {max_output}, which is the maximum allowed number of output tokens for {model}"
                ),
            ));
        }
        Some(n) => n,
    };

    let messages = match obj.get("messages") {
        None | Some(Value::Null) => return Err(field(&p("messages"), "Field required")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(field(&p("messages"), "Input should be a valid list")),
    };
    if messages.is_empty() {
        return Err(field(&p("messages"), "at least one message is required"));
    }
    let mut text_chars = 0usize;
    let mut last_user_text = String::new();
    let mut after_tool_result = false;
    for (i, m) in messages.iter().enumerate() {
        let mp = p(&format!("messages.{i}"));
        let Value::Object(m) = m else {
            return Err(field(&mp, "Input should be a valid dictionary"));
        };
        let role = match m.get("role") {
            None | Some(Value::Null) => return Err(field(&format!("{mp}.role"), "Field required")),
            Some(Value::String(r)) if r == "user" || r == "assistant" => r.as_str(),
            Some(_) => {
                return Err(field(
                    &format!("{mp}.role"),
                    "Input should be 'user' or 'assistant'",
                ));
            }
        };
        let mut text = String::new();
        let mut has_tool_result = false;
        match m.get("content") {
            None | Some(Value::Null) => {
                return Err(field(&format!("{mp}.content"), "Field required"));
            }
            Some(Value::String(s)) => text.push_str(s),
            Some(Value::Array(blocks)) => {
                for (j, b) in blocks.iter().enumerate() {
                    let bp = format!("{mp}.content.{j}");
                    let Value::Object(b) = b else {
                        return Err(field(&bp, "Input should be a valid dictionary"));
                    };
                    match b.get("type") {
                        None | Some(Value::Null) => {
                            return Err(field(&format!("{bp}.type"), "Field required"));
                        }
                        Some(Value::String(t)) => match t.as_str() {
                            "document"
                                if role == "assistant"
                                    && rules.version >= ApiVersion::V2026_10_21 =>
                            {
                                return Err(field(
                                    &bp,
                                    "document blocks are not accepted in assistant messages in API version 2026-10-21",
                                ));
                            }
                            "text"
                                if role == "user"
                                    && rules.version >= ApiVersion::V2026_10_21
                                    && b.get("citations")
                                        .and_then(Value::as_array)
                                        .is_some_and(|c| !c.is_empty()) =>
                            {
                                return Err(field(
                                    &format!("{bp}.citations"),
                                    "citations on user text blocks are not accepted in API version 2026-10-21",
                                ));
                            }
                            "text" => match b.get("text") {
                                Some(Value::String(s)) => {
                                    text.push_str(s);
                                    text.push(' ');
                                }
                                None | Some(Value::Null) => {
                                    return Err(field(&format!("{bp}.text"), "Field required"));
                                }
                                Some(_) => {
                                    return Err(field(
                                        &format!("{bp}.text"),
                                        "Input should be a valid string",
                                    ));
                                }
                            },
                            "tool_result" => {
                                has_tool_result = true;
                                if !matches!(b.get("tool_use_id"), Some(Value::String(_))) {
                                    return Err(field(
                                        &format!("{bp}.tool_use_id"),
                                        "Field required",
                                    ));
                                }
                                text_chars += b.get("content").map_or(0, |c| c.to_string().len());
                            }
                            _ => text_chars += json_len(b),
                        },
                        Some(_) => {
                            return Err(field(
                                &format!("{bp}.type"),
                                "Input should be a valid string",
                            ));
                        }
                    }
                }
            }
            Some(_) => {
                return Err(field(
                    &format!("{mp}.content"),
                    "Input should be a valid string or a list of content blocks",
                ));
            }
        }
        text_chars += text.len();
        if role == "user" {
            last_user_text = text;
            after_tool_result = has_tool_result;
        }
    }

    let mut system_text = String::new();
    match obj.get("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => system_text.push_str(s),
        Some(Value::Array(blocks)) => {
            for (j, b) in blocks.iter().enumerate() {
                match b.get("text") {
                    Some(Value::String(s))
                        if b.get("type").and_then(Value::as_str) == Some("text") =>
                    {
                        system_text.push_str(s);
                        system_text.push(' ');
                    }
                    _ => {
                        return Err(field(
                            &p(&format!("system.{j}")),
                            "Input should be a text block: {\"type\": \"text\", \"text\": ...}",
                        ));
                    }
                }
            }
        }
        Some(_) => {
            return Err(field(
                &p("system"),
                "Input should be a valid string or a list of text blocks",
            ));
        }
    }

    let mut stop_sequences = Vec::new();
    match obj.get("stop_sequences") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for (i, s) in a.iter().enumerate() {
                match s {
                    Value::String(s) if !s.is_empty() => stop_sequences.push(s.clone()),
                    Value::String(_) => {
                        return Err(field(
                            &p(&format!("stop_sequences.{i}")),
                            "String should have at least 1 character",
                        ));
                    }
                    _ => {
                        return Err(field(
                            &p(&format!("stop_sequences.{i}")),
                            "Input should be a valid string",
                        ));
                    }
                }
            }
        }
        Some(_) => return Err(field(&p("stop_sequences"), "Input should be a valid list")),
    }

    check_unit_float(obj, "temperature", 1.0).map_err(|mut f| {
        f.message = format!("{prefix}{}", f.message);
        f
    })?;
    check_unit_float(obj, "top_p", 1.0).map_err(|mut f| {
        f.message = format!("{prefix}{}", f.message);
        f
    })?;
    get_uint(obj, "top_k", &p("top_k"))?;

    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(field(&p("stream"), "Input should be a valid boolean")),
    };

    let mut tools = Vec::new();
    let mut tools_chars = 0usize;
    match obj.get("tools") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for (i, t) in a.iter().enumerate() {
                let tp = p(&format!("tools.{i}"));
                let Value::Object(t) = t else {
                    return Err(field(&tp, "Input should be a valid dictionary"));
                };
                tools_chars += json_len(t);
                let name = match t.get("name") {
                    None | Some(Value::Null) => {
                        return Err(field(&format!("{tp}.name"), "Field required"));
                    }
                    Some(Value::String(n)) => n.clone(),
                    Some(_) => {
                        return Err(field(
                            &format!("{tp}.name"),
                            "Input should be a valid string",
                        ));
                    }
                };
                if name.is_empty()
                    || name.len() > 128
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(field(
                        &format!("{tp}.name"),
                        "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
                    ));
                }
                if tools.iter().any(|d: &ToolDef| d.name == name) {
                    return Err(field(
                        &format!("{tp}.name"),
                        &format!("Tool names must be unique: `{name}`"),
                    ));
                }
                // Server tools (`web_search_20250305` and friends) carry a
                // versioned `type` and no schema; the emulator accepts them
                // and never calls them.
                let typed_server_tool = matches!(
                    t.get("type"),
                    Some(Value::String(ty)) if ty != "custom"
                );
                if typed_server_tool {
                    continue;
                }
                match t.get("input_schema") {
                    None | Some(Value::Null) => {
                        return Err(field(&format!("{tp}.input_schema"), "Field required"));
                    }
                    Some(Value::Object(s)) => {
                        if s.get("type").and_then(Value::as_str) != Some("object") {
                            return Err(field(
                                &format!("{tp}.input_schema.type"),
                                "Input should be 'object'",
                            ));
                        }
                        tools.push(ToolDef {
                            name,
                            schema: Value::Object(s.clone()),
                        });
                    }
                    Some(_) => {
                        return Err(field(
                            &format!("{tp}.input_schema"),
                            "Input should be a valid dictionary",
                        ));
                    }
                }
            }
        }
        Some(_) => return Err(field(&p("tools"), "Input should be a valid list")),
    }

    let tool_choice = match obj.get("tool_choice") {
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(Value::Object(tc)) => match tc.get("type").and_then(Value::as_str) {
            Some("auto") => ToolChoice::Auto,
            Some("any") => ToolChoice::Any,
            Some("none") => ToolChoice::None,
            Some("tool") => match tc.get("name") {
                Some(Value::String(n)) => {
                    if !tools.iter().any(|t| &t.name == n) {
                        return Err(field(
                            &p("tool_choice.name"),
                            &format!("Tool '{n}' not found in provided tools"),
                        ));
                    }
                    ToolChoice::Tool(n.clone())
                }
                _ => return Err(field(&p("tool_choice.name"), "Field required")),
            },
            Some(_) => {
                return Err(field(
                    &p("tool_choice.type"),
                    "Input should be 'auto', 'any', 'tool' or 'none'",
                ));
            }
            None => return Err(field(&p("tool_choice.type"), "Field required")),
        },
        Some(_) => {
            return Err(field(
                &p("tool_choice"),
                "Input should be a valid dictionary",
            ));
        }
    };
    if matches!(tool_choice, ToolChoice::Any | ToolChoice::Tool(_)) && tools.is_empty() {
        return Err(field(
            &p("tool_choice"),
            "tool_choice may only be specified while providing tools",
        ));
    }

    let thinking = match obj.get("thinking") {
        None | Some(Value::Null) => None,
        Some(Value::Object(th)) => match th.get("type").and_then(Value::as_str) {
            Some("disabled") => None,
            Some("enabled") => {
                let budget = match get_uint(th, "budget_tokens", &p("thinking.budget_tokens"))? {
                    None => return Err(field(&p("thinking.budget_tokens"), "Field required")),
                    Some(b) if b < 1024 => {
                        return Err(field(
                            &p("thinking.budget_tokens"),
                            "Input should be greater than or equal to 1024",
                        ));
                    }
                    Some(b) => b,
                };
                if budget >= max_tokens {
                    return Err(field(
                        &p("max_tokens"),
                        &format!(
                            "`max_tokens` must be greater than `thinking.budget_tokens` ({max_tokens} <= {budget})"
                        ),
                    ));
                }
                if matches!(tool_choice, ToolChoice::Any | ToolChoice::Tool(_)) {
                    return Err(field(
                        &p("thinking"),
                        "Thinking may not be enabled when tool_choice forces tool use.",
                    ));
                }
                Some(Thinking::Budget(budget))
            }
            Some("adaptive") => {
                if let Some(k) = th
                    .keys()
                    .find(|k| !matches!(k.as_str(), "type" | "display"))
                {
                    return Err(field(
                        &p(&format!("thinking.adaptive.{k}")),
                        "Extra inputs are not permitted",
                    ));
                }
                let omitted = match th.get("display") {
                    None | Some(Value::Null) => false,
                    Some(Value::String(d)) if d == "summarized" => false,
                    Some(Value::String(d)) if d == "omitted" => true,
                    Some(_) => {
                        return Err(field(
                            &p("thinking.adaptive.display"),
                            "Input should be 'summarized' or 'omitted'",
                        ));
                    }
                };
                if !spec.adaptive_thinking {
                    return Err(field(
                        &p("thinking.type"),
                        &format!("adaptive thinking is not supported by {model}"),
                    ));
                }
                if matches!(tool_choice, ToolChoice::Any | ToolChoice::Tool(_)) {
                    return Err(field(
                        &p("thinking"),
                        "Thinking may not be enabled when tool_choice forces tool use.",
                    ));
                }
                Some(Thinking::Adaptive { omitted })
            }
            _ => {
                return Err(field(
                    &p("thinking.type"),
                    "Input should be 'enabled', 'disabled' or 'adaptive'",
                ));
            }
        },
        Some(_) => return Err(field(&p("thinking"), "Input should be a valid dictionary")),
    };

    let output_schema = output_config(obj, &p)?;

    if let Some(md) = obj.get("metadata")
        && !(md.is_object() || md.is_null())
    {
        return Err(field(&p("metadata"), "Input should be a valid dictionary"));
    }

    let chars = text_chars + system_text.len() + tools_chars;
    let input_tokens = estimate_tokens(chars) + 3 * messages.len() as u64 + 4;
    let prompt_words = words(&format!("{system_text} {last_user_text}"));
    Ok(MessageParams {
        model,
        max_tokens,
        stream,
        stop_sequences,
        tools,
        tool_choice,
        thinking,
        output_schema,
        prompt_words,
        after_tool_result,
        input_tokens,
        // `max_tokens` and `stop_sequences` only cut the text, as with a real
        // model: a larger budget gives a longer reply with the same start.
        seed: hash_json(obj, &["stream", "max_tokens", "stop_sequences"]),
    })
}

/// Validates `output_config`: `effort` and a `json_schema` format. Returns
/// the schema the reply's text must be valid for.
fn output_config(
    obj: &Map<String, Value>,
    p: &dyn Fn(&str) -> String,
) -> Result<Option<Value>, Failure> {
    let oc = match obj.get("output_config") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(oc)) => oc,
        Some(_) => {
            return Err(field(
                &p("output_config"),
                "Input should be a valid dictionary",
            ));
        }
    };
    if let Some(k) = oc
        .keys()
        .find(|k| !matches!(k.as_str(), "effort" | "format"))
    {
        return Err(field(
            &p(&format!("output_config.{k}")),
            "Extra inputs are not permitted",
        ));
    }
    match oc.get("effort") {
        None | Some(Value::Null) => {}
        Some(Value::String(e))
            if matches!(e.as_str(), "low" | "medium" | "high" | "xhigh" | "max") => {}
        Some(_) => {
            return Err(field(
                &p("output_config.effort"),
                "Input should be 'low', 'medium', 'high', 'xhigh' or 'max'",
            ));
        }
    }
    match oc.get("format") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(f)) => {
            if f.get("type").and_then(Value::as_str) != Some("json_schema") {
                return Err(field(
                    &p("output_config.format.type"),
                    "Input should be 'json_schema'",
                ));
            }
            match f.get("schema") {
                Some(Value::Object(s)) => Ok(Some(Value::Object(s.clone()))),
                None | Some(Value::Null) => {
                    Err(field(&p("output_config.format.schema"), "Field required"))
                }
                Some(_) => Err(field(
                    &p("output_config.format.schema"),
                    "Input should be a valid dictionary",
                )),
            }
        }
        Some(_) => Err(field(
            &p("output_config.format"),
            "Input should be a valid dictionary",
        )),
    }
}

/// The token estimate for `chars` bytes of input: about four per token.
pub(crate) fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4).max(1)
}

/// The distinct lowercase words of a text, in order of first appearance.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if w.len() < 3 || w.len() > 20 {
            continue;
        }
        let w = w.to_lowercase();
        if !out.contains(&w) {
            out.push(w);
        }
        if out.len() >= 64 {
            break;
        }
    }
    out
}
