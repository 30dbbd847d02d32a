//! The conformance suite every store runs on itself (feature `testkit`), so the stores
//! cannot drift apart (X4).
//!
//! Each check is a `pub async fn` taking a fresh store, and panics on failure; "writes
//! nothing" is proven by comparing the canonical dump before and after.
//! [`conformance_tests!`](crate::conformance_tests) expands one `#[tokio::test]` per check for a store constructor:
//!
//! ```
//! // In a store crate's `tests/conformance.rs`; here, the in-memory store.
//! punchlist::conformance_tests!(async { punchlist::MemoryStore::new() });
//! # fn main() {}
//! ```
//!
//! A store under test also implements [`crate::store::DumpStore`]: a canonical dump of an event's whole
//! state, so a test can prove "a failed operation wrote nothing" by equality.
//!
//! The checks are in `checks/`, one file per capability, named like the service's files:
//!
//! | file | proves |
//! |---|---|
//! | `tasks.rs` | T1, T2, T5: fields, translations, the lifecycle, templates, the copy |
//! | `completion.rs` | T3, T4: manual ticks, validation, review, automatic tasks |
//! | `segments.rs` | S1–S3: rules, tasks following a participant, the preview |
//! | `my_tasks.rs` | P1–P5: the Tasks section, progress, assignment, deadlines |
//! | `notices.rs` | N1, N2: publication and assignment notices |
//! | `reminders.rs` | N3, N7: reminders, once, grouped |
//! | `outbox.rs` | N5, N6: claims, leases, backoff, dead letters; the language of a message |
//! | `tracking.rs` | B1–B5: the live stream, the matrix, figures, exports, bulk actions |
//! | `participants.rs` | R1–R4: the record and the import |
//! | `history.rs` | R12: the history |
//! | `timeline.rs` | R5: the timeline |
//! | `agenda.rs` | R6, R8, R9: sessions and meetings |
//! | `messages.rs` | R7: messages |
//! | `networking.rs` | R10, R11: partners and interests |
//! | `presence.rs` | R13: the online status |
//! | `access.rs` | X1, X2: isolation, Forbidden and NotFound, the right readers |
//! | `authorization.rs` | X2: the authorization matrix |
//! | `host.rs` | X3: host events, batches, the host's own ids |
//! | `consistency.rs` | X4: concurrent writes and sweeps |
//! | `input.rs` | X5: bad input and the refusal policy |
//! | `privacy.rs` | X6: export and erasure |
//! | `bounds.rs` | X7, X8: bounds and concurrent edits |
//!
//! `checks/common.rs` holds the helpers several of them share. Beside `checks/`:
//! `fixture.rs` (a ready event), `assert.rs` (the shared assertions), `interleave.rs` (a
//! store wrapper whose concurrent calls really interleave), `notifier.rs` (a channel adapter
//! that records what it is asked to send), `stress.rs` and `fuzz.rs`.
//!
//! Every check is listed once, grouped by file, in one list (the hidden `__checks!`), which
//! [`conformance_tests!`](crate::conformance_tests) expands into tests; a unit test compares the list with the
//! `pub async fn`s written in `checks/`, so a check written but not listed (or listed but
//! not written) fails.

pub mod assert;
mod fixture;
pub mod fuzz;
mod interleave;
mod notifier;
mod stress;

/// The checks, one file per capability.
mod checks {
    mod common;

    pub(super) mod access;
    pub(super) mod agenda;
    pub(super) mod authorization;
    pub(super) mod bounds;
    pub(super) mod completion;
    pub(super) mod consistency;
    pub(super) mod history;
    pub(super) mod host;
    pub(super) mod input;
    pub(super) mod lanes;
    pub(super) mod messages;
    pub(super) mod my_tasks;
    pub(super) mod networking;
    pub(super) mod notices;
    pub(super) mod outbox;
    pub(super) mod participants;
    pub(super) mod preferences;
    pub(super) mod presence;
    pub(super) mod privacy;
    pub(super) mod reminders;
    pub(super) mod rendering;
    pub(super) mod segments;
    pub(super) mod tasks;
    pub(super) mod timeline;
    pub(super) mod tracking;
    pub(super) mod window;
}

pub use checks::{
    access::*, agenda::*, authorization::*, bounds::*, completion::*, consistency::*, history::*,
    host::*, input::*, lanes::*, messages::*, my_tasks::*, networking::*, notices::*, outbox::*,
    participants::*, preferences::*, presence::*, privacy::*, reminders::*, rendering::*,
    segments::*, tasks::*, timeline::*, tracking::*, window::*,
};
pub use fixture::Fixture;
pub use interleave::Interleaving;
pub use notifier::{Received, RecordingNotifier};
pub use stress::{StressReport, stress};

pub(crate) use crate::store::{DumpStore, EventDump};

