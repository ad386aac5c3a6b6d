-- The supervisor console's users: named people with a role. Only argon2 hashes (PHC strings)
-- are stored, never passwords.
CREATE TABLE console_users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL
);

-- What supervisors did on a call (guidance to the assistant, words said for them, take-over,
-- hand-back, hang-up, pick-up from the queue), in order, for the call's history.
CREATE TABLE call_notes (
    call_id TEXT NOT NULL REFERENCES calls (id),
    seq     BIGINT NOT NULL,
    at      TEXT NOT NULL,
    author  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);
