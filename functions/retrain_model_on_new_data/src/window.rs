//! Debounce windows: fixed, back-to-back spans of time, counted from the Unix
//! epoch, so every invocation that sees an object from the same span agrees
//! on the window without talking to the others.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub seconds: i64,
}

impl Window {
    /// The window `time` falls in; a time exactly on a boundary starts the
    /// next window.
    pub fn containing(time: DateTime<Utc>, seconds: i64) -> Window {
        debug_assert!(seconds > 0);
        let epoch = time.timestamp();
        let start = epoch - epoch.rem_euclid(seconds);
        Window {
            // Only out of chrono's range for times near year -262144.
            start: DateTime::from_timestamp(start, 0).unwrap_or(time),
            seconds,
        }
    }

    /// `2026-11-23T09:00:00Z`: the window's identity in names and tags.
    pub fn start_text(&self) -> String {
        self.start.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// `20261123-090000`: for people reading a job name.
    pub fn label(&self) -> String {
        self.start.format("%Y%m%d-%H%M%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn times_in_one_window_share_it() {
        let first = Window::containing(at("2026-11-23T09:00:00Z"), 3600);
        let last = Window::containing(at("2026-11-23T09:59:59.999Z"), 3600);
        assert_eq!(first, last);
        assert_eq!(first.start_text(), "2026-11-23T09:00:00Z");
        assert_eq!(first.label(), "20261123-090000");
    }

    #[test]
    fn a_boundary_starts_the_next_window() {
        let before = Window::containing(at("2026-11-23T09:59:59.999Z"), 3600);
        let on = Window::containing(at("2026-11-23T10:00:00Z"), 3600);
        assert_ne!(before, on);
        assert_eq!(on.start_text(), "2026-11-23T10:00:00Z");
    }

    #[test]
    fn windows_need_not_divide_an_hour() {
        // 7 minutes: windows start at multiples of 420 s since the epoch.
        let window = Window::containing(at("2026-11-23T09:05:00Z"), 420);
        assert_eq!(window.start.timestamp() % 420, 0);
        assert!(window.start <= at("2026-11-23T09:05:00Z"));
        assert!(at("2026-11-23T09:05:00Z").timestamp() - window.start.timestamp() < 420);
    }

    #[test]
    fn times_before_the_epoch_round_down_too() {
        let window = Window::containing(at("1969-12-31T23:59:30Z"), 60);
        assert_eq!(window.start_text(), "1969-12-31T23:59:00Z");
    }
}
