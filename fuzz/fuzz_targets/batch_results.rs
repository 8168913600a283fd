//! The batch results decoder and the checkpoint reader on arbitrary bytes:
//! never a panic, never a line longer than the limit, and the same lines
//! and the same error whether the bytes come in chunks (a download) or from
//! a `Read` (a checkpoint file).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use messages_batch::{ResultsDecoder, ResultsReader};

/// Each line's bytes, and whether reading ended in an error (decoding each
/// line is exercised too; its errors do not stop the reading).
fn check_line(line: &messages_batch::RawLine, max: usize, lines: &mut Vec<Bytes>) {
    assert!(line.bytes().len() <= max, "a line over the limit was handed out");
    if let Err(e) = line.decode() {
        assert_eq!(e.line(), Some(line.number()));
    }
    lines.push(line.bytes().clone());
}

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the line limit and the chunk size.
    let [limit, split, input @ ..] = data else {
        return;
    };
    let max = 1 + usize::from(*limit) * 4;
    let split = usize::from(*split).max(1);

    let mut decoder = ResultsDecoder::new().max_line_len(max);
    let mut chunked = Vec::new();
    let mut chunked_failed = false;
    let mut chunks = input.chunks(split);
    loop {
        let more = chunks.next();
        match more {
            Some(c) => decoder.push(Bytes::copy_from_slice(c)),
            None => decoder.finish(),
        }
        loop {
            match decoder.next_raw() {
                Ok(Some(line)) => check_line(&line, max, &mut chunked),
                Ok(None) => break,
                Err(e) => {
                    assert!(e.is_line_too_long());
                    chunked_failed = true;
                    break;
                }
            }
        }
        if more.is_none() || chunked_failed {
            break;
        }
    }

    let mut reader = ResultsReader::with_decoder(input, ResultsDecoder::new().max_line_len(max));
    let mut read = Vec::new();
    let mut read_failed = false;
    loop {
        match reader.next_raw() {
            Ok(Some(line)) => check_line(&line, max, &mut read),
            Ok(None) => break,
            Err(e) => {
                assert!(e.is_line_too_long());
                read_failed = true;
                break;
            }
        }
    }
    assert_eq!(chunked, read);
    assert_eq!(chunked_failed, read_failed);
});
