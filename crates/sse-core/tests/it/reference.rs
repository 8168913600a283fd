//! A small, obviously correct reference parser: it decodes the whole input
//! at once and then follows the specification's steps line by line.

use crate::support::Ev;

pub(crate) struct Reference {
    pub(crate) events: Vec<Ev>,
    /// The input ended inside an event.
    pub(crate) unterminated: bool,
}

pub(crate) fn parse(input: &[u8]) -> Reference {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = String::from_utf8_lossy(input);

    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut line));
            }
            '\n' => lines.push(std::mem::take(&mut line)),
            c => line.push(c),
        }
    }
    let partial_line = !line.is_empty();

    let mut events = Vec::new();
    let mut data = String::new();
    let mut event_type = String::new();
    let mut last_id = String::new();
    let mut retry = None;
    for line in lines {
        if line.is_empty() {
            if !data.is_empty() {
                data.pop(); // The trailing "\n".
                let kind = if event_type.is_empty() {
                    "message".to_owned()
                } else {
                    event_type.clone()
                };
                events.push((kind, std::mem::take(&mut data), last_id.clone(), retry));
            }
            data.clear();
            event_type.clear();
            retry = None;
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = match line.find(':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line.as_str(), ""),
        };
        match name {
            "event" => event_type = value.to_owned(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => last_id = value.to_owned(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                retry = Some(value.bytes().fold(0u64, |n, d| {
                    n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                }));
            }
            _ => {}
        }
    }
    Reference {
        events,
        unterminated: partial_line || !data.is_empty() || !event_type.is_empty() || retry.is_some(),
    }
}