/// Every conformance check, once, grouped by its file in `checks/`: passes
/// `file: [check, …]` for each file to the macro `$then`, after `$args`.
#[doc(hidden)]
#[macro_export]
macro_rules! __checks {
    ([$($then:tt)*] $($args:tt)*) => {
        $($then)*! {
            $($args)*
            tasks: [
                t1_task_fields_validated_and_nothing_written,
                t1_translation_falls_back_to_default_language,
                t2_only_published_tasks_are_seen,
                t2_lifecycle_rules,
                t2_edit_published_task_reevaluates_and_keeps_history,
                t2_tasks_switch_off_hides_section_and_sends_nothing,
                t2_copy_tasks_from_last_edition,
                t5_templates_give_ready_drafts,
                t2_every_row_keeps_its_resolved_deadline,
            ]
            completion: [
                t3_manual_complete_and_undo,
                t3_automatic_task_not_tickable,
                t3_organizer_validates_and_invalidates,
                t3_review_submit_reject_resubmit_accept,
                t3_rejection_reaches_owner_and_holder,
                t4_automatic_task_follows_its_condition,
                t4_publish_counts_work_already_done,
                t4_fact_redelivered_and_reordered_converges,
                t4_facts_are_the_owners_when_assigned,
            ]
            segments: [
                s1_segment_rules_and_unknown_custom_field,
                s2_tasks_follow_segment_changes_and_keep_progress,
                s2_segment_redefinition_reevaluates,
                s3_preview_counts_and_pages,
            ]
            my_tasks: [
                p1_list_ordered_with_help_link_and_assignee,
                p2_progress_summary,
                p3_owner_and_assignee_complete_and_undo,
                p4_team_is_one_level_deep,
                p4_assign_reassign_take_back,
                p4_assign_only_to_own_collaborators,
                p5_deadline_and_overdue,
            ]
            notices: [
                n1_publication_notice_only_to_segment,
                n2_assignment_always_notifies,
            ]
            reminders: [
                n3_reminders_once_to_the_holder_until_done,
                n3_catch_up_and_moved_deadline,
                n3_racing_ticks_send_once,
                n3_a_deadline_moved_back_is_not_reminded_twice,
                n3_a_collaborator_holding_a_task_twice_is_reminded_of_each,
                n7_reminders_close_together_are_grouped,
                n3_a_tick_reads_only_rows_that_can_be_due,
                n3_a_row_stored_without_its_next_reminder_gets_it_once,
            ]
            outbox: [
                n5_claims_are_leased_and_come_back_after_the_lease,
                n5_concurrent_claims_never_share_an_entry,
                n5_backoff_dead_letters_and_requeue,
                n5_racing_dispatchers_send_each_entry_once_per_channel,
                n5_retries_backoff_dead_letters_and_gone_subscriptions,
                n5_a_dead_dispatchers_claims_are_sent_after_its_lease,
            ]
            rendering: [
                n6_messages_in_the_recipients_language,
                n6_event_templates_override_and_are_checked_when_set,
            ]
            preferences: [
                n8_nothing_a_preference_forbids_is_ever_sent,
                n8_preferences_are_the_participants_and_in_their_history,
            ]
            lanes: [
                n11_claims_take_assignments_then_reminders_then_notices,
                n11_dispatchers_share_a_rate_limit,
                n11_sends_follow_the_lanes_across_events,
            ]
            window: [
                n9_held_messages_wait_for_the_window_and_go_out_together,
                n9_members_sent_together_retry_together,
                n9_a_claim_takes_what_waited_for_a_recipient_together,
                n9_bad_windows_are_refused_and_write_nothing,
            ]
            tracking: [
                b1_live_stream_reports_commits,
                b1_every_cause_appears_once_in_order,
                b2_matrix_filters_sort_and_keyset_pages,
                b2_task_rows_page_one_status_of_one_task,
                b3_figures_from_counters,
                b3_counters_equal_recount,
                b4_formula_cells_neutralised,
                b5_bulk_decisions_per_item,
                b5_remind_now_one_and_all_incomplete,
            ]
            participants: [
                r1_r4_record_validated_and_custom_fields_hidden,
                r1_r4_import_many_registrants,
            ]
            history: [
                r12_participant_history_pages_skip_custom_fields,
                r12_three_edited_fields_three_history_lines,
                r12_history_filters_and_csv_export,
            ]
            timeline: [
                r5_host_actions_land_once_in_time_order_and_are_checked,
                r5_timeline_filters_by_kind_and_dates_and_pages,
                r5_timeline_access_and_csv_export,
                r5_deep_timeline_pages_cost_the_same_reads,
            ]
            agenda: [
                r8_sessions_agenda_and_the_session_condition,
                r9_meetings_on_both_records_and_in_the_agenda,
            ]
            messages: [
                r7_messages_thread_and_unread_counts,
            ]
            networking: [
                r10_r11_partners_and_networking,
            ]
            presence: [
                r13_online_status_from_pings,
            ]
            access: [
                x1_events_are_isolated,
                x2_other_participant_forbidden_other_event_not_found,
                x2_back_office_is_for_the_events_organizers,
                x2_every_part_of_the_record_for_the_right_readers,
            ]
            authorization: [
                x2_authorization_matrix,
            ]
            host: [
                x3_batch_results_per_item_and_one_transaction,
                x3_collaborator_fact_and_link_are_one_fact,
                x3_host_reports_name_participants_by_the_hosts_id,
                x3_external_ids_resolve_together_within_their_event,
                t4_slices_hold_the_rows_of_the_tasks_asked,
                t4_facts_move_only_the_tasks_that_read_them,
            ]
            consistency: [
                x4_same_version_change_sets_one_conflict,
                x4_concurrent_completions_lose_nothing,
                x4_sweep_resumes_after_interruption,
                x4_participant_ids_page_the_event_in_id_order,
                x4_event_config_follows_every_configuration_change,
                x4_a_delta_applied_equals_the_whole_write,
            ]
            input: [
                x5_unknown_ids_are_not_found_and_write_nothing,
                x5_every_refusal_answers_its_kind,
            ]
            privacy: [
                x6_export_and_erasure_leave_no_personal_value,
            ]
            bounds: [
                x7_facts_from_the_future_are_refused,
                x7_structured_inputs_are_bounded_and_segments_deletable,
                x7_control_characters_are_refused_alike,
                x7_meetings_need_consent_and_are_bounded,
                x8_patches_change_their_fields_and_stale_saves_conflict,
            ]
        }
    };
}

