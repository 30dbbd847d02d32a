//! X5 in CI: the stand-in for the fuzzer. Every fuzz entry point of
//! `punchlist::testkit::fuzz` (the same functions the `cargo fuzz` targets of `fuzz/` call)
//! gets arbitrary bytes, arbitrary strings, and mutations of its seeds; each entry point
//! panics when the library panics, answers with an untyped error, writes on a refused
//! operation, or breaks what its target checks on top (see the module's docs).
//!
//! A failing input found here or by the fuzzer becomes a plain `#[test]` at the end of this
//! file. Proptest's failure files are off: the regression tests are the record.

use proptest::prelude::*;
use proptest::test_runner::Config;
use punchlist::testkit::fuzz::{self, Outcome, TARGETS};
use serde_json::Value;

/// Arbitrary bytes: mostly refused by the parsers, which must not panic either.
const BYTES_CASES: u32 = 256;
/// Arbitrary strings, half of them from JSON's and Jinja's alphabet.
const STRING_CASES: u32 = 256;
/// Seeds with a few edits: these reach the service.
const MUTATION_CASES: u32 = 512;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn run(target: &str, data: &[u8]) -> Outcome {
    let target = fuzz::target(target).expect("a fuzz target of that name");
    (target.run)(data)
}

fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[\\[\\]{}\":,.0-9a-z_ \\\\\n%#=+@-]{0,96}",]
}

/// Pieces worth inserting: JSON's and Jinja's syntax, extreme numbers and dates, placeholder
/// ids, formula starts, control and non-ASCII characters.
const PIECES: &[&str] = &[
    "",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "null",
    "true",
    "-1",
    "0",
    "4294967296",
    "1e999",
    "-9223372036854775809",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"=1+1\"",
    "\"@x\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"-262143-01-01T00:00:00Z\"",
    "\"00000000-0000-0000-0000-000000000005\"",
    "\"ffffffff-ffff-ffff-ffff-ffffffffffff\"",
    "{% for x in tasks %}",
    "{% endfor %}",
    "{{",
    "}}",
    "{{ task.name }}",
    "{% if",
    "{% endif %}",
    "{#",
    "|upper",
    "\n---\n",
    "\n",
    "\t",
    "é",
    "\u{202e}",
    "\u{0}",
];

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, &'static str),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Edit::Replace(at, c)),
        (any::<usize>(), proptest::sample::select(PIECES)).prop_map(|(at, p)| Edit::Insert(at, p)),
        (any::<usize>(), 1usize..12).prop_map(|(at, n)| Edit::Delete(at, n)),
    ]
}

/// Applies the edits to a seed, on character boundaries.
fn mutate(seed: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for e in edits {
        let len = chars.len().max(1);
        match *e {
            Edit::Replace(at, c) if !chars.is_empty() => chars[at % len] = c,
            Edit::Replace(..) => {}
            Edit::Insert(at, piece) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, piece.chars());
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn seeds(target: &str) -> &'static [&'static str] {
    fuzz::target(target).expect("a fuzz target").seeds
}

/// An edit of a JSON seed's tree, so that most mutants still parse and reach the service:
/// nodes are numbered in pre-order (modulo their count).
#[derive(Debug, Clone)]
enum JsonEdit {
    /// Replace a node.
    Set(usize, Value),
    /// Edit a string's (or a number's) text.
    Text(usize, Vec<Edit>),
    /// Remove a member of an object or an element of an array.
    Remove(usize, usize),
    /// Repeat an element of an array.
    Repeat(usize, usize),
    /// Wrap a node in an array, or in an object under a key.
    Wrap(usize, Option<&'static str>),
    /// Replace a node by a copy of another node of the same tree (a condition where a
    /// sub-condition was, an id where a name was…).
    Copy(usize, usize),
}

/// Keys the library's JSON uses, to wrap nodes under.
const KEYS: &[&str] = &[
    "kind",
    "rule",
    "rules",
    "conditions",
    "condition",
    "members",
    "value",
];

fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any_string().prop_map(Value::from),
        proptest::sample::select(PIECES)
            .prop_map(|p| { serde_json::from_str(p).unwrap_or_else(|_| Value::from(p)) }),
        Just(Value::Array(Vec::new())),
        Just(Value::Object(serde_json::Map::new())),
    ]
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        (any::<usize>(), json_value()).prop_map(|(at, v)| JsonEdit::Set(at, v)),
        (any::<usize>(), proptest::collection::vec(edit(), 1..4))
            .prop_map(|(at, e)| JsonEdit::Text(at, e)),
        (any::<usize>(), any::<usize>()).prop_map(|(at, i)| JsonEdit::Remove(at, i)),
        (any::<usize>(), any::<usize>()).prop_map(|(at, i)| JsonEdit::Repeat(at, i)),
        (
            any::<usize>(),
            proptest::option::of(proptest::sample::select(KEYS))
        )
            .prop_map(|(at, k)| JsonEdit::Wrap(at, k)),
        (any::<usize>(), any::<usize>()).prop_map(|(at, from)| JsonEdit::Copy(at, from)),
    ]
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// The `n`-th node in pre-order.
fn nth<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
    if *n == 0 {
        return Some(v);
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().find_map(|x| nth(x, n)),
        Value::Object(o) => o.values_mut().find_map(|x| nth(x, n)),
        _ => None,
    }
}

