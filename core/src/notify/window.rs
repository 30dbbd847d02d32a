//! When messages may reach people (N9): the event's send window, read on the recipient's
//! clock. Pure.
//!
//! A window is a daily stretch of wall-clock time in the recipient's zone (their own, else
//! the event's): `08:00–20:00`, or one that crosses midnight (`18:00–02:00`, *overnight*)
//! for an event that runs at night. A message due outside it waits for its next opening,
//! and the messages held for one person go out together then, as one. Kinds the event
//! lists as bypassing it (an assignment the day before the show, say) go out at once.
//!
//! Wall-clock time is what people live by, so the rule reads it on their clock; the two
//! days a year the clock jumps are handled as people expect: an opening inside the hour
//! that does not exist (02:30 on the night clocks go forward) happens at the first minute
//! that does (03:00), and an opening in the hour that happens twice happens the first time
//! (unless that one is already past). A message held after a closing waits for the next
//! day's opening, even where the clock going back brings some of the window's minutes
//! again that night.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::template::MessageKind;
use crate::error::{Error, Result};

/// The event's send window (N9): when, on the recipient's clock, messages may reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendWindow {
    /// When it opens, to the minute.
    pub opens: NaiveTime,
    /// When it closes, to the minute: later the same day, or, for an overnight window,
    /// earlier (the next day).
    pub closes: NaiveTime,
    /// Whether it crosses midnight (opens in the evening, closes the next morning).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overnight: bool,
    /// Kinds that go out at any hour (grouped reminders follow `reminder`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub bypass: BTreeSet<MessageKind>,
}

impl SendWindow {
    /// The shortest window: an hour, so that a dispatcher running every few minutes
    /// always finds it open.
    pub const MIN_LENGTH: Duration = Duration::hours(1);

    /// A window from `opens` to `closes` the same day (e.g. 08:00–20:00); the error names
    /// `closes` when it is not after `opens`.
    pub fn daily(opens: NaiveTime, closes: NaiveTime) -> Result<Self> {
        let w = Self {
            opens,
            closes,
            overnight: false,
            bypass: BTreeSet::new(),
        };
        w.validate("window")?;
        Ok(w)
    }

    /// A window from `opens` to `closes` the next day (e.g. 18:00–02:00); the error names
    /// `closes` when it is not before `opens`.
    pub fn overnight(opens: NaiveTime, closes: NaiveTime) -> Result<Self> {
        let w = Self {
            opens,
            closes,
            overnight: true,
            bypass: BTreeSet::new(),
        };
        w.validate("window")?;
        Ok(w)
    }

    /// The same window, with `kind` going out at any hour.
    pub fn bypassed_by(mut self, kind: MessageKind) -> Self {
        self.bypass.insert(kind.preference_kind());
        self
    }

    /// Whether messages of `kind` wait for it (those it lists as bypassing do not).
    pub fn holds(&self, kind: MessageKind) -> bool {
        !self.bypass.contains(&kind.preference_kind())
    }

    /// How long it stays open each day.
    pub fn length(&self) -> Duration {
        let span = self.closes.signed_duration_since(self.opens);
        if self.overnight {
            span + Duration::days(1)
        } else {
            span
        }
    }

    /// Checks it; `field` is where it sits (`notifications.window`), and the error names
    /// the part at fault (`notifications.window.closes`).
    pub fn validate(&self, field: &str) -> Result<()> {
        for (part, t) in [("opens", self.opens), ("closes", self.closes)] {
            if t.second() != 0 || t.nanosecond() != 0 {
                return Err(Error::invalid(
                    format!("{field}.{part}"),
                    "a window opens and closes on the minute",
                ));
            }
        }
        if !self.overnight && self.closes <= self.opens {
            return Err(Error::invalid(
                format!("{field}.closes"),
                "closes before it opens (a window across midnight is an overnight one)",
            ));
        }
        if self.overnight && self.closes >= self.opens {
            return Err(Error::invalid(
                format!("{field}.closes"),
                "an overnight window closes the next day, at a time before it opens",
            ));
        }
        if self.length() < Self::MIN_LENGTH {
            return Err(Error::invalid(
                field.to_owned(),
                "must stay open at least an hour a day",
            ));
        }
        for kind in &self.bypass {
            if *kind != kind.preference_kind() || *kind == MessageKind::Digest {
                return Err(Error::invalid(
                    format!("{field}.bypass.{}", kind.as_str()),
                    "grouped reminders follow the reminder's settings: choose `reminder`",
                ));
            }
        }
        Ok(())
    }

    /// Whether it is open at `at` on a clock in `zone`.
    pub fn is_open(&self, at: DateTime<Utc>, zone: Tz) -> bool {
        let t = at.with_timezone(&zone).time();
        if self.overnight {
            t >= self.opens || t < self.closes
        } else {
            self.opens <= t && t < self.closes
        }
    }

