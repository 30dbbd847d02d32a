-- punchlist: the first schema.
-- Every table has the event id as the first column of its primary key, and every foreign
-- key includes it, so a Postgres that shards by event (Citus: distribute every table by
-- event_id) needs no schema change. Domain values are kept as JSONB documents, with the
-- columns the queries filter, join or sort on beside them. Sort keys use the "C" collation:
-- byte order, the order the library's reference (and the other stores) use.

CREATE TABLE events (
    event_id uuid PRIMARY KEY,
    version bigint NOT NULL,
    body jsonb NOT NULL
);

CREATE TABLE segments (
    event_id uuid NOT NULL REFERENCES events (event_id),
    segment_id uuid NOT NULL,
    version bigint NOT NULL,
    body jsonb NOT NULL,
    PRIMARY KEY (event_id, segment_id)
);

CREATE TABLE tasks (
    event_id uuid NOT NULL REFERENCES events (event_id),
    task_id uuid NOT NULL,
    version bigint NOT NULL,
    body jsonb NOT NULL,
    PRIMARY KEY (event_id, task_id)
);

CREATE TABLE participants (
    event_id uuid NOT NULL REFERENCES events (event_id),
    participant_id uuid NOT NULL,
    version bigint NOT NULL,
    external_id text NOT NULL,
    owner_id uuid,
    -- sort keys of the matrix (B2), computed by the library from the record
    sort_name text COLLATE "C" NOT NULL,
    sort_company text COLLATE "C" NOT NULL,
    sort_email text COLLATE "C" NOT NULL,
    -- the text the matrix search looks in: names, company, email, lower-cased
    search text NOT NULL,
    categories text[] NOT NULL,
    record jsonb NOT NULL,
    facts jsonb NOT NULL,
    PRIMARY KEY (event_id, participant_id),
    UNIQUE (event_id, external_id),
    FOREIGN KEY (event_id, owner_id) REFERENCES participants (event_id, participant_id)
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX participants_owner ON participants (event_id, owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX participants_by_name ON participants (event_id, sort_name, participant_id);
CREATE INDEX participants_by_company ON participants (event_id, sort_company, participant_id);
CREATE INDEX participants_by_email ON participants (event_id, sort_email, participant_id);

CREATE TABLE progress (
    event_id uuid NOT NULL,
    participant_id uuid NOT NULL,
    task_id uuid NOT NULL,
    targeted boolean NOT NULL,
    status text NOT NULL,
    assignee_id uuid,
    body jsonb NOT NULL,
    PRIMARY KEY (event_id, participant_id, task_id),
    FOREIGN KEY (event_id, participant_id) REFERENCES participants (event_id, participant_id)
);
CREATE INDEX progress_by_task_status ON progress (event_id, task_id, status, participant_id)
    WHERE targeted;
CREATE INDEX progress_by_assignee ON progress (event_id, assignee_id) WHERE assignee_id IS NOT NULL;

CREATE TABLE host_events (
    event_id uuid NOT NULL REFERENCES events (event_id),
    host_event_id text NOT NULL,
    PRIMARY KEY (event_id, host_event_id)
);

CREATE TABLE timeline (
    event_id uuid NOT NULL,
    participant_id uuid NOT NULL,
    entry_id uuid NOT NULL,
    body jsonb NOT NULL,
    PRIMARY KEY (event_id, participant_id, entry_id),
    FOREIGN KEY (event_id, participant_id) REFERENCES participants (event_id, participant_id)
);

CREATE TABLE history (
    event_id uuid NOT NULL REFERENCES events (event_id),
    subject_kind smallint NOT NULL,
    subject_id uuid NOT NULL,
    line_id uuid NOT NULL,
    body jsonb NOT NULL,
    PRIMARY KEY (event_id, subject_kind, subject_id, line_id)
);

CREATE TABLE outbox (
    event_id uuid NOT NULL REFERENCES events (event_id),
    outbox_id uuid NOT NULL,
    idempotency_key text NOT NULL,
    body jsonb NOT NULL,
    PRIMARY KEY (event_id, outbox_id),
    UNIQUE (event_id, idempotency_key)
);

CREATE TABLE sweeps (
    event_id uuid NOT NULL REFERENCES events (event_id),
    sweep_id uuid NOT NULL,
    body jsonb NOT NULL,
    PRIMARY KEY (event_id, sweep_id)
);

CREATE TABLE counters (
    event_id uuid NOT NULL REFERENCES events (event_id),
    task_id uuid NOT NULL,
    targeted bigint NOT NULL,
    done bigint NOT NULL,
    awaiting_review bigint NOT NULL,
    PRIMARY KEY (event_id, task_id)
);
