//! Human output: aligned tables and short summaries (`--json` prints the
//! API's JSON instead), and stdout writes that end quietly on a closed pipe.

use std::fmt::Display;
use std::io::Write;

use messages::batch::Progress;
use messages::types::{MessageBatch, ModelInfo, ProcessingStatus};

use crate::error::CliError;

/// A failed write to stdout: a closed pipe (`msgs ... | head`) ends the
/// command quietly, anything else is an error.
pub(crate) fn stdout_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return CliError::new(0, "");
    }
    crate::output::write_error("to stdout", e)
}

/// Prints `text` and a newline to stdout.
pub(crate) fn line(text: impl Display) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

/// Lays out rows in columns two spaces apart; columns listed in `right`
/// are right-aligned (numbers). Trailing spaces are trimmed.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = w - cell.chars().count();
            if right.contains(&i) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

/// `ended: 5 of 5 requests done (4 succeeded, 1 errored)`.
pub(crate) fn counts(batch: &MessageBatch) -> String {
    let p = Progress::of_batch(batch);
    let mut parts = vec![format!("{} succeeded", p.succeeded)];
    for (n, what) in [
        (p.errored, "errored"),
        (p.canceled, "canceled"),
        (p.expired, "expired"),
        (p.processing, "processing"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!("{} requests: {}", p.total, parts.join(", "))
}

/// `msgs batch status`: one field per line.
pub(crate) fn batch_status(b: &MessageBatch) -> String {
    let mut rows = vec![
        ("id", b.id.clone()),
        ("status", b.processing_status.as_str().to_owned()),
        ("requests", counts(b)),
        ("created", b.created_at.clone()),
    ];
    if let Some(t) = &b.cancel_initiated_at {
        rows.push(("cancel asked", t.clone()));
    }
    match &b.ended_at {
        Some(t) => rows.push(("ended", t.clone())),
        None => rows.push(("expires", b.expires_at.clone())),
    }
    if let Some(u) = &b.results_url {
        rows.push(("results", u.clone()));
    }
    rows.iter()
        .map(|(k, v)| format!("{k:<12}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `msgs batch list`: a table.
pub(crate) fn batch_list(batches: &[MessageBatch]) -> String {
    if batches.is_empty() {
        return "no batches".to_owned();
    }
    let rows: Vec<Vec<String>> = batches
        .iter()
        .map(|b| {
            let p = Progress::of_batch(b);
            vec![
                b.id.clone(),
                b.processing_status.as_str().to_owned(),
                b.created_at.clone(),
                p.total.to_string(),
                p.succeeded.to_string(),
                p.errored.to_string(),
                (p.canceled + p.expired).to_string(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "STATUS",
            "CREATED",
            "REQUESTS",
            "SUCCEEDED",
            "ERRORED",
            "CANCELED/EXPIRED",
        ],
        &rows,
        &[3, 4, 5, 6],
    )
}

/// `msgs batch cancel`: what the cancel did.
pub(crate) fn canceled(b: &MessageBatch) -> String {
    let already_ended =
        b.processing_status == ProcessingStatus::Ended && b.cancel_initiated_at.is_none();
    if already_ended {
        return format!(
            "{} has already ended: nothing to cancel ({})",
            b.id,
            counts(b)
        );
    }
    format!("{}: {} ({})", b.id, b.processing_status.as_str(), counts(b))
}

/// `msgs models`: a table.
pub(crate) fn models(models: &[ModelInfo]) -> String {
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.id.clone(),
                m.display_name.clone(),
                m.created_at.get(..10).unwrap_or(&m.created_at).to_owned(),
            ]
        })
        .collect();
    table(&["ID", "NAME", "CREATED"], &rows, &[])
}
