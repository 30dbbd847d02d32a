//! Small validated values shared by the domain types: languages, bounded texts, URLs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A language tag (`en`, `fr`, `pt-BR`): letters, then `-`-separated letters or digits.
/// Stored lower-case for the primary subtag, as given for the rest.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    /// Validates a language tag.
    pub fn new(tag: impl AsRef<str>) -> Result<Self> {
        let tag = tag.as_ref();
        let mut parts = tag.split('-');
        let primary = parts.next().unwrap_or_default();
        let ok_primary =
            (2..=8).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
        let ok_rest = parts
            .clone()
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if !ok_primary || !ok_rest {
            return Err(Error::invalid(
                "language",
                format!("{tag:?} is not a language tag such as \"en\" or \"pt-BR\""),
            ));
        }
        let mut out = primary.to_ascii_lowercase();
        for p in parts {
            out.push('-');
            out.push_str(p);
        }
        Ok(Self(out))
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Language {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}
impl From<Language> for String {
    fn from(l: Language) -> String {
        l.0
    }
}
impl FromStr for Language {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}
impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Language({})", self.0)
    }
}

/// Refuses control characters (X7): NUL and the other C0 and C1 controls, which no store
/// keeps alike (PostgreSQL's `jsonb` cannot hold NUL) and no reader can see. A text of
/// several lines (`multiline`) keeps tab, line feed and carriage return (browsers send a
/// text area's line breaks as CR LF).
pub(crate) fn no_controls(field: &str, value: &str, multiline: bool) -> Result<()> {
    let allowed = |c: char| multiline && matches!(c, '\t' | '\n' | '\r');
    if let Some(c) = value.chars().find(|&c| c.is_control() && !allowed(c)) {
        let what = if multiline {
            "control characters (only tab and line breaks are allowed)"
        } else {
            "control characters or line breaks"
        };
        return Err(Error::invalid(
            field.to_owned(),
            format!("must not contain {what}; found U+{:04X}", u32::from(c)),
        ));
    }
    Ok(())
}

fn check_length(field: &str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n > max {
        return Err(Error::invalid(
            field.to_owned(),
            format!("must be at most {max} characters (got {n})"),
        ));
    }
    Ok(())
}

fn required(field: &str, value: &str, max: usize, multiline: bool) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field.to_owned(), "must not be empty"));
    }
    check_length(field, trimmed, max)?;
    no_controls(field, trimmed, multiline)?;
    Ok(trimmed.to_owned())
}

/// Checks a required one-line text: trimmed, between 1 and `max` characters, no control
/// characters. Returns it trimmed.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> Result<String> {
    required(field, value, max, false)
}

/// Checks a required text of several lines: as [`required_text`], keeping tab and line
/// breaks.
pub(crate) fn required_lines(field: &str, value: &str, max: usize) -> Result<String> {
    required(field, value, max, true)
}

/// Checks an optional one-line text: at most `max` characters, no control characters.
pub(crate) fn bounded_text(field: &str, value: &str, max: usize) -> Result<()> {
    check_length(field, value, max)?;
    no_controls(field, value, false)
}

/// Checks an optional text of several lines: at most `max` characters, no control
/// characters but tab and line breaks.
pub(crate) fn bounded_lines(field: &str, value: &str, max: usize) -> Result<()> {
    check_length(field, value, max)?;
    no_controls(field, value, true)
}

/// Checks a web address: an absolute `http` or `https` URL with a host and no white space.
pub(crate) fn web_url(field: &str, value: &str) -> Result<()> {
    bounded_text(field, value, 2048)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| {
            Error::invalid(field.to_owned(), "must be an http:// or https:// address")
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            field.to_owned(),
            "must be an absolute address with a host and no white space",
        ));
    }
    Ok(())
}

