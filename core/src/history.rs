//! Histories (R12, T2): one line per changed field, with old and new values, when and who.
//! The library writes them itself, in the same change set as the change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actor::Actor;
use crate::ids::{EventId, HistoryId, ParticipantId, SegmentId, TaskId};

/// What a history line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// The event's settings.
    Event,
    /// A participant (R12).
    Participant(ParticipantId),
    /// A task (T2).
    Task(TaskId),
    /// A segment.
    Segment(SegmentId),
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Its id (time-ordered).
    pub id: HistoryId,
    /// The event.
    pub event: EventId,
    /// What changed.
    pub subject: Subject,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The field, as a dotted path (`profile.first_name`, `config.deadline`, `state`).
    pub field: String,
    /// The value before (`null` when there was none).
    pub old: Value,
    /// The value after (`null` when there is none).
    pub new: Value,
}

/// Whether the dotted path `field` is `prefix` or below it: `profile` covers
/// `profile.email`, not `profile_photo`.
pub(crate) fn is_under(field: &str, prefix: &str) -> bool {
    field
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Which lines of a history to read (R12): fields, a date range, and the keyset cursor.
/// The default reads every line, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilter {
    /// Only lines about these fields or below them: `profile` matches `profile.email`,
    /// `status.categories` matches itself (empty: every field).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Only changes at or after this time (to the millisecond).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Only changes at or before this time (to the millisecond).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// The next page: lines strictly older than this one (the last line of the page
    /// before). `None` starts from the newest.
    #[serde(default)]
    pub before: Option<HistoryId>,
}

impl HistoryFilter {
    /// Checks the filter: a sane range, and field paths that are dotted keys.
    pub fn validate(&self) -> crate::error::Result<()> {
        if let (Some(from), Some(until)) = (self.from, self.until)
            && from > until
        {
            return Err(crate::error::Error::invalid("from", "after `until`"));
        }
        if self.fields.len() > 100 {
            return Err(crate::error::Error::invalid("fields", "at most 100"));
        }
        for f in &self.fields {
            if f.is_empty() || f.len() > 300 || f.split('.').any(str::is_empty) {
                return Err(crate::error::Error::invalid(
                    "fields",
                    format!("`{f}` is not a dotted field path"),
                ));
            }
        }
        Ok(())
    }

    /// Where reading starts: the cursor, or just past `until`, whichever is lower.
    pub fn upper(&self) -> Option<HistoryId> {
        let until = self.until.map(HistoryId::after_millisecond);
        match (until, self.before) {
            (Some(u), Some(b)) => Some(u.min(b)),
            (u, b) => u.or(b),
        }
    }

    /// Whether a line (read newest first from [`upper`](Self::upper)) is older than the
    /// range: reading can stop there.
    pub fn is_past(&self, line: &HistoryEntry) -> bool {
        self.from
            .is_some_and(|from| line.id < HistoryId::lowest_at(from))
    }

    /// Whether `line` is about one of the fields.
    pub fn wants(&self, line: &HistoryEntry) -> bool {
        self.fields.is_empty() || self.fields.iter().any(|f| is_under(&line.field, f))
    }
}

/// The fields that differ between `old` and `new`, as (path, old, new), one per leaf:
/// objects are compared key by key, anything else as a whole. Keys are visited in order,
/// so the result is deterministic.
pub(crate) fn diff_fields(old: &Value, new: &Value) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    diff_into(String::new(), old, new, &mut out);
    out
}

fn diff_into(path: String, old: &Value, new: &Value, out: &mut Vec<(String, Value, Value)>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_into(
                    sub,
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (a, b) if a != b => out.push((path, a.clone(), b.clone())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn r12_diff_gives_one_line_per_changed_leaf() {
        let old =
            json!({"profile": {"first_name": "Ann", "company": "A", "email": null}, "x": [1]});
        let new =
            json!({"profile": {"first_name": "Anne", "company": "B", "email": "a@b.co"}, "x": [1]});
        let d = diff_fields(&old, &new);
        let fields: Vec<&str> = d.iter().map(|(f, _, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["profile.company", "profile.email", "profile.first_name"]
        );
        assert_eq!(d[2].1, json!("Ann"));
        assert_eq!(d[2].2, json!("Anne"));
        assert!(diff_fields(&old, &old).is_empty());
    }
}
