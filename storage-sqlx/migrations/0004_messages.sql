-- Messages between the organizers and a participant (R7): one thread per participant,
-- read newest first by keyset.
CREATE TABLE messages (
    event_id uuid NOT NULL,
    participant_id uuid NOT NULL,
    message_id uuid NOT NULL,
    body jsonb NOT NULL,
    PRIMARY KEY (event_id, participant_id, message_id),
    FOREIGN KEY (event_id, participant_id) REFERENCES participants (event_id, participant_id)
);
