//! A progress bar on stderr for batch waits and local runs.

use indicatif::{ProgressBar, ProgressStyle};
use messages::batch::Progress;

/// A bar of finished requests with the counts and an ETA. Hidden when
/// stderr is not a terminal.
pub(crate) fn bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(&format!(
        "{what} [{{bar:30}}] {{pos}}/{{len}} {{msg}} (elapsed {{elapsed}}, ETA {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Shows `p` on `bar`.
pub(crate) fn update(bar: &ProgressBar, p: &Progress) {
    bar.set_length(p.total);
    bar.set_position(p.finished());
    bar.set_message(format!(
        "{} ok, {} errored, {} canceled, {} expired",
        p.succeeded, p.errored, p.canceled, p.expired
    ));
}
