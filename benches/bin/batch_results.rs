//! Writes about MB megabytes of realistic batch result lines
//! ([`benches::ResultLines`], the corpus of `benches/batch.rs`) to PATH and
//! prints the number of lines. `cargo xtask bench-batch` builds its results
//! file with it.
//!
//! ```text
//! cargo run --release -p benches --bin batch_results -- PATH MB
//! ```

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(mb)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: batch_results PATH MB");
        return ExitCode::from(2);
    };
    match write(path, mb * 1_000_000) {
        Ok(lines) => {
            println!("{lines}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("batch_results: writing {path}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(path: &str, target: u64) -> std::io::Result<usize> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut lines = benches::ResultLines::new();
    let mut line = Vec::new();
    let mut written = 0u64;
    while written < target {
        line.clear();
        lines.push_next(&mut line);
        file.write_all(&line)?;
        written += line.len() as u64;
    }
    file.flush()?;
    Ok(lines.count())
}
