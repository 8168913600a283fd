//! Deterministic generation: a request's content seeds everything, so the same
//! request always gets the same message, streamed or not.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::util::{Rng, base62};
use crate::validate::{MessageParams, Thinking, ToolChoice, ToolDef};
use crate::wire::{
    CacheCreation, Content, Delta, Event, Message, MessageDelta, ModelRef, OutputTokensDetails,
    StopDetails, Usage,
};

/// Words the generated text is made of, besides the prompt's own words.
const VOCABULARY: &[&str] = &[
    "the",
    "stream",
    "of",
    "tokens",
    "arrives",
    "in",
    "order",
    "and",
    "each",
    "event",
    "carries",
    "a",
    "small",
    "delta",
    "that",
    "client",
    "appends",
    "to",
    "message",
    "while",
    "server",
    "keeps",
    "pace",
    "with",
    "model",
    "answer",
    "is",
    "deterministic",
    "so",
    "same",
    "request",
    "always",
    "gets",
    "reply",
    "batch",
    "results",
    "come",
    "back",
    "any",
    "as",
    "lines",
    "json",
    "text",
    "block",
    "ends",
    "when",
    "stop",
    "reason",
    "says",
    "it",
    "does",
    "local",
    "emulator",
    "speaks",
    "wire",
    "format",
    "faithfully",
    "enough",
    "for",
    "tests",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "river",
    "mountain",
    "signal",
    "quiet",
    "bright",
    "careful",
    "steady",
];

/// One generated content block with its delta chunks.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    Thinking {
        /// (text, tokens) per `thinking_delta`; empty when the thinking is
        /// omitted (`display: "omitted"`).
        chunks: Vec<(String, u64)>,
        signature: String,
        /// Thinking tokens spent but not shown (omitted display).
        hidden: u64,
    },
    Text {
        /// (text, tokens) per `text_delta`.
        chunks: Vec<(String, u64)>,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
        /// (partial_json, tokens) per `input_json_delta`; the first is `""`.
        chunks: Vec<(String, u64)>,
    },
    /// A `compaction` block (fault `compaction=N`), filled by
    /// `compaction_delta` events.
    Compaction {
        /// (summary text, tokens) per `compaction_delta`.
        chunks: Vec<(String, u64)>,
        encrypted: String,
    },
    /// A `fallback` block (fault `fallback=MODEL`): whole in
    /// `content_block_start`, no deltas.
    Fallback { from: String, to: String },
}

impl Block {
    fn tokens(&self) -> u64 {
        match self {
            Block::Thinking { chunks, hidden, .. } => {
                chunks.iter().map(|c| c.1).sum::<u64>() + hidden
            }
            Block::Text { chunks }
            | Block::ToolUse { chunks, .. }
            | Block::Compaction { chunks, .. } => chunks.iter().map(|c| c.1).sum(),
            Block::Fallback { .. } => 0,
        }
    }

