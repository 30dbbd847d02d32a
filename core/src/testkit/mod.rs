//! The conformance suite every store runs on itself (feature `testkit`), so the stores
//! cannot drift apart (X4).
//!
//! Each check is a `pub async fn` taking a fresh store; [`conformance_tests!`] expands one
//! `#[tokio::test]` per check for a store constructor:
//!
//! ```
//! // In a store crate's `tests/conformance.rs`; here, the in-memory store.
//! punchlist::conformance_tests!(async { punchlist::MemoryStore::new() });
//! # fn main() {}
//! ```
//!
//! A store under test also implements [`DumpStore`](crate::store::DumpStore): a canonical dump of an event's whole
//! state, so a test can prove "a failed operation wrote nothing" by equality.

pub mod assert;
mod bounds;
mod checks;
mod checks_b;
mod checks_c;
mod checks_d;
mod checks_e;
mod checks_f;
mod fixture;
pub mod fuzz;
mod interleave;
mod notifier;
mod stress;

pub use bounds::*;
pub use checks::*;
pub use checks_b::*;
pub use checks_c::*;
pub use checks_d::*;
pub use checks_e::*;
pub use checks_f::*;
pub use fixture::Fixture;
pub use interleave::Interleaving;
pub use notifier::{Received, RecordingNotifier};
pub use stress::{StressReport, stress};

pub(crate) use crate::store::{DumpStore, EventDump};

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
        // Group A: tasks, facts, concurrency, isolation and errors (checks.rs).
        $crate::conformance_tests!(@each [$mode] $make;
            t1_task_fields_validated_and_nothing_written,
            t1_translation_falls_back_to_default_language,
            t2_only_published_tasks_are_seen,
            t2_lifecycle_rules,
            t2_edit_published_task_reevaluates_and_keeps_history,
            t2_tasks_switch_off_hides_section_and_sends_nothing,
            t3_manual_complete_and_undo,
            t3_automatic_task_not_tickable,
            t3_organizer_validates_and_invalidates,
            t4_automatic_task_follows_its_condition,
            t4_publish_counts_work_already_done,
            t4_fact_redelivered_and_reordered_converges,
            t4_facts_are_the_owners_when_assigned,
            x1_events_are_isolated,
            x2_other_participant_forbidden_other_event_not_found,
            x5_unknown_ids_are_not_found_and_write_nothing,
            x4_same_version_change_sets_one_conflict,
            x4_concurrent_completions_lose_nothing,
            x4_sweep_resumes_after_interruption,
            x4_event_config_follows_every_configuration_change,
            p3_owner_and_assignee_complete_and_undo,
            p4_team_is_one_level_deep,
            r12_participant_history_pages_skip_custom_fields,
        );
        // Group B: segments, the Tasks section, the record, batches, notices, the stream
        // (checks_b.rs).
        $crate::conformance_tests!(@each [$mode] $make;
            s1_segment_rules_and_unknown_custom_field,
            s2_tasks_follow_segment_changes_and_keep_progress,
            s2_segment_redefinition_reevaluates,
            s3_preview_counts_and_pages,
            p1_list_ordered_with_help_link_and_assignee,
            p2_progress_summary,
            p4_assign_reassign_take_back,
            p4_assign_only_to_own_collaborators,
            p5_deadline_and_overdue,
            r1_r4_record_validated_and_custom_fields_hidden,
            r12_three_edited_fields_three_history_lines,
            x3_batch_results_per_item_and_one_transaction,
            x3_collaborator_fact_and_link_are_one_fact,
            n1_publication_notice_only_to_segment,
            n2_assignment_always_notifies,
            b1_live_stream_reports_commits,
        );
        // Group C: the back office (checks_c.rs).
        $crate::conformance_tests!(@each [$mode] $make;
            t3_review_submit_reject_resubmit_accept,
            b3_figures_from_counters,
            b3_counters_equal_recount,
            b5_bulk_decisions_per_item,
            b1_every_cause_appears_once_in_order,
            b2_matrix_filters_sort_and_keyset_pages,
            b4_formula_cells_neutralised,
            b5_remind_now_one_and_all_incomplete,
            t5_templates_give_ready_drafts,
            t2_copy_tasks_from_last_edition,
            x2_back_office_is_for_the_events_organizers,
            t3_rejection_reaches_owner_and_holder,
            r1_r4_import_many_registrants,
        );
        // Group D: notifications (checks_d.rs).
        $crate::conformance_tests!(@each [$mode] $make;
            n5_claims_are_leased_and_come_back_after_the_lease,
            n5_concurrent_claims_never_share_an_entry,
            n5_backoff_dead_letters_and_requeue,
            n3_reminders_once_to_the_holder_until_done,
            n3_catch_up_and_moved_deadline,
            n3_racing_ticks_send_once,
            n7_reminders_close_together_are_grouped,
            n5_racing_dispatchers_send_each_entry_once_per_channel,
            n5_retries_backoff_dead_letters_and_gone_subscriptions,
            n5_a_dead_dispatchers_claims_are_sent_after_its_lease,
            n6_messages_in_the_recipients_language,
            n6_event_templates_override_and_are_checked_when_set,
        );
        // Group E: the participant's record (checks_e.rs).
        $crate::conformance_tests!(@each [$mode] $make;
            r5_host_actions_land_once_in_time_order_and_are_checked,
            r5_timeline_filters_by_kind_and_dates_and_pages,
            r5_timeline_access_and_csv_export,
            r5_deep_timeline_pages_cost_the_same_reads,
            r7_messages_thread_and_unread_counts,
            r8_sessions_agenda_and_the_session_condition,
            r9_meetings_on_both_records_and_in_the_agenda,
            r10_r11_partners_and_networking,
            r12_history_filters_and_csv_export,
            r13_online_status_from_pings,
            x6_export_and_erasure_leave_no_personal_value,
            x2_every_part_of_the_record_for_the_right_readers,
        );
        // Group F: hardening (checks_f.rs).
        $crate::conformance_tests!(@each [$mode] $make;
            x2_authorization_matrix,
            n3_a_collaborator_holding_a_task_twice_is_reminded_of_each,
            n3_a_deadline_moved_back_is_not_reminded_twice,
        );
        // Bounds, concurrent edits, the host's ids, the refusal policy (bounds.rs).
        $crate::conformance_tests!(@each [$mode] $make;
            x7_facts_from_the_future_are_refused,
            x3_host_reports_name_participants_by_the_hosts_id,
            x8_patches_change_their_fields_and_stale_saves_conflict,
            x7_structured_inputs_are_bounded_and_segments_deletable,
            x7_control_characters_are_refused_alike,
            x7_meetings_need_consent_and_are_bounded,
            x5_every_refusal_answers_its_kind,
        );
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
