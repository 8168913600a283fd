//! A progress bar on stderr for batch waits and local runs: one line that
//! fits 80 columns.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use messages::batch::Progress;

/// The widest line drawn.
pub(crate) const WIDTH: usize = 80;

/// A bar labelled `what` (cut to 12 characters). Hidden when stderr is not
/// a terminal.
pub(crate) fn bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style =
        ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(what.chars().take(12).collect::<String>());
    bar
}

/// Shows `p` on `bar`; `local` for a local run, which has no canceled or
/// expired requests to show.
pub(crate) fn update(bar: &ProgressBar, p: &Progress, local: bool) {
    bar.set_length(p.total);
    bar.set_position(p.finished());
    bar.set_message(render(&bar.prefix(), p, bar.elapsed(), local));
}

/// The line: `run [=======>            ] 120/400 118 ok, 2 errored 12s, ETA 28s`.
/// No ETA before the first request finished, none once all have; at most
/// [`WIDTH`] characters.
pub(crate) fn render(what: &str, p: &Progress, elapsed: Duration, local: bool) -> String {
    const BAR: usize = 20;
    let done = p.finished().min(p.total);
    let filled = if p.total == 0 {
        BAR
    } else {
        (done as u128 * BAR as u128 / u128::from(p.total)) as usize
    };
    let mut bar = "=".repeat(filled);
    if filled < BAR {
        bar.push(if done > 0 { '>' } else { ' ' });
        bar.push_str(&" ".repeat(BAR - filled - 1));
    }
    let mut counts = vec![
        format!("{} ok", p.succeeded),
        format!("{} errored", p.errored),
    ];
    if !local {
        if p.canceled > 0 {
            counts.push(format!("{} canceled", p.canceled));
        }
        if p.expired > 0 {
            counts.push(format!("{} expired", p.expired));
        }
    }
    let mut time = short(elapsed);
    if done > 0 && done < p.total {
        let left = elapsed.as_secs_f64() * (p.total - done) as f64 / done as f64;
        if let Ok(left) = Duration::try_from_secs_f64(left) {
            time.push_str(&format!(", ETA {}", short(left)));
        }
    }
    let head = format!("{what} [{bar}] {done}/{}", p.total);
    for line in [
        format!("{head} {} {time}", counts.join(", ")),
        format!("{head} {}", counts.join(", ")),
        head.clone(),
    ] {
        if line.chars().count() <= WIDTH {
            return line;
        }
    }
    head.chars().take(WIDTH).collect()
}

/// `45s`, `3m07s`, `2h05m`.
fn short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