    /// The block as the non-streamed message holds it.
    pub(crate) fn full(&self) -> Content<'_> {
        match self {
            Block::Thinking {
                chunks, signature, ..
            } => Content::Thinking {
                thinking: Cow::Owned(join(chunks)),
                signature,
            },
            Block::Text { chunks } => Content::Text {
                text: Cow::Owned(join(chunks)),
            },
            Block::ToolUse {
                id, name, input, ..
            } => Content::ToolUse {
                id,
                name,
                input: Cow::Borrowed(input),
            },
            Block::Compaction { chunks, encrypted } => Content::Compaction {
                content: Some(join(chunks)),
                encrypted_content: Some(encrypted),
            },
            Block::Fallback { from, to } => Content::Fallback {
                from: ModelRef { model: from },
                to: ModelRef { model: to },
            },
        }
    }

    /// The block as `content_block_start` announces it.
    pub(crate) fn start(&self) -> Content<'_> {
        match self {
            Block::Thinking { .. } => Content::Thinking {
                thinking: Cow::Borrowed(""),
                signature: "",
            },
            Block::Text { .. } => Content::Text {
                text: Cow::Borrowed(""),
            },
            Block::ToolUse { id, name, .. } => Content::ToolUse {
                id,
                name,
                input: Cow::Owned(Value::Object(Map::new())),
            },
            Block::Compaction { .. } => Content::Compaction {
                content: None,
                encrypted_content: None,
            },
            Block::Fallback { .. } => self.full(),
        }
    }

    /// The deltas, each with the tokens it stands for (for pacing).
    pub(crate) fn deltas(&self) -> Vec<(Delta<'_>, u64)> {
        match self {
            Block::Thinking {
                chunks, signature, ..
            } => {
                let mut out: Vec<(Delta<'_>, u64)> = chunks
                    .iter()
                    .map(|(t, n)| (Delta::Thinking { thinking: t }, *n))
                    .collect();
                out.push((Delta::Signature { signature }, 0));
                out
            }
            Block::Text { chunks } => chunks
                .iter()
                .map(|(t, n)| (Delta::Text { text: t }, *n))
                .collect(),
            Block::ToolUse { chunks, .. } => chunks
                .iter()
                .map(|(t, n)| (Delta::InputJson { partial_json: t }, *n))
                .collect(),
            // The summary in pieces; the opaque metadata with the last one.
            Block::Compaction { chunks, encrypted } => chunks
                .iter()
                .enumerate()
                .map(|(i, (t, n))| {
                    let encrypted_content = (i + 1 == chunks.len()).then_some(encrypted.as_str());
                    (
                        Delta::Compaction {
                            content: t,
                            encrypted_content,
                        },
                        *n,
                    )
                })
                .collect(),
            Block::Fallback { .. } => Vec::new(),
        }
    }
}

fn join(chunks: &[(String, u64)]) -> String {
    chunks.iter().map(|c| c.0.as_str()).collect()
}

/// A whole generated reply.
#[derive(Debug, Clone)]
pub(crate) struct Generation {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) blocks: Vec<Block>,
    pub(crate) stop_reason: &'static str,
    pub(crate) stop_sequence: Option<String>,
    pub(crate) input_tokens: u64,
    pub(crate) output_tokens: u64,
    /// `stop_details` (fault `refusal=CATEGORY`).
    pub(crate) stop_details: Option<StopDetails>,
    /// The model `message_start` names when a fallback changed it.
    pub(crate) start_model: Option<String>,
}

impl Generation {
    /// Applies the content faults: a `compaction` block first, a `fallback`
    /// block to another model, a refusal with `stop_details`.
    pub(crate) fn apply_content_faults(
        &mut self,
        faults: &crate::fault::ActiveFaults,
        seed: u64,
        max_tokens: u64,
    ) {
        let mut rng = Rng::new(seed ^ 0xfa17);
        if let Some(words) = faults.text {
            self.set_text_length(&mut rng, words, max_tokens);
        }
        if let Some(words) = faults.compaction {
            let tokens = sentence_tokens(&mut rng, VOCABULARY, words as usize);
            let encrypted = base62(&mut rng, 48);
            self.blocks.insert(
                0,
                Block::Compaction {
                    chunks: chunk_tokens(&mut rng, &tokens),
                    encrypted,
                },
            );
        }
        if let Some(to) = &faults.fallback {
            let from = std::mem::replace(&mut self.model, to.clone());
            let at = usize::from(faults.compaction.is_some());
            self.blocks.insert(
                at,
                Block::Fallback {
                    from: from.clone(),
                    to: to.clone(),
                },
            );
            self.start_model = Some(from);
        }
        if let Some(category) = &faults.refusal {
            self.blocks.retain(|b| !matches!(b, Block::ToolUse { .. }));
            self.stop_reason = "refusal";
            self.stop_sequence = None;
            self.stop_details = Some(StopDetails {
                category: category.clone(),
                explanation: "This request was declined by the emulator's refusal fault.",
            });
        }
        self.output_tokens = self.blocks.iter().map(Block::tokens).sum::<u64>().max(1);
    }

