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

/// The fields that differ between `old` and `new`, as (path, old, new), one per leaf:
/// objects are compared key by key, anything else as a whole. Keys are visited in order,
/// so the result is deterministic.
pub fn diff_fields(old: &Value, new: &Value) -> Vec<(String, Value, Value)> {
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