    /// When it next opens after `at` on a clock in `zone`; `None` when it is open at `at`.
    pub fn next_opening(&self, at: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        if self.is_open(at, zone) {
            return None;
        }
        let local = at.with_timezone(&zone);
        // Closed: before today's opening, or (same-day window) after today's closing.
        let mut day = if local.time() < self.opens {
            local.date_naive()
        } else {
            local.date_naive().succ_opt()?
        };
        // A window that lies wholly in the hour the clocks skip does not open that day.
        for _ in 0..3 {
            let opening = resolve(zone, day, self.opens, at)?.max(at + Duration::minutes(1));
            if self.is_open(opening, zone) {
                return Some(opening);
            }
            day = day.succ_opt()?;
        }
        None
    }
}

/// The instant a wall-clock time of `day` names in `zone`, after `after`: the first valid
/// minute when the time falls in the hour the clocks skip, the first of two when it falls
/// in the hour they repeat (the second if the first is not after `after`).
fn resolve(
    zone: Tz,
    day: NaiveDate,
    time: NaiveTime,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut local = day.and_time(time);
    // No zone skips more than a few hours (the largest change on record is a day, for a
    // date-line move; the loop is bounded either way).
    for _ in 0..=(26 * 60) {
        match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, second) => {
                let first = first.with_timezone(&Utc);
                return Some(if first > after {
                    first
                } else {
                    second.with_timezone(&Utc)
                });
            }
            LocalResult::None => local += Duration::minutes(1),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Offset;
    use proptest::prelude::*;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    /// N9: a window that closes before it opens, shorter than an hour or off the minute is
    /// refused, naming the part at fault.
    #[test]
    fn n9_bad_windows_are_refused_with_the_field() {
        let e = SendWindow::daily(hm(20, 0), hm(8, 0)).unwrap_err();
        assert_eq!(e.field(), Some("window.closes"));
        let e = SendWindow::daily(hm(8, 0), hm(8, 0)).unwrap_err();
        assert_eq!(e.field(), Some("window.closes"));
        let e = SendWindow::overnight(hm(8, 0), hm(20, 0)).unwrap_err();
        assert_eq!(e.field(), Some("window.closes"));
        let e = SendWindow::daily(hm(8, 0), hm(8, 30)).unwrap_err();
        assert_eq!(e.field(), Some("window"));
        let e = SendWindow::overnight(hm(23, 45), hm(0, 15)).unwrap_err();
        assert_eq!(e.field(), Some("window"));
        let e =
            SendWindow::daily(NaiveTime::from_hms_opt(8, 0, 30).unwrap(), hm(20, 0)).unwrap_err();
        assert_eq!(e.field(), Some("window.opens"));
        let mut w = SendWindow::daily(hm(8, 0), hm(20, 0)).unwrap();
        w.bypass.insert(MessageKind::Reminders);
        let e = w.validate("notifications.window").unwrap_err();
        assert_eq!(e.field(), Some("notifications.window.bypass.reminders"));
        assert!(SendWindow::overnight(hm(18, 0), hm(2, 0)).is_ok());
    }

    /// N9: 08:00–20:00 in Paris, winter (UTC+1).
    #[test]
    fn n9_a_day_window_opens_on_the_recipients_clock() {
        let w = SendWindow::daily(hm(8, 0), hm(20, 0)).unwrap();
        let paris = chrono_tz::Europe::Paris;
        // 03:00 in Paris: opens at 08:00 Paris = 07:00 UTC the same day.
        assert_eq!(
            w.next_opening(utc(2027, 1, 21, 2, 0), paris),
            Some(utc(2027, 1, 21, 7, 0))
        );
        // 12:00 Paris: open.
        assert_eq!(w.next_opening(utc(2027, 1, 21, 11, 0), paris), None);
        // 20:00 Paris sharp: closed until tomorrow 08:00.
        assert_eq!(
            w.next_opening(utc(2027, 1, 21, 19, 0), paris),
            Some(utc(2027, 1, 22, 7, 0))
        );
        // The same instant is 14:00 in New York: open there.
        assert!(w.is_open(utc(2027, 1, 21, 19, 0), chrono_tz::America::New_York));
    }

    /// N9: a window across midnight, 18:00–02:00.
    #[test]
    fn n9_an_overnight_window_crosses_midnight() {
        let w = SendWindow::overnight(hm(18, 0), hm(2, 0)).unwrap();
        let z = Tz::UTC;
        assert!(w.is_open(utc(2027, 1, 21, 23, 30), z));
        assert!(w.is_open(utc(2027, 1, 22, 1, 59), z));
        assert!(!w.is_open(utc(2027, 1, 22, 2, 0), z));
        assert_eq!(
            w.next_opening(utc(2027, 1, 22, 2, 0), z),
            Some(utc(2027, 1, 22, 18, 0))
        );
        assert_eq!(
            w.next_opening(utc(2027, 1, 22, 17, 59), z),
            Some(utc(2027, 1, 22, 18, 0))
        );
        assert_eq!(w.length(), Duration::hours(8));
    }

    /// N9: on the nights the clocks change in Paris (2027-03-28 02:00 → 03:00, 2027-10-31
    /// 03:00 → 02:00), an opening at 02:30 happens at 03:00, and the first time.
    #[test]
    fn n9_openings_across_daylight_saving_changes() {
        let paris = chrono_tz::Europe::Paris;
        let w = SendWindow::daily(hm(2, 30), hm(20, 0)).unwrap();
        // Spring: 01:00 UTC is 03:00 CEST, just after the jump; at 00:30 UTC (01:30 CET)
        // the opening would be 02:30, which does not exist: 03:00 CEST = 01:00 UTC.
        assert_eq!(
            w.next_opening(utc(2027, 3, 28, 0, 30), paris),
            Some(utc(2027, 3, 28, 1, 0))
        );
        // Autumn: 02:30 happens twice (00:30 UTC in CEST, 01:30 UTC in CET): the first.
        assert_eq!(
            w.next_opening(utc(2027, 10, 30, 23, 0), paris),
            Some(utc(2027, 10, 31, 0, 30))
        );
        // A window wholly inside the skipped hour does not open that night: the next one.
        let skipped = SendWindow::daily(hm(2, 0), hm(3, 0)).unwrap();
        assert_eq!(
            skipped.next_opening(utc(2027, 3, 27, 23, 0), paris),
            Some(utc(2027, 3, 29, 0, 0))
        );
        // A usual 08:00–20:00 window keeps 08:00 local on both sides of each change.
        let day = SendWindow::daily(hm(8, 0), hm(20, 0)).unwrap();
        assert_eq!(
            day.next_opening(utc(2027, 3, 27, 22, 0), paris),
            Some(utc(2027, 3, 28, 6, 0))
        );
        assert_eq!(
            day.next_opening(utc(2027, 10, 30, 22, 0), paris),
            Some(utc(2027, 10, 31, 7, 0))
        );
    }

    /// N9: kinds the event lets through go out at any hour.
    #[test]
    fn n9_bypassing_kinds_are_not_held() {
        let w = SendWindow::daily(hm(8, 0), hm(20, 0))
            .unwrap()
            .bypassed_by(MessageKind::Assignment)
            .bypassed_by(MessageKind::Reminders);
        assert!(!w.holds(MessageKind::Assignment));
        assert!(!w.holds(MessageKind::Reminder));
        assert!(w.holds(MessageKind::Publication));
        assert!(w.validate("w").is_ok());
    }

    fn zones() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec![
            chrono_tz::Europe::Paris,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Lord_Howe, // a half-hour change
            chrono_tz::Asia::Kolkata,
            chrono_tz::Pacific::Apia,
            Tz::UTC,
        ])
    }

    proptest! {
        /// N9: the next opening is after `at`, the window is open then, and it was closed
        /// all the way from `at` to it; an open window has no next opening.
        #[test]
        fn n9_next_opening_is_the_first_open_minute(
            opens in 0u32..24 * 60,
            length in 60u32..23 * 60,
            minutes in 0i64..3 * 366 * 24 * 60,
            zone in zones(),
        ) {
            let opens_at = hm(opens / 60, opens % 60);
            let closes_at = opens_at + Duration::minutes(i64::from(length));
            let w = if closes_at > opens_at {
                SendWindow::daily(opens_at, closes_at).unwrap()
            } else {
                SendWindow::overnight(opens_at, closes_at).unwrap()
            };
            let at = utc(2026, 1, 1, 0, 0) + Duration::minutes(minutes);
            match w.next_opening(at, zone) {
                None => prop_assert!(w.is_open(at, zone)),
                Some(next) => {
                    prop_assert!(next > at);
                    prop_assert!(next - at <= Duration::hours(49));
                    prop_assert!(w.is_open(next, zone), "closed at its opening {next}");
                    // Where the clock goes back in between, minutes after a closing may
                    // come again: the window counts as closed until its next opening.
                    let offset = |t: DateTime<Utc>| zone.offset_from_utc_datetime(&t.naive_utc()).fix();
                    let steps = (next - at).num_minutes();
                    let samples = if offset(at) == offset(next) { vec![0, steps / 3, steps / 2, steps - 1] } else { vec![0] };
                    for k in samples {
                        let t = at + Duration::minutes(k);
                        prop_assert!(t >= next || !w.is_open(t, zone), "open at {t} before {next}");
                    }
                }
            }
        }
    }
}