    /// The `text=N` fault: the first text block becomes `words` words, cut
    /// by what `max_tokens` leaves after the other blocks (then the reply
    /// stops at `max_tokens`, with no tool call after the text).
    fn set_text_length(&mut self, rng: &mut Rng, words: u64, max_tokens: u64) {
        let Some(at) = self
            .blocks
            .iter()
            .position(|b| matches!(b, Block::Text { .. }))
        else {
            return;
        };
        let others: u64 = self
            .blocks
            .iter()
            .enumerate()
            .filter(|&(i, b)| i != at && !matches!(b, Block::ToolUse { .. }))
            .map(|(_, b)| b.tokens())
            .sum();
        let budget = max_tokens.saturating_sub(others).max(1);
        let cut = words > budget;
        let tokens = sentence_tokens(rng, VOCABULARY, words.min(budget) as usize);
        self.blocks[at] = Block::Text {
            chunks: chunk_tokens(rng, &tokens),
        };
        self.stop_sequence = None;
        if cut {
            self.blocks.retain(|b| !matches!(b, Block::ToolUse { .. }));
            self.stop_reason = "max_tokens";
        } else if self.stop_reason != "tool_use" {
            self.stop_reason = "end_turn";
        }
    }

    /// The usage of a message with `output_tokens`.
    pub(crate) fn usage(&self, output_tokens: u64) -> Usage {
        Usage {
            input_tokens: self.input_tokens,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            cache_creation: Some(CacheCreation::default()),
            output_tokens,
            service_tier: Some("standard"),
            output_tokens_details: self.thinking_tokens(),
        }
    }

    /// `output_tokens_details.thinking_tokens`, when the reply thought.
    fn thinking_tokens(&self) -> Option<OutputTokensDetails> {
        let thinking: u64 = self
            .blocks
            .iter()
            .filter(|b| matches!(b, Block::Thinking { .. }))
            .map(Block::tokens)
            .sum();
        (thinking > 0).then_some(OutputTokensDetails {
            thinking_tokens: thinking,
        })
    }

    /// The message a non-streaming request returns.
    pub(crate) fn message(&self) -> Message<'_> {
        Message {
            id: &self.id,
            kind: "message",
            role: "assistant",
            model: &self.model,
            content: self.blocks.iter().map(Block::full).collect(),
            stop_reason: Some(self.stop_reason),
            stop_sequence: self.stop_sequence.as_deref(),
            stop_details: self.stop_details.as_ref(),
            usage: self.usage(self.output_tokens),
        }
    }

    /// The message inside `message_start`: no content, no stop reason yet.
    pub(crate) fn start_message(&self) -> Message<'_> {
        Message {
            id: &self.id,
            kind: "message",
            role: "assistant",
            model: self.start_model.as_ref().unwrap_or(&self.model),
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            stop_details: None,
            usage: self.usage(self.output_tokens.min(1)),
        }
    }

    /// The `message_delta` event.
    pub(crate) fn message_delta(&self) -> Event<'_> {
        Event::MessageDelta {
            delta: MessageDelta {
                stop_reason: self.stop_reason,
                stop_sequence: self.stop_sequence.as_deref(),
                stop_details: self.stop_details.as_ref(),
            },
            usage: Usage {
                input_tokens: self.input_tokens,
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: 0,
                cache_creation: None,
                output_tokens: self.output_tokens,
                service_tier: None,
                output_tokens_details: self.thinking_tokens(),
            },
        }
    }
}

impl Generation {
    /// Only what the firehose needs (id, model, input tokens): the reply
    /// [`generate`] would give, without content and with one output token.
    pub(crate) fn head(params: &MessageParams) -> Generation {
        Generation {
            id: message_id(params.seed),
            model: params.model.clone(),
            blocks: Vec::new(),
            stop_reason: "end_turn",
            stop_sequence: None,
            input_tokens: params.input_tokens,
            output_tokens: 1,
            stop_details: None,
            start_model: None,
        }
    }
}

/// The largest char boundary of `s` at or below `at`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The message id for a request seed: the same request gets the same id.
fn message_id(seed: u64) -> String {
    format!("msg_{}", base62(&mut Rng::new(seed ^ 0x5eed), 24))
}

