//! A sans-IO decoder of batch results JSONL.

use std::io::Read;

use bytes::{Bytes, BytesMut};
use messages_types::{BatchResultLine, decode_batch_result_line};

use crate::error::{Error, Kind, Result};

/// The default longest accepted line: 64 MiB.
///
/// A result line holds one whole message; the longest outputs (128k tokens
/// of text, tool inputs, citations) stay well below this.
pub const DEFAULT_MAX_LINE_LEN: usize = 64 * 1024 * 1024;

/// How far into an overlong line its `custom_id` is looked for.
const CUSTOM_ID_WINDOW: usize = 4096;

/// One line of results JSONL, without its line terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    number: u64,
    bytes: Bytes,
    terminated: bool,
}

impl RawLine {
    /// The 1-based line number (blank lines count).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The line's bytes, without the terminator.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Takes the line's bytes.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Whether the line ended with a terminator. Only the last line of the
    /// input can lack one.
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// Decodes the line into a typed result.
    ///
    /// # Errors
    ///
    /// [`Error::is_decode`] (with the line number and, when it can be read
    /// from the broken line, the `custom_id`), or [`Error::is_truncated`] for
    /// an unterminated last line that is not a complete result.
    pub fn decode(&self) -> Result<BatchResultLine> {
        decode_batch_result_line(&self.bytes).map_err(|e| {
            let custom_id = recover_custom_id(&self.bytes);
            let err = Error::decode(self.number, custom_id.clone(), e);
            if self.terminated {
                return err;
            }
            let mut message = format!(
                "the results ended in the middle of line {} (no line terminator and not a complete result)",
                self.number
            );
            if let Some(id) = &custom_id {
                message.push_str(&format!("; its custom_id is {id}"));
            }
            let mut t = Error::new(Kind::Truncated, message)
                .with_line(self.number)
                .with_source(err);
            if let Some(id) = custom_id {
                t = t.with_custom_id(id);
            }
            t
        })
    }
}

/// Incremental decoder of batch results JSONL: push `Bytes` chunks as they
/// arrive, take complete lines out.
///
/// It does no I/O, so the same decoder reads an HTTP body
/// ([`ResultsStream`](crate::ResultsStream)), a file ([`ResultsReader`]), a
/// checkpoint, or bytes in a benchmark.
///
/// - Lines end in LF, CRLF or a lone CR, and a CR at the end of one chunk
///   with its LF at the start of the next is one terminator.
/// - Blank lines (empty or only ASCII whitespace) are skipped; they still
///   count for line numbers. A UTF-8 byte order mark at the very start is
///   dropped.
/// - Memory is bounded: a line that lies inside one chunk is handed out
///   without copying (a `Bytes` slice of the chunk); only a line split across
///   chunks is copied, and no line longer than the maximum
///   ([`DEFAULT_MAX_LINE_LEN`] unless set) is ever buffered: it is an
///   [`Error::is_line_too_long`] error naming the line and, when it starts
///   the line, its `custom_id`.
/// - After [`finish`](ResultsDecoder::finish) (end of input), an unterminated
///   last line is handed out too; if it is not a complete result, decoding
///   it is an [`Error::is_truncated`] error, never a silent short read.
/// - After an error the decoder is done: `next_*` return `Ok(None)`.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use messages_batch::ResultsDecoder;
///
/// let mut dec = ResultsDecoder::new();
/// dec.push(Bytes::from_static(b"{\"custom_id\":\"a\",\"result\":{\"type\":\"expired\"}}\r"));
/// let first = dec.next_line().unwrap().unwrap();
/// assert_eq!(first.custom_id, "a");
/// assert!(dec.next_line().unwrap().is_none()); // waiting for more bytes
///
/// dec.push(Bytes::from_static(b"\n{\"custom_id\":\"b\",\"result\":{\"type\":\"canc"));
/// assert!(dec.next_line().unwrap().is_none());
/// dec.finish(); // the input ended
/// let err = dec.next_line().unwrap_err();
/// assert!(err.is_truncated());
/// assert_eq!(err.line(), Some(2));
/// assert_eq!(err.custom_id(), Some("b"));
/// ```
#[derive(Debug)]
pub struct ResultsDecoder {
    chunk: Bytes,
    pos: usize,
    partial: BytesMut,
    // Bytes before `chunk` (for `consumed`).
    base: u64,
    // Offset just past the terminator of the last complete line.
    consumed: u64,
    max_line_len: usize,
    line: u64,
    skip_lf: bool,
    at_start: bool,
    eof: bool,
    done: bool,
}

impl Default for ResultsDecoder {
    fn default() -> ResultsDecoder {
        ResultsDecoder::new()
    }
}