/// Expands one `#[tokio::test]` per conformance check, each on a fresh store from
/// `$make` (an expression evaluating to a future of the store). With `optional: $make`,
/// the future gives an `Option` of the store, and a check whose store is `None` returns
/// at once (for stores that need a server the machine may not have; say why it skipped
/// when returning `None`).
#[macro_export]
macro_rules! conformance_tests {
    (optional: $make:expr) => {
        $crate::conformance_tests!(@all [optional] $make);
    };
    (@all [$mode:ident] $make:expr) => {
        $crate::__checks!([$crate::conformance_tests] @listed [$mode] $make;);
    };
    (@listed [$mode:ident] $make:expr; $($file:ident: [$($check:ident),* $(,)?])*) => {
        $(
            $crate::conformance_tests!(@each [$mode] $make; $($check),*);
        )*
    };
    (@each [required] $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store = $make.await;
                $crate::testkit::$check(store).await;
            }
        )*
    };
    (@each [optional] $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(store) = $make.await else {
                    return;
                };
                $crate::testkit::$check(store).await;
            }
        )*
    };
    ($make:expr) => {
        $crate::conformance_tests!(@all [required] $make);
    };
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The list as `(file, the file's source, its checks)`.
    macro_rules! listed {
        ($($file:ident: [$($check:ident),* $(,)?])*) => {
            &[$((
                stringify!($file),
                include_str!(concat!("checks/", stringify!($file), ".rs")),
                &[$(stringify!($check)),*],
            )),*]
        };
    }

    const LISTED: &[(&str, &str, &[&str])] = crate::__checks!([listed]);

    /// The names of the `pub async fn`s written in `source`.
    fn written(source: &str) -> BTreeSet<&str> {
        source
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("pub async fn "))
            .filter_map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
            })
            .collect()
    }

    /// The list and the files agree: every `pub async fn` of a file in `checks/` is listed
    /// under that file, every listed check is written there, and none is listed twice.
    #[test]
    fn every_check_written_is_listed_once_under_its_file() {
        let mut seen = BTreeSet::new();
        for (file, source, listed) in LISTED {
            for check in *listed {
                assert!(seen.insert(*check), "{check} is listed twice");
            }
            let listed: BTreeSet<&str> = listed.iter().copied().collect();
            let written = written(source);
            let unlisted: Vec<_> = written.difference(&listed).collect();
            let unwritten: Vec<_> = listed.difference(&written).collect();
            assert!(
                unlisted.is_empty() && unwritten.is_empty(),
                "checks/{file}.rs: written but not listed {unlisted:?}, \
                 listed but not written {unwritten:?}"
            );
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/testkit/checks");
        for entry in std::fs::read_dir(dir).expect("read checks/") {
            let path = entry.expect("an entry of checks/").path();
            let file = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if LISTED.iter().any(|(listed, _, _)| *listed == file) {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("read a file of checks/");
            assert!(
                written(&source).is_empty(),
                "{} holds checks but is not in the list",
                path.display()
            );
        }
    }
}