/// Generates the reply for a validated request.
pub(crate) fn generate(params: &MessageParams) -> Generation {
    let mut rng = Rng::new(params.seed);
    let id = message_id(params.seed);
    let mut vocab: Vec<&str> = VOCABULARY.to_vec();
    vocab.extend(params.prompt_words.iter().map(String::as_str));

    let mut budget = params.max_tokens;
    let mut blocks = Vec::new();
    let mut stop_reason = "end_turn";
    let mut stop_sequence = None;

    if let Some(thinking) = params.thinking {
        // Adaptive thinking: the model decides; here it thinks briefly,
        // within half the output budget.
        let (cap, omitted) = match thinking {
            Thinking::Budget(b) => (b, false),
            Thinking::Adaptive { omitted } => ((budget / 2).max(1), omitted),
        };
        let n = rng.range(16, 48).min(cap).min(budget);
        let tokens = sentence_tokens(&mut rng, &vocab, n as usize);
        budget -= n;
        let signature = base62(&mut rng, 88);
        let chunks = chunk_tokens(&mut rng, &tokens);
        blocks.push(if omitted {
            Block::Thinking {
                chunks: Vec::new(),
                signature,
                hidden: n,
            }
        } else {
            Block::Thinking {
                chunks,
                signature,
                hidden: 0,
            }
        });
    }

    if let Some(schema) = &params.output_schema
        && !matches!(params.tool_choice, ToolChoice::Any | ToolChoice::Tool(_))
    {
        // Structured output: the text is JSON valid for the schema, cut by
        // `max_tokens` like any text.
        let value = gen_value(schema, &mut rng, &vocab, 0);
        let text = serde_json::to_string(&value).unwrap_or_else(|_| "{}".to_owned());
        let needed = (text.len() as u64).div_ceil(4).max(1);
        let (text, tokens) = if needed <= budget {
            (text, needed)
        } else {
            stop_reason = "max_tokens";
            let keep = floor_char_boundary(&text, (budget * 4) as usize);
            (text[..keep].to_owned(), budget)
        };
        blocks.push(Block::Text {
            chunks: chunk_json(&mut rng, &text, tokens)
                .into_iter()
                .filter(|(t, _)| !t.is_empty())
                .collect(),
        });
        let output_tokens = blocks.iter().map(Block::tokens).sum::<u64>().max(1);
        return Generation {
            id,
            model: params.model.clone(),
            blocks,
            stop_reason,
            stop_sequence: None,
            input_tokens: params.input_tokens,
            output_tokens,
            stop_details: None,
            start_model: None,
        };
    }

    let tool = pick_tool(params, &mut rng);
    let forced = matches!(params.tool_choice, ToolChoice::Any | ToolChoice::Tool(_));
    let natural_text = match (&tool, forced) {
        (Some(_), true) => 0,
        (Some(_), false) => rng.range(6, 14),
        (None, _) => rng.range(20, 120),
    };

    if natural_text > 0 {
        let mut tokens = match &tool {
            Some(t) => tool_preamble(&mut rng, &vocab, &t.name, natural_text as usize),
            None => sentence_tokens(&mut rng, &vocab, natural_text as usize),
        };
        let mut cut = false;
        if tokens.len() as u64 > budget {
            tokens.truncate(budget as usize);
            cut = true;
        }
        if let Some((kept, seq)) = apply_stop_sequences(&tokens, &params.stop_sequences) {
            tokens = kept;
            stop_reason = "stop_sequence";
            stop_sequence = Some(seq);
        } else if cut {
            stop_reason = "max_tokens";
        }
        budget = budget.saturating_sub(tokens.len() as u64);
        if !tokens.is_empty() || !cut {
            blocks.push(Block::Text {
                chunks: chunk_tokens(&mut rng, &tokens),
            });
        }
    }

    if stop_reason == "end_turn"
        && let Some(t) = tool
    {
        let input = gen_value(&t.schema, &mut rng, &vocab, 0);
        let text = serde_json::to_string(&input).unwrap_or_else(|_| "{}".to_owned());
        let tool_tokens = (text.len() as u64).div_ceil(4) + 8;
        if tool_tokens <= budget {
            let id = format!("toolu_{}", base62(&mut rng, 24));
            blocks.push(Block::ToolUse {
                id,
                name: t.name.clone(),
                input,
                chunks: chunk_json(&mut rng, &text, tool_tokens),
            });
            stop_reason = "tool_use";
        } else {
            stop_reason = "max_tokens";
        }
    }

    let output_tokens = blocks.iter().map(Block::tokens).sum::<u64>().max(1);
    Generation {
        id,
        model: params.model.clone(),
        blocks,
        stop_reason,
        stop_sequence,
        input_tokens: params.input_tokens,
        output_tokens,
        stop_details: None,
        start_model: None,
    }
}

