-- The timeline's filter by kind (R5) reads a column, not the body. Existing entries take
-- the kind from their body's tag.
ALTER TABLE timeline ADD COLUMN kind text;
UPDATE timeline SET kind = body->>'kind';
ALTER TABLE timeline ALTER COLUMN kind SET NOT NULL;
