-- The columns hosts' reports and the library's queries read, as real columns beside the
-- documents rather than inside them: a progress row's completion (when, by which
-- participant or administrator, how) and its resolved deadline; an outbox entry's
-- recipient, kind and the channels it was delivered on. Existing rows take them from their
-- bodies; rows written before the library kept a row's resolved deadline take their
-- task's, in the column and in the body, as the library would have written them.
ALTER TABLE progress ADD COLUMN completed_at timestamptz;
ALTER TABLE progress ADD COLUMN completed_by_participant uuid;
ALTER TABLE progress ADD COLUMN completed_by_admin text;
ALTER TABLE progress ADD COLUMN completed_how text;
ALTER TABLE progress ADD COLUMN due_at timestamptz;
UPDATE progress p SET
    completed_at = (p.body->'completion'->>'at')::timestamptz,
    completed_by_participant = CASE WHEN p.body->'completion'->'by'->>'kind' = 'participant'
        THEN (p.body->'completion'->'by'->>'id')::uuid END,
    completed_by_admin = CASE WHEN p.body->'completion'->'by'->>'kind' = 'organizer'
        THEN p.body->'completion'->'by'->>'admin' END,
    completed_how = p.body->'completion'->>'how',
    due_at = (t.body->'config'->>'deadline')::timestamptz,
    body = CASE WHEN t.body->'config'->>'deadline' IS NULL THEN p.body
        ELSE jsonb_set(p.body, '{due_at}', t.body->'config'->'deadline') END
FROM tasks t
WHERE t.event_id = p.event_id AND t.task_id = p.task_id;
-- No index on these: no query of the library reads them, and every write of a row would
-- pay for one; a host whose reports need one adds it.

ALTER TABLE outbox ADD COLUMN recipient_id uuid;
ALTER TABLE outbox ADD COLUMN kind text;
ALTER TABLE outbox ADD COLUMN delivered_channels text[] NOT NULL DEFAULT '{}';
UPDATE outbox SET
    recipient_id = (body->>'recipient')::uuid,
    kind = body->'message'->>'kind',
    delivered_channels = ARRAY(
        SELECT DISTINCT split_part(d, ':', 1) FROM jsonb_array_elements_text(body->'delivered') AS d
        ORDER BY 1);
ALTER TABLE outbox ALTER COLUMN recipient_id SET NOT NULL;
ALTER TABLE outbox ALTER COLUMN kind SET NOT NULL;
-- An organizer's list of one participant's notifications (and erasure's), by recipient.
CREATE INDEX outbox_by_recipient ON outbox (event_id, recipient_id, outbox_id);
