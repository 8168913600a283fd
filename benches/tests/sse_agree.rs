//! Every parser in the SSE benchmark hands out the same events (type and
//! data, in order) on every corpus and chunking, and as many as the corpus
//! generator wrote: the throughput comparison compares equal work.

use benches::sse_peers::{self, CHUNK_SIZES, PARSERS, VARIANTS};

fn events(parser: &str, chunks: &[bytes::Bytes]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let n = sse_peers::run(parser, chunks, |event, data| {
        out.push((event.to_owned(), data.to_owned()));
    });
    assert_eq!(n, out.len());
    out
}

#[test]
fn all_parsers_agree_on_every_corpus_and_chunking() {
    // Smaller corpora than the bench's (this runs unoptimized), but each
    // still spans many 16 KiB chunks and holds several 40 KiB events.
    for corpus in sse_peers::corpora(128 * 1024) {
        let reference = events("sse_core", &sse_peers::chunked(&corpus.bytes, 1 << 20));
        assert_eq!(reference.len(), corpus.events, "{}", corpus.name);
        assert!(
            reference.iter().all(|(_, data)| !data.is_empty()),
            "{}",
            corpus.name
        );
        for size in CHUNK_SIZES.into_iter().chain([7]) {
            let chunks = sse_peers::chunked(&corpus.bytes, size);
            for parser in PARSERS.into_iter().chain(VARIANTS) {
                let got = events(parser, &chunks);
                assert_eq!(
                    got.len(),
                    reference.len(),
                    "{parser} on {} at {size} B",
                    corpus.name
                );
                if let Some(i) = (0..got.len()).find(|&i| got[i] != reference[i]) {
                    panic!(
                        "{parser} on {} at {size} B differs at event {i}: {:?} against {:?}",
                        corpus.name, got[i], reference[i]
                    );
                }
            }
        }
    }
}

#[test]
fn corpora_have_the_promised_shapes() {
    let corpora = sse_peers::corpora(1 << 20);
    let by_name = |name: &str| corpora.iter().find(|c| c.name == name).unwrap();
    assert!(by_name("tiny").events > 90_000);
    let long = events(
        "sse_core",
        &sse_peers::chunked(&by_name("long").bytes, 1 << 20),
    );
    assert!(
        long.iter()
            .all(|(event, data)| event == "payload" && data.len() == 40 * 1024)
    );
    let cjk = &by_name("cjk").bytes;
    assert!(std::str::from_utf8(cjk).is_ok());
    // Over 40% of the bytes belong to non-ASCII characters.
    assert!(cjk.iter().filter(|b| !b.is_ascii()).count() * 10 > cjk.len() * 4);
    let crlf = &by_name("crlf").bytes;
    assert_eq!(
        crlf.windows(2).filter(|w| w == b"\r\n").count(),
        crlf.iter().filter(|&&b| b == b'\n').count()
    );
}
