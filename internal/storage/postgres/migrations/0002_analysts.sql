-- Dashboard users, sessions, the audit trail and review cases. The
-- per-minute decision counts (event_minutes) and the review queue's
-- partial index (events_review) are in 0001_init.sql, next to the events
-- they come from.
CREATE TABLE users (
    name          TEXT COLLATE "C" PRIMARY KEY,
    tenant        TEXT COLLATE "C" NOT NULL,
    role          TEXT COLLATE "C" NOT NULL,
    password_hash TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX users_tenant ON users (tenant, name);

-- Only a hash of each session token is stored.
CREATE TABLE sessions (
    id_hash    TEXT COLLATE "C" PRIMARY KEY,
    user_name  TEXT COLLATE "C" NOT NULL,
    tenant     TEXT COLLATE "C" NOT NULL,
    csrf       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Entries are never changed or removed; the dashboard pages through a
-- tenant's entries by id, newest first.
CREATE TABLE audit (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT COLLATE "C" NOT NULL,
    at     BIGINT NOT NULL,
    actor  TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    target TEXT COLLATE "C" NOT NULL,
    detail TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_tenant ON audit (tenant, id);

CREATE TABLE cases (
    tenant     TEXT COLLATE "C" NOT NULL,
    event_id   TEXT COLLATE "C" NOT NULL,
    assignee   TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, event_id)
);

-- A case's notes, oldest (smallest id) first.
CREATE TABLE case_notes (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant   TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    author   TEXT COLLATE "C" NOT NULL,
    text     TEXT COLLATE "C" NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX case_notes_event ON case_notes (tenant, event_id, id);