/// Applies the edits to a JSON seed's tree.
fn mutate_json(seed: &Value, edits: &[JsonEdit]) -> Value {
    let mut root = seed.clone();
    for e in edits {
        let at = match e {
            JsonEdit::Set(at, _)
            | JsonEdit::Text(at, _)
            | JsonEdit::Remove(at, _)
            | JsonEdit::Repeat(at, _)
            | JsonEdit::Wrap(at, _)
            | JsonEdit::Copy(at, _) => *at,
        };
        let copied = match e {
            JsonEdit::Copy(_, from) => {
                let mut n = from % count(&root);
                nth(&mut root, &mut n).map(|v| v.clone())
            }
            _ => None,
        };
        let mut n = at % count(&root);
        let Some(node) = nth(&mut root, &mut n) else {
            continue;
        };
        match e {
            JsonEdit::Set(_, v) => *node = v.clone(),
            JsonEdit::Text(_, edits) => match node {
                Value::String(s) => *s = mutate(s, edits),
                Value::Number(x) => {
                    let text = mutate(&x.to_string(), edits);
                    *node = serde_json::from_str(&text).unwrap_or(Value::String(text));
                }
                _ => {}
            },
            JsonEdit::Remove(_, i) => match node {
                Value::Array(a) if !a.is_empty() => {
                    a.remove(i % a.len());
                }
                Value::Object(o) if !o.is_empty() => {
                    let key = o.keys().nth(i % o.len()).cloned().unwrap_or_default();
                    o.remove(&key);
                }
                _ => {}
            },
            JsonEdit::Repeat(_, i) => {
                if let Value::Array(a) = node
                    && !a.is_empty()
                {
                    a.push(a[i % a.len()].clone());
                }
            }
            JsonEdit::Wrap(_, key) => {
                let inner = node.take();
                *node = match key {
                    None => Value::Array(vec![inner]),
                    Some(k) => Value::Object([(k.to_string(), inner)].into_iter().collect()),
                };
            }
            JsonEdit::Copy(..) => {
                if let Some(v) = copied {
                    *node = v;
                }
            }
        }
    }
    root
}

/// A seed with a few edits: of its JSON tree when it is JSON (then, one time in four, of
/// its text as well), else of its text.
fn mutant(seed: &str, json_edits: &[JsonEdit], text_edits: &[Edit], also_text: bool) -> String {
    match serde_json::from_str::<Value>(seed) {
        Ok(tree) => {
            let text = mutate_json(&tree, json_edits).to_string();
            if also_text {
                mutate(&text, text_edits)
            } else {
                text
            }
        }
        Err(_) => mutate(seed, text_edits),
    }
}

macro_rules! x5_target {
    ($target:literal, $bytes:ident, $strings:ident, $mutations:ident) => {
        proptest! {
            #![proptest_config(config(BYTES_CASES))]
            #[test]
            fn $bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
                run($target, &data);
            }
        }
        proptest! {
            #![proptest_config(config(STRING_CASES))]
            #[test]
            fn $strings(text in any_string()) {
                run($target, text.as_bytes());
            }
        }
        proptest! {
            #![proptest_config(config(MUTATION_CASES))]
            #[test]
            fn $mutations(
                which in any::<proptest::sample::Index>(),
                json_edits in proptest::collection::vec(json_edit(), 1..4),
                text_edits in proptest::collection::vec(edit(), 1..6),
                also_text in proptest::bool::weighted(0.25),
            ) {
                let seeds = seeds($target);
                let seed = seeds[which.index(seeds.len())];
                run($target, mutant(seed, &json_edits, &text_edits, also_text).as_bytes());
            }
        }
    };
}

