//! Which notices rows get (N1): a publication notice once per row. Pure: over the
//! participants' rows and the tasks.

use std::collections::BTreeMap;

use super::Progress;
use crate::ids::TaskId;
use crate::notify::Notification;
use crate::task::Task;

/// The tasks of a publication whose participants get a notice (N1): those set to notify
/// on publishing, in the order given.
pub(crate) fn notified_on_publish(tasks: &[Task]) -> Vec<TaskId> {
    tasks
        .iter()
        .filter(|t| t.config.notify_on_publish)
        .map(|t| t.id)
        .collect()
}

/// The publication notice one participant gets for `tasks` (N1), all in one (N7): every
/// task of theirs targeting them whose notice has not gone out yet, whoever created the
/// row (another operation may have reached them before the sweep did). Marks those rows
/// as noticed, so each notice goes out once. `None` when nothing is left to tell.
pub(crate) fn publication_notice(
    rows: &mut BTreeMap<TaskId, Progress>,
    tasks: &[TaskId],
) -> Option<Notification> {
    let mut told = Vec::new();
    for task in tasks {
        if let Some(row) = rows.get_mut(task)
            && row.targeted
            && !row.noticed
        {
            row.noticed = true;
            told.push(*task);
        }
    }
    (!told.is_empty()).then_some(Notification::Publication { tasks: told })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, ParticipantId};
    use crate::task::{HelpLink, TaskConfig, TaskState};
    use crate::text::Language;
    use chrono::{DateTime, Utc};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn task(n: i64, deadline: Option<i64>, state: TaskState, notify: bool) -> Task {
        let en = Language::new("en").unwrap();
        let help = HelpLink::WebPage {
            url: "https://x.org".into(),
        };
        let mut config = TaskConfig::manual(en, "t", help);
        config.deadline = deadline.map(at);
        config.notify_on_publish = notify;
        Task {
            id: TaskId::new_at(at(n)),
            event: EventId::min(),
            config,
            state,
            created_at: at(0),
            updated_at: at(0),
            published_at: None,
            version: 1,
        }
    }

    /// N1, N7: one notice per participant for the tasks of a publication that target
    /// them and were not told yet; each is told once.
    #[test]
    fn n1_publication_notices_go_out_once() {
        let owner = ParticipantId::new_at(at(1));
        let (a, b, c, d) = (
            TaskId::new_at(at(10)),
            TaskId::new_at(at(11)),
            TaskId::new_at(at(12)),
            TaskId::new_at(at(13)),
        );
        // (task, targeted, noticed already)
        let table: Vec<(TaskId, bool, bool)> =
            vec![(a, true, false), (b, false, false), (c, true, true)];
        let mut rows: BTreeMap<TaskId, Progress> = table
            .iter()
            .map(|(t, targeted, noticed)| {
                let mut row = Progress::new(*t, owner, at(0));
                row.targeted = *targeted;
                row.noticed = *noticed;
                (*t, row)
            })
            .collect();
        // (the publication's tasks, the notice)
        let runs: Vec<(Vec<TaskId>, Option<Vec<TaskId>>)> = vec![
            (vec![d], None),
            (vec![b, c], None),
            (vec![c, a, b, d], Some(vec![a])),
            (vec![a], None),
        ];
        for (tasks, want) in runs {
            let got = publication_notice(&mut rows, &tasks);
            let want = want.map(|tasks| Notification::Publication { tasks });
            assert_eq!(got, want, "{tasks:?}");
        }
        assert!(rows[&a].noticed && !rows[&b].noticed);

        let published = [
            task(1, None, TaskState::Published, true),
            task(2, None, TaskState::Published, false),
            task(3, None, TaskState::Published, true),
        ];
        assert_eq!(
            notified_on_publish(&published),
            [published[0].id, published[2].id]
        );
    }
}
