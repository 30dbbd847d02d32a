-- Lanes (N11): dispatchers claim every due entry of a lower lane before any of a higher
-- one, so a notice to 100,000 never delays an assignment. 0: a task handed over, a
-- submission decided; 1: reminders, the organizers' included; 2: publication notices.
-- The due index leads with the lane, so each lane's due entries are one range of it.
ALTER TABLE outbox ADD COLUMN lane smallint NOT NULL DEFAULT 2;
UPDATE outbox SET lane = CASE kind
    WHEN 'assignment' THEN 0
    WHEN 'review_rejected' THEN 0
    WHEN 'reminder' THEN 1
    WHEN 'reminders' THEN 1
    WHEN 'nudge' THEN 1
    ELSE 2 END;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (lane, due_at) WHERE due_at IS NOT NULL;
