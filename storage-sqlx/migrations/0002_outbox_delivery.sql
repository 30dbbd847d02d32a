-- Outbox delivery (N5): where an entry stands, and when a dispatcher may claim it.
-- `due_at` is NULL once an entry is sent or dead; while a dispatcher holds it, it is the
-- end of the lease, so a crashed dispatcher's claims come back by themselves.
ALTER TABLE outbox ADD COLUMN state text NOT NULL DEFAULT 'pending';
ALTER TABLE outbox ADD COLUMN due_at timestamptz;
UPDATE outbox SET due_at = (body->>'created_at')::timestamptz WHERE state = 'pending';
-- Claims across events, earliest due first.
CREATE INDEX outbox_due ON outbox (due_at) WHERE due_at IS NOT NULL;
-- The organizer's list of dead letters.
CREATE INDEX outbox_dead ON outbox (event_id, outbox_id) WHERE state = 'dead';