x5_target!(
    "task_config",
    x5_task_config_from_any_bytes,
    x5_task_config_from_any_string,
    x5_task_config_from_mutated_seeds
);
x5_target!(
    "segment_rule",
    x5_segment_rule_from_any_bytes,
    x5_segment_rule_from_any_string,
    x5_segment_rule_from_mutated_seeds
);
x5_target!(
    "host_events",
    x5_host_events_from_any_bytes,
    x5_host_events_from_any_string,
    x5_host_events_from_mutated_seeds
);
x5_target!(
    "host_actions",
    x5_host_actions_from_any_bytes,
    x5_host_actions_from_any_string,
    x5_host_actions_from_mutated_seeds
);
x5_target!(
    "event_templates",
    x5_event_templates_from_any_bytes,
    x5_event_templates_from_any_string,
    x5_event_templates_from_mutated_seeds
);
x5_target!(
    "csv_filters",
    x5_csv_filters_from_any_bytes,
    x5_csv_filters_from_any_string,
    x5_csv_filters_from_mutated_seeds
);
x5_target!(
    "participant_data",
    x5_participant_data_from_any_bytes,
    x5_participant_data_from_any_string,
    x5_participant_data_from_mutated_seeds
);

/// The seeds reach the service and are accepted: the mutations above start from inputs
/// that exercise the real paths, and a change of the library that makes a seed refused is
/// seen here rather than silently weakening the fuzzing.
#[test]
fn x5_every_seed_is_accepted() {
    for target in TARGETS {
        assert!(!target.seeds.is_empty(), "{} has no seed", target.name);
        for (i, seed) in target.seeds.iter().enumerate() {
            assert_eq!(
                (target.run)(seed.as_bytes()),
                Outcome::Accepted,
                "seed {i} of {}",
                target.name
            );
        }
    }
}

/// Every target is in the seed table the fuzz crate writes its corpus from.
#[test]
fn x5_every_target_has_seeds_in_the_corpus_table() {
    let names: Vec<&str> = fuzz::SEEDS.iter().map(|(name, _)| *name).collect();
    let targets: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(names, targets);
}

// ----- regressions: inputs the fuzzer or the properties above found -------------------

/// Found by the fuzzer's question "no hang": an organizer's template that compiles but
/// loops for hours (here 10^10 iterations) or builds gigabytes stalled the dispatcher of
/// every event. Rendering an organizer's template now has a bounded budget of work
/// (minijinja's fuel): the message becomes a dead letter in moments, and its error names
/// the template and the reason (it said "storage error" before).
#[test]
fn x5_a_runaway_template_fails_to_render_instead_of_hanging() {
    use punchlist::testkit::{Fixture, RecordingNotifier};
    use punchlist::*;

    let runaway = [
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "{% for a in range(100000) %}{{ 'x' * 100000000 }}{% endfor %}",
    ];
    for source in runaway {
        fuzz::event_templates(format!("nudge.en.body\n{source}").as_bytes());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let f = Fixture::new(MemoryStore::new()).await;
            let ann = f.participant("ann", &[]).await;
            let task = f.manual_task("Book your stand", None).await;
            let mut settings = f
                .service
                .event(&f.organizer, f.event)
                .get()
                .await
                .unwrap()
                .settings;
            settings
                .templates
                .insert("nudge.en.body".into(), source.into());
            f.service
                .update_event(&f.organizer, f.event, settings)
                .await
                .expect("the template compiles, so it is accepted");
            f.service
                .remind_now(
                    &f.organizer,
                    f.event,
                    task.id,
                    RemindTarget::Participant(ann.id),
                )
                .await
                .unwrap();
            let email = RecordingNotifier::new(Channel::Email);
            let dispatcher = Dispatcher::new(f.service.clone()).with_notifier(email.clone());
            let report = dispatcher.dispatch_once().await.unwrap();
            assert_eq!((report.claimed, report.dead), (1, 1), "{report:?}");
            assert!(email.received().is_empty());
            let dead = f
                .service
                .dead_letters(&f.organizer, f.event, None, 10)
                .await
                .unwrap();
            let why = dead[0].last_error.as_deref().unwrap_or_default();
            assert!(
                why.contains("rendering failed")
                    && why.contains("templates.nudge.en.body")
                    && why.contains("fuel"),
                "{why}"
            );
        });
    }
}