impl ResultsDecoder {
    /// A decoder accepting lines up to [`DEFAULT_MAX_LINE_LEN`] bytes.
    pub fn new() -> ResultsDecoder {
        ResultsDecoder {
            chunk: Bytes::new(),
            pos: 0,
            partial: BytesMut::new(),
            base: 0,
            consumed: 0,
            max_line_len: DEFAULT_MAX_LINE_LEN,
            line: 0,
            skip_lf: false,
            at_start: true,
            eof: false,
            done: false,
        }
    }

    /// Sets the longest accepted line, in bytes without the terminator.
    /// Default is [`DEFAULT_MAX_LINE_LEN`].
    pub fn max_line_len(mut self, max: usize) -> ResultsDecoder {
        self.max_line_len = max;
        self
    }

    /// Adds the next chunk of input.
    ///
    /// `O(1)` when the previous chunk was drained (`next_*` returned
    /// `Ok(None)`); otherwise the undrained rest is copied in front of it.
    pub fn push(&mut self, chunk: Bytes) {
        if self.done || self.eof || chunk.is_empty() {
            return;
        }
        if self.pos < self.chunk.len() {
            let mut joined = BytesMut::with_capacity(self.chunk.len() - self.pos + chunk.len());
            joined.extend_from_slice(&self.chunk[self.pos..]);
            joined.extend_from_slice(&chunk);
            self.base += self.pos as u64;
            self.chunk = joined.freeze();
        } else {
            self.base += self.chunk.len() as u64;
            self.chunk = chunk;
        }
        self.pos = 0;
    }

    /// Marks the end of the input: an unterminated last line becomes
    /// available to `next_*`.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Bytes of input up to the end of the last complete (terminated) line,
    /// terminator included. Everything before this offset has been handed out
    /// or skipped as blank.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The number of the last line read, 1-based (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The next complete line, undecoded, or `Ok(None)` when more input (or
    /// [`finish`](ResultsDecoder::finish)) is needed.
    ///
    /// # Errors
    ///
    /// [`Error::is_line_too_long`]: the line exceeds the maximum length.
    pub fn next_raw(&mut self) -> Result<Option<RawLine>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.skip_lf && self.pos < self.chunk.len() {
                self.skip_lf = false;
                if self.chunk[self.pos] == b'\n' {
                    self.pos += 1;
                    self.consumed = self.base + self.pos as u64;
                }
            }
            let rest = &self.chunk[self.pos..];
            let Some(i) = memchr::memchr2(b'\n', b'\r', rest) else {
                if self.partial.len() + rest.len() > self.max_line_len {
                    return Err(self.too_long());
                }
                if !rest.is_empty() {
                    self.partial.extend_from_slice(rest);
                    self.pos = self.chunk.len();
                }
                if self.eof {
                    self.done = true;
                    if !self.partial.is_empty() {
                        let bytes = self.partial.split().freeze();
                        self.line += 1;
                        if let Some(line) = self.emit(bytes, false) {
                            return Ok(Some(line));
                        }
                    }
                }
                return Ok(None);
            };
            if self.partial.len() + i > self.max_line_len {
                return Err(self.too_long());
            }
            let start = self.pos;
            let is_cr = rest[i] == b'\r';
            let bytes = if self.partial.is_empty() {
                self.chunk.slice(start..start + i)
            } else {
                self.partial.extend_from_slice(&rest[..i]);
                self.partial.split().freeze()
            };
            self.pos = start + i + 1;
            if is_cr {
                if self.pos < self.chunk.len() {
                    if self.chunk[self.pos] == b'\n' {
                        self.pos += 1;
                    }
                } else {
                    self.skip_lf = true;
                }
            }
            self.consumed = self.base + self.pos as u64;
            self.line += 1;
            if let Some(line) = self.emit(bytes, true) {
                return Ok(Some(line));
            }
        }
    }

    fn emit(&mut self, mut bytes: Bytes, terminated: bool) -> Option<RawLine> {
        if self.at_start {
            self.at_start = false;
            if bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes = bytes.slice(3..);
            }
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        Some(RawLine {
            number: self.line,
            bytes,
            terminated,
        })
    }

    fn too_long(&mut self) -> Error {
        // The custom_id starts the line: read it from the line's first bytes.
        let start: &[u8] = if self.partial.is_empty() {
            &self.chunk[self.pos..]
        } else {
            &self.partial
        };
        let custom_id = recover_custom_id(&start[..start.len().min(CUSTOM_ID_WINDOW)]);
        self.done = true;
        self.partial = BytesMut::new();
        let line = self.line + 1;
        let named = match &custom_id {
            Some(id) => format!(" (custom_id {id})"),
            None => String::new(),
        };
        let err = Error::new(
            Kind::LineTooLong,
            format!(
                "results line {line}{named} is longer than the limit of {} bytes",
                self.max_line_len
            ),
        )
        .with_line(line);
        match custom_id {
            Some(id) => err.with_custom_id(id),
            None => err,
        }
    }

    /// The next complete line, decoded, or `Ok(None)` when more input (or
    /// [`finish`](ResultsDecoder::finish)) is needed.
    ///
    /// # Errors
    ///
    /// As [`next_raw`](ResultsDecoder::next_raw) and [`RawLine::decode`].
    /// After an error the decoder is done.
    pub fn next_line(&mut self) -> Result<Option<BatchResultLine>> {
        match self.next_raw()? {
            None => Ok(None),
            Some(raw) => match raw.decode() {
                Ok(line) => Ok(Some(line)),
                Err(e) => {
                    self.done = true;
                    Err(e)
                }
            },
        }
    }
}

