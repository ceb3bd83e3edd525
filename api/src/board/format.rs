//! How the board words numbers, times and statuses: short, human, and the same on every page.

use chrono::{DateTime, Utc};
use entity::{JobStatus, JobType, Lane, PortalStatus};
use sea_orm::ActiveEnum as _;

/// "3 s ago", "5 min ago", "2 h ago", "4 d ago".
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    if seconds < 0 {
        return "just now".to_owned();
    }
    format!("{} ago", duration_secs(seconds as f64))
}

/// "850 ms", "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h".
pub fn duration_secs(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "–".to_owned();
    }
    if seconds < 1.0 {
        return format!("{} ms", (seconds * 1000.0).round() as i64);
    }
    let s = seconds.round() as i64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// Thousands separated by commas: 12,345.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `2026-11-27 19:44:06 UTC`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The last 8 hex digits of a UUID: enough to tell runs apart on a page (a UUIDv7 starts with
/// its timestamp, so runs created together share their first digits).
pub fn short_id(id: &uuid::Uuid) -> String {
    let hex = id.simple().to_string();
    hex[hex.len() - 8..].to_owned()
}

pub fn job_status(status: JobStatus) -> String {
    status.to_value()
}

pub fn job_type(job_type: JobType) -> String {
    job_type.to_value()
}

pub fn lane(lane: Lane) -> String {
    lane.to_value()
}

/// "needs reconnect", "insufficient data".
pub fn portal_status(status: PortalStatus) -> String {
    status.to_value().replace('_', " ")
}

/// The CSS tone of a status badge.
pub fn job_tone(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Succeeded => "good",
        JobStatus::Failed | JobStatus::Dead => "bad",
        JobStatus::Retrying => "warn",
        JobStatus::Running => "busy",
        JobStatus::Cancelled => "muted",
        JobStatus::Pending | JobStatus::Queued => "info",
    }
}

pub fn portal_tone(status: PortalStatus) -> &'static str {
    match status {
        PortalStatus::Ready => "good",
        PortalStatus::Syncing | PortalStatus::Connected => "busy",
        PortalStatus::NeedsReconnect => "bad",
        PortalStatus::InsufficientData => "warn",
        PortalStatus::Disconnected => "muted",
    }
}

/// "done of total (pct%)" or just "done" when the total is unknown.
pub fn progress(done: i64, total: Option<i64>) -> String {
    match total {
        Some(total) if total > 0 => format!(
            "{} of {} ({:.0}%)",
            count(done),
            count(total),
            (done as f64 / total as f64 * 100.0).min(100.0)
        ),
        _ => count(done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_secs(0.25), "250 ms");
        assert_eq!(duration_secs(42.0), "42 s");
        assert_eq!(duration_secs(185.0), "3 min 5 s");
        assert_eq!(duration_secs(7_800.0), "2 h 10 min");
        assert_eq!(duration_secs(280_800.0), "3 d 6 h");
        assert_eq!(duration_secs(f64::NAN), "–");
        assert_eq!(duration_secs(-1.0), "–");
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-12_345), "-12,345");
    }

    #[test]
    fn progress_with_and_without_a_total() {
        assert_eq!(progress(250, Some(1_000)), "250 of 1,000 (25%)");
        assert_eq!(progress(7, None), "7");
        assert_eq!(progress(7, Some(0)), "7");
    }

    #[test]
    fn ago_is_relative_to_now() {
        let now = Utc::now();
        assert_eq!(ago(now - chrono::Duration::seconds(5), now), "5 s ago");
        assert_eq!(ago(now + chrono::Duration::seconds(5), now), "just now");
    }
}