/// Checks an email address: at most 254 characters, a local part, `@` and a domain with
/// a dot, no white space.
pub(crate) fn email_address(field: &str, email: &str) -> Result<()> {
    bounded_text(field, email, 254)?;
    let (local, domain) = email
        .rsplit_once('@')
        .ok_or_else(|| Error::invalid(field.to_owned(), "must contain '@'"))?;
    if local.is_empty()
        || domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid(
            field.to_owned(),
            format!("{email:?} is not an email address"),
        ));
    }
    Ok(())
}

/// Checks an address a message is sent from or replied to: as [`email_address`], and
/// written the plain way every mail library reads (RFC 5322 `dot-atom`: ASCII letters,
/// digits and ``!#$%&'*+-/=?^_`{|}~`` in dot-separated runs before the `@`, a domain of
/// letters, digits and hyphens), so that a sender the event sets never fails at send time.
pub(crate) fn sender_address(field: &str, email: &str) -> Result<()> {
    email_address(field, email)?;
    let (local, domain) = email.rsplit_once('@').unwrap_or_default();
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = |s: &str, ok: &dyn Fn(char) -> bool| {
        s.split('.')
            .all(|part| !part.is_empty() && part.chars().all(ok))
    };
    let label = |c: char| c.is_ascii_alphanumeric() || c == '-';
    if !dot_atom(local, &atext) || !dot_atom(domain, &label) {
        return Err(Error::invalid(
            field.to_owned(),
            format!(
                "{email:?} is not a plain address (letters, digits and . _ + - before the @, a domain name after it)"
            ),
        ));
    }
    Ok(())
}

/// Checks a key chosen by the organizer or the host (a custom field, a form, a field):
/// 1 to 100 characters among letters, digits, `_`, `-` and `.`.
pub(crate) fn key(field: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 100 {
        return Err(Error::invalid(
            field.to_owned(),
            "must be 1 to 100 characters long",
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Error::invalid(
            field.to_owned(),
            format!("{value:?} may only contain letters, digits, '_', '-' and '.'"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        assert_eq!(Language::new("FR").unwrap().as_str(), "fr");
        assert_eq!(Language::new("pt-BR").unwrap().as_str(), "pt-BR");
        assert!(Language::new("").is_err());
        assert!(Language::new("f").is_err());
        assert!(Language::new("en_US").is_err());
        assert!(Language::new("en-").is_err());
    }

    #[test]
    fn urls() {
        assert!(web_url("u", "https://example.org/a?b#c").is_ok());
        assert!(web_url("u", "http://x").is_ok());
        assert!(web_url("u", "javascript:alert(1)").is_err());
        assert!(web_url("u", "https://").is_err());
        assert!(web_url("u", "https://a b").is_err());
        assert!(web_url("u", "ftp://x").is_err());
    }

    #[test]
    fn texts() {
        assert_eq!(required_text("n", "  a ", 3).unwrap(), "a");
        assert!(required_text("n", "   ", 3).is_err());
        assert!(required_text("n", "abcd", 3).is_err());
        assert!(required_text("n", "éèà", 3).is_ok());
        assert!(key("k", "photo_url").is_ok());
        assert!(key("k", "a b").is_err());
    }

    #[test]
    fn x7_control_characters_refused() {
        for bad in ["a\0b", "a\u{1b}[31m", "a\u{7f}b", "a\u{85}b"] {
            assert!(bounded_text("t", bad, 100).is_err(), "{bad:?}");
            assert!(bounded_lines("t", bad, 100).is_err(), "{bad:?}");
            assert!(required_text("t", bad, 100).is_err(), "{bad:?}");
        }
        let two_lines = "first\r\nsecond\tend";
        assert_eq!(
            bounded_text("t", two_lines, 100).unwrap_err().field(),
            Some("t")
        );
        assert!(bounded_lines("t", two_lines, 100).is_ok());
        assert_eq!(required_lines("t", " a\nb ", 100).unwrap(), "a\nb");
        assert!(required_text("t", "a\nb", 100).is_err());
    }
}