fn pick_tool<'p>(params: &'p MessageParams, rng: &mut Rng) -> Option<&'p ToolDef> {
    if params.tools.is_empty() {
        return None;
    }
    match &params.tool_choice {
        ToolChoice::None => None,
        ToolChoice::Tool(name) => params.tools.iter().find(|t| &t.name == name),
        ToolChoice::Any => Some(&params.tools[rng.below(params.tools.len())]),
        // Chosen freely: call a tool unless the last user turn answered one.
        ToolChoice::Auto if params.after_tool_result => None,
        ToolChoice::Auto => Some(&params.tools[rng.below(params.tools.len())]),
    }
}

/// `n` tokens of prose: words with a leading space, capitalised sentences.
fn sentence_tokens(rng: &mut Rng, vocab: &[&str], n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let mut since_period = 0;
    let mut sentence_len = rng.range(6, 14);
    for i in 0..n {
        let w = vocab[rng.below(vocab.len())];
        let mut tok = String::with_capacity(w.len() + 2);
        if i > 0 {
            tok.push(' ');
        }
        if since_period == 0 {
            let mut cs = w.chars();
            if let Some(c) = cs.next() {
                tok.extend(c.to_uppercase());
                tok.push_str(cs.as_str());
            }
        } else {
            tok.push_str(w);
        }
        since_period += 1;
        if since_period as u64 >= sentence_len || i + 1 == n {
            tok.push('.');
            since_period = 0;
            sentence_len = rng.range(6, 14);
        }
        out.push(tok);
    }
    out
}

fn tool_preamble(rng: &mut Rng, vocab: &[&str], tool: &str, n: usize) -> Vec<String> {
    let mut out: Vec<String> = ["I'll", " use", " the", " tool"]
        .map(str::to_owned)
        .to_vec();
    out.push(format!(" {tool}"));
    let rest = n.saturating_sub(out.len());
    for _ in 0..rest {
        out.push(format!(" {}", vocab[rng.below(vocab.len())]));
    }
    if let Some(last) = out.last_mut() {
        last.push('.');
    }
    out.truncate(n.max(1));
    out
}

/// Cuts the text before the earliest stop sequence, if any occurs.
fn apply_stop_sequences(tokens: &[String], stops: &[String]) -> Option<(Vec<String>, String)> {
    if stops.is_empty() {
        return None;
    }
    let text: String = tokens.concat();
    let (pos, seq) = stops
        .iter()
        .filter_map(|s| text.find(s.as_str()).map(|p| (p, s)))
        .min_by_key(|(p, _)| *p)?;
    let mut kept = Vec::new();
    let mut offset = 0;
    for t in tokens {
        if offset + t.len() <= pos {
            kept.push(t.clone());
        } else {
            if offset < pos {
                kept.push(t[..pos - offset].to_owned());
            }
            break;
        }
        offset += t.len();
    }
    Some((kept, seq.clone()))
}

/// Groups tokens into deltas of one to three tokens.
fn chunk_tokens(rng: &mut Rng, tokens: &[String]) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let n = (rng.range(1, 3) as usize).min(tokens.len() - i);
        out.push((tokens[i..i + n].concat(), n as u64));
        i += n;
    }
    out
}

/// Splits serialized JSON into `partial_json` pieces; the first is `""` as
/// the API sends it. The pieces' tokens add up to `total_tokens`.
fn chunk_json(rng: &mut Rng, text: &str, total_tokens: u64) -> Vec<(String, u64)> {
    let mut out = vec![(String::new(), 0)];
    let mut rest = text;
    while !rest.is_empty() {
        let mut n = (rng.range(4, 16) as usize).min(rest.len());
        while !rest.is_char_boundary(n) {
            n += 1;
        }
        let (head, tail) = rest.split_at(n);
        out.push((head.to_owned(), (head.len() as u64).div_ceil(4)));
        rest = tail;
    }
    let counted: u64 = out.iter().map(|c| c.1).sum();
    if let Some(first) = out.first_mut() {
        first.1 = total_tokens.saturating_sub(counted);
    }
    out
}