/// Reads `"custom_id": "..."` out of a line that failed to decode.
pub(crate) fn recover_custom_id(line: &[u8]) -> Option<String> {
    let at = memchr::memmem::find(line, b"\"custom_id\"")?;
    let mut rest = &line[at + 11..];
    let skip_ws = |r: &mut &[u8]| {
        while let [b' ' | b'\t' | b'\r' | b'\n', tail @ ..] = *r {
            *r = tail;
        }
    };
    skip_ws(&mut rest);
    rest = rest.strip_prefix(b":")?;
    skip_ws(&mut rest);
    rest = rest.strip_prefix(b"\"")?;
    let end = memchr::memchr(b'"', rest)?;
    let id = &rest[..end];
    (!id.is_empty() && id.len() <= 64 && id.iter().all(|&b| is_custom_id_byte(b)))
        .then(|| String::from_utf8_lossy(id).into_owned())
}

pub(crate) fn is_custom_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

// ===== impl ResultsReader =====

/// Reads batch results JSONL from any [`Read`] (a file, stdin) with a
/// [`ResultsDecoder`], in 64 KiB reads: memory stays bounded by the longest
/// line, whatever the file size.
///
/// It is an [`Iterator`] of decoded lines; after the first error it ends.
///
/// # Examples
///
/// ```
/// use messages_batch::ResultsReader;
///
/// let jsonl = "{\"custom_id\":\"a\",\"result\":{\"type\":\"canceled\"}}\n\n{\"custom_id\":\"b\",\"result\":{\"type\":\"expired\"}}";
/// let ids: Vec<String> = ResultsReader::new(jsonl.as_bytes())
///     .map(|r| r.map(|l| l.custom_id))
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(ids, ["a", "b"]);
/// ```
#[derive(Debug)]
pub struct ResultsReader<R> {
    reader: R,
    decoder: ResultsDecoder,
    read_size: usize,
    failed: bool,
}

impl<R: Read> ResultsReader<R> {
    /// A reader with the default [`ResultsDecoder`].
    pub fn new(reader: R) -> ResultsReader<R> {
        ResultsReader::with_decoder(reader, ResultsDecoder::new())
    }

    /// A reader with a configured decoder (for example a longer line limit).
    pub fn with_decoder(reader: R, decoder: ResultsDecoder) -> ResultsReader<R> {
        ResultsReader {
            reader,
            decoder,
            read_size: 64 * 1024,
            failed: false,
        }
    }

    /// The decoder, for [`ResultsDecoder::consumed`] and line numbers.
    pub fn decoder(&self) -> &ResultsDecoder {
        &self.decoder
    }

    /// The next line, undecoded.
    ///
    /// # Errors
    ///
    /// I/O errors ([`Error::is_io`]) and the decoder's errors.
    pub fn next_raw(&mut self) -> Result<Option<RawLine>> {
        if self.failed {
            return Ok(None);
        }
        loop {
            match self.decoder.next_raw() {
                Ok(Some(line)) => return Ok(Some(line)),
                Ok(None) if self.decoder.eof => return Ok(None),
                Ok(None) => {}
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            }
            let mut buf = BytesMut::zeroed(self.read_size);
            let n = loop {
                match self.reader.read(&mut buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.failed = true;
                        return Err(Error::new(Kind::Io, "reading results failed").with_source(e));
                    }
                }
            };
            if n == 0 {
                self.decoder.finish();
            } else {
                buf.truncate(n);
                self.decoder.push(buf.freeze());
            }
        }
    }
}

impl<R: Read> Iterator for ResultsReader<R> {
    type Item = Result<BatchResultLine>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_raw() {
            Ok(Some(raw)) => match raw.decode() {
                Ok(line) => Some(Ok(line)),
                Err(e) => {
                    self.failed = true;
                    Some(Err(e))
                }
            },
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
