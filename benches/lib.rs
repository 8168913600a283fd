//! Shared helpers for the benchmarks in this folder: corpus generators.
//! `cargo xtask bench-batch` uses [`ResultLines`] too, through the
//! `batch_results` binary.

/// A realistic Claude stream of about `target` bytes: `message_start`, a
/// text block of many small `text_delta`s with a `ping` every 50 events, a
/// `tool_use` block of `input_json_delta`s, `message_delta` and
/// `message_stop`, in the API's framing (`event:` + `data:` + blank line)
/// with the API's JSON padding on some events.
///
/// Returns the bytes and the number of events in them.
pub fn claude_stream(target: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(target + 4096);
    let mut events = 0;
    let mut push = |out: &mut Vec<u8>, name: &str, data: &str| {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        out.extend_from_slice(data.as_bytes());
        out.extend_from_slice(b"\n\n");
        events += 1;
    };
    push(
        &mut out,
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_01H1pwRRkQxKbUGKi785gT4M","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":397,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2,"service_tier":"standard"}}      }"#,
    );
    push(
        &mut out,
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}              }"#,
    );
    const WORDS: [&str; 12] = [
        "The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ",", " and",
        " then\\n",
    ];
    let text_budget = target * 9 / 10;
    let mut i = 0usize;
    while out.len() < text_budget {
        if i % 50 == 49 {
            push(&mut out, "ping", r#"{"type": "ping"}"#);
        }
        let w = WORDS[i % WORDS.len()];
        let w2 = WORDS[(i * 7 + 3) % WORDS.len()];
        let pad = " ".repeat(i % 13);
        let data = format!(
            r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{w}{w2}"}}{pad}}}"#
        );
        push(&mut out, "content_block_delta", &data);
        i += 1;
    }
    push(
        &mut out,
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0}"#,
    );
    push(
        &mut out,
        "content_block_start",
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}"#,
    );
    let mut j = 0usize;
    while out.len() < target {
        let data = format!(
            r#"{{"type":"content_block_delta","index":1,"delta":{{"type":"input_json_delta","partial_json":"{{\"city\": \"Paris {j}\", "}}}}"#
        );
        push(&mut out, "content_block_delta", &data);
        j += 1;
    }
    push(
        &mut out,
        "content_block_stop",
        r#"{"type":"content_block_stop","index":1}"#,
    );
    push(
        &mut out,
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":4096}}"#,
    );
    push(&mut out, "message_stop", r#"{"type":"message_stop"}"#);
    (out, events)
}

const WORDS: [&str; 16] = [
    "the",
    "river",
    "quietly",
    "carries",
    "light",
    "across",
    "stones",
    "and",
    "\\\"quoted\\\"",
    "naïve",
    "café",
    "results",
    "into",
    "évening",
    "data,",
    "then\\n",
];

/// Realistic batch result lines of 2 to 4 KB: a `succeeded` message whose
/// text block has escapes and non-ASCII, a `tool_use` block on every fourth
/// line, full usage. Deterministic; custom_ids are `request-NNNNNN`.
#[derive(Debug, Clone)]
pub struct ResultLines {
    seed: u64,
    count: usize,
}

impl Default for ResultLines {
    fn default() -> ResultLines {
        ResultLines::new()
    }
}

impl ResultLines {
    /// The generator at its first line.
    pub fn new() -> ResultLines {
        ResultLines {
            seed: 0x2545_f491_4f6c_dd1d,
            count: 0,
        }
    }

    /// How many lines were generated.
    pub fn count(&self) -> usize {
        self.count
    }

    fn next_u64(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    /// Appends the next line, with its `\n`, to `out`.
    pub fn push_next(&mut self, out: &mut Vec<u8>) {
        use std::io::Write;
        let n = self.count;
        // 1.6 to 3.4 KB of text: lines of 2 to 4 KB with the envelope.
        let text_len = 1_600 + (self.next_u64() % 1_800) as usize;
        let mut text = String::with_capacity(text_len + 16);
        while text.len() < text_len {
            text.push_str(WORDS[(self.next_u64() % 16) as usize]);
            text.push(' ');
        }
        let tool = if n % 4 == 3 {
            r#",{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location":"San Francisco, CA","unit":"celsius"}}"#
        } else {
            ""
        };
        let input_tokens = 200 + self.next_u64() % 800;
        let output_tokens = text_len / 5;
        let _ = writeln!(
            out,
            r#"{{"custom_id":"request-{n:06}","result":{{"type":"succeeded","message":{{"id":"msg_01XFDUDYJgAACzvnptvVoYEL{n:06}","type":"message","role":"assistant","model":"claude-sonnet-4-6-20250929","content":[{{"type":"text","text":"{text}"}}{tool}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":{input_tokens},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":{output_tokens},"service_tier":"batch"}}}}}}}}"#
        );
        self.count += 1;
    }
}

pub mod sse_peers;