/// A value valid for a (subset of) JSON Schema: `type`, `properties`,
/// `required`, `items`, `enum`, `const`, `anyOf`/`oneOf`/`allOf`, numeric
/// bounds, string and array lengths. `pattern` is not honoured.
pub(crate) fn gen_value(schema: &Value, rng: &mut Rng, vocab: &[&str], depth: usize) -> Value {
    let Value::Object(s) = schema else {
        return Value::String(vocab[rng.below(vocab.len())].to_owned());
    };
    if depth > 8 {
        return Value::Null;
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.is_empty()
    {
        return options[rng.below(options.len())].clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(alts)) = s.get(key)
            && !alts.is_empty()
        {
            let pick = if key == "allOf" {
                0
            } else {
                rng.below(alts.len())
            };
            return gen_value(&alts[pick], rng, vocab, depth + 1);
        }
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ if s.contains_key("items") => "array",
        _ => "string",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(Value::Object(props)) = s.get("properties") {
                for (k, v) in props {
                    if required.contains(&k.as_str()) || rng.chance(60) {
                        out.insert(k.clone(), gen_value(v, rng, vocab, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let max = s
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(min + 3)
                .min(min + 3)
                .max(min);
            let n = rng.range(min.max(1).min(max), max);
            let items = s.get("items").cloned().unwrap_or(Value::Null);
            Value::Array(
                (0..n)
                    .map(|_| gen_value(&items, rng, vocab, depth + 1))
                    .collect(),
            )
        }
        "integer" => {
            let (lo, hi) = bounds(s, 0.0, 100.0, true);
            Value::from(rng.range(0, (hi - lo) as u64) as i64 + lo as i64)
        }
        "number" => {
            let (lo, hi) = bounds(s, 0.0, 100.0, false);
            let frac = (rng.range(0, 1000) as f64) / 1000.0;
            let v = lo + (hi - lo) * frac;
            serde_json::Number::from_f64((v * 1000.0).round() / 1000.0)
                .map(Value::Number)
                .unwrap_or(Value::from(lo as i64))
        }
        "boolean" => Value::Bool(rng.chance(50)),
        "null" => Value::Null,
        _ => {
            let mut text = match s.get("format").and_then(Value::as_str) {
                Some("date") => "2025-01-15".to_owned(),
                Some("date-time") => "2025-01-15T12:00:00Z".to_owned(),
                Some("email") => "someone@example.com".to_owned(),
                Some("uri") | Some("url") => "https://example.com/emulator".to_owned(),
                Some("uuid") => "123e4567-e89b-12d3-a456-426614174000".to_owned(),
                _ => {
                    let n = rng.range(1, 3);
                    (0..n)
                        .map(|_| vocab[rng.below(vocab.len())])
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            };
            let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = s
                .get("maxLength")
                .and_then(Value::as_u64)
                .map(|m| m as usize);
            while text.chars().count() < min {
                text.push('x');
            }
            if let Some(max) = max {
                text = text.chars().take(max).collect();
            }
            Value::String(text)
        }
    }
}

/// Inclusive numeric bounds from `minimum`/`maximum` and their exclusive forms.
fn bounds(s: &Map<String, Value>, lo: f64, hi: f64, integer: bool) -> (f64, f64) {
    let step = if integer { 1.0 } else { 0.001 };
    let mut min = s.get("minimum").and_then(Value::as_f64);
    let mut max = s.get("maximum").and_then(Value::as_f64);
    if let Some(x) = s.get("exclusiveMinimum").and_then(Value::as_f64) {
        min = Some(min.map_or(x + step, |m| m.max(x + step)));
    }
    if let Some(x) = s.get("exclusiveMaximum").and_then(Value::as_f64) {
        max = Some(max.map_or(x - step, |m| m.min(x - step)));
    }
    let (mut lo, mut hi) = match (min, max) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a + hi - lo),
        (None, Some(b)) => (b - (hi - lo), b),
        (None, None) => (lo, hi),
    };
    if integer {
        lo = lo.ceil();
        hi = hi.floor();
    }
    if hi < lo {
        hi = lo;
    }
    (lo, hi)
}
