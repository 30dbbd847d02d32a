//! Deadlines in words, in the recipient's time zone and language (N9, N12): "jeudi 21
//! janvier 2027 à 18 h 00", and the short form a phone shows, "demain à 18 h 00". The
//! names of days and months come from chrono's locale data; the phrases around them are
//! the library's, for the languages it ships templates in (English and French).

use chrono::{DateTime, Datelike, Locale, Utc};
use chrono_tz::Tz;

/// How a language writes dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Words {
    /// "Thursday 21 January 2027 at 18:00".
    English,
    /// "jeudi 21 janvier 2027 à 18 h 00".
    French,
}

impl Words {
    /// The words of a language the templates are rendered in (English for any other).
    pub(crate) fn of(language: &str) -> Self {
        match language {
            "fr" => Self::French,
            _ => Self::English,
        }
    }

    fn locale(self) -> Locale {
        match self {
            Self::English => Locale::en_GB,
            Self::French => Locale::fr_FR,
        }
    }

    fn time(self, at: &DateTime<Tz>) -> String {
        match self {
            Self::English => at.format("%H:%M").to_string(),
            Self::French => at.format("%H h %M").to_string(),
        }
    }

    fn at(self) -> &'static str {
        match self {
            Self::English => "at",
            Self::French => "à",
        }
    }

    /// The day, date and time: "Thursday 21 January 2027 at 18:00", "jeudi 21 janvier 2027
    /// à 18 h 00".
    pub(crate) fn long(self, instant: DateTime<Utc>, zone: Tz) -> String {
        let at = instant.with_timezone(&zone);
        format!(
            "{} {} {}",
            at.format_localized("%A %-d %B %Y", self.locale()),
            self.at(),
            self.time(&at)
        )
    }

    /// The same, as close to `now` as it is: "today at 18:00", "tomorrow at 18:00",
    /// "yesterday at 18:00", "Thursday at 18:00" within the week ahead, "21 January at 18:00"
    /// this year, else with the year; in French "demain à 18 h 00", "jeudi à 18 h 00", "le 21
    /// janvier à 18 h 00" (so that "à faire avant" and "en retard depuis" read well before
    /// it).
    pub(crate) fn short(self, instant: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> String {
        let at = instant.with_timezone(&zone);
        let today = now.with_timezone(&zone).date_naive();
        let days = (at.date_naive() - today).num_days();
        let time = self.time(&at);
        let day = match (self, days) {
            (Self::English, 0) => "today".to_owned(),
            (Self::English, 1) => "tomorrow".to_owned(),
            (Self::English, -1) => "yesterday".to_owned(),
            (Self::French, 0) => "aujourd'hui".to_owned(),
            (Self::French, 1) => "demain".to_owned(),
            (Self::French, -1) => "hier".to_owned(),
            (_, 2..=6) => at.format_localized("%A", self.locale()).to_string(),
            (words, _) => {
                let date = if at.year() == today.year() {
                    at.format_localized("%-d %B", words.locale()).to_string()
                } else {
                    at.format_localized("%-d %B %Y", words.locale()).to_string()
                };
                match words {
                    Self::English => date,
                    Self::French => format!("le {date}"),
                }
            }
        };
        format!("{day} {} {time}", self.at())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    /// N12: the deadline in words, in the recipient's zone and language.
    #[test]
    fn n12_deadlines_read_in_words() {
        let paris = chrono_tz::Europe::Paris;
        let deadline = utc(2027, 1, 21, 17, 0);
        assert_eq!(
            Words::French.long(deadline, paris),
            "jeudi 21 janvier 2027 à 18 h 00"
        );
        assert_eq!(
            Words::English.long(deadline, paris),
            "Thursday 21 January 2027 at 18:00"
        );
        assert_eq!(
            Words::English.long(deadline, chrono_tz::America::New_York),
            "Thursday 21 January 2027 at 12:00"
        );
        let now = utc(2027, 1, 20, 9, 0);
        assert_eq!(
            Words::French.short(deadline, now, paris),
            "demain à 18 h 00"
        );
        assert_eq!(
            Words::English.short(deadline, now, paris),
            "tomorrow at 18:00"
        );
        let now = utc(2027, 1, 21, 9, 0);
        assert_eq!(Words::English.short(deadline, now, paris), "today at 18:00");
        assert_eq!(
            Words::French.short(deadline, now, paris),
            "aujourd'hui à 18 h 00"
        );
        let now = utc(2027, 1, 22, 9, 0);
        assert_eq!(Words::French.short(deadline, now, paris), "hier à 18 h 00");
        let now = utc(2027, 1, 17, 9, 0);
        assert_eq!(Words::French.short(deadline, now, paris), "jeudi à 18 h 00");
        let now = utc(2027, 1, 2, 9, 0);
        assert_eq!(
            Words::French.short(deadline, now, paris),
            "le 21 janvier à 18 h 00"
        );
        assert_eq!(
            Words::English.short(deadline, now, paris),
            "21 January at 18:00"
        );
        let now = utc(2026, 12, 20, 9, 0);
        assert_eq!(
            Words::French.short(deadline, now, paris),
            "le 21 janvier 2027 à 18 h 00"
        );
    }

    /// N9: days are counted in the recipient's zone, across midnight and daylight-saving
    /// changes.
    #[test]
    fn n9_days_are_the_recipients_across_midnight_and_daylight_saving() {
        let paris = chrono_tz::Europe::Paris;
        // 23:30 UTC on 30 March 2027 is 01:30 on the 31st in Paris (summer time since the
        // 28th): for a Parisian, at 08:00 on the 30th, that is tomorrow.
        let deadline = utc(2027, 3, 30, 23, 30);
        let now = utc(2027, 3, 30, 6, 0);
        assert_eq!(
            Words::English.short(deadline, now, paris),
            "tomorrow at 01:30"
        );
        assert_eq!(
            Words::English.short(deadline, now, Tz::UTC),
            "today at 23:30"
        );
        // The night the clocks go forward: 01:30 UTC is 03:30 in Paris.
        let deadline = utc(2027, 3, 28, 1, 30);
        assert_eq!(
            Words::French.long(deadline, paris),
            "dimanche 28 mars 2027 à 03 h 30"
        );
        // And back: 00:30 UTC on 31 October 2027 is 02:30 summer time, 01:30 UTC is 02:30
        // winter time; both read as they show on the recipient's clock.
        assert_eq!(
            Words::French.long(utc(2027, 10, 31, 0, 30), paris),
            "dimanche 31 octobre 2027 à 02 h 30"
        );
        assert_eq!(
            Words::French.long(utc(2027, 10, 31, 1, 30), paris),
            "dimanche 31 octobre 2027 à 02 h 30"
        );
    }
}
