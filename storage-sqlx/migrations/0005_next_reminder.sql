-- Each progress row's next reminder (N3), so that the reminder tick reads the rows whose
-- time has come and no other. A row written before this column has none kept (its body
-- reads as due since 1970, and so does the column): the next tick looks at it once and
-- writes its value.
ALTER TABLE progress ADD COLUMN next_reminder_at timestamptz;
UPDATE progress SET next_reminder_at = 'epoch' WHERE targeted AND status = 'todo';
CREATE INDEX progress_reminders_due ON progress (event_id, task_id, next_reminder_at)
    WHERE targeted AND status = 'todo' AND next_reminder_at IS NOT NULL;
