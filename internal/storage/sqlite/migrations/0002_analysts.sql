-- Dashboard users, sessions, the audit trail, review cases and per-minute
-- decision counts.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX users_tenant ON users (tenant, name);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_name  TEXT    NOT NULL,
    tenant     TEXT    NOT NULL,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE audit (
    id     INTEGER PRIMARY KEY,
    tenant TEXT    NOT NULL,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    detail TEXT    NOT NULL
);
CREATE INDEX audit_tenant ON audit (tenant, id);

CREATE TABLE cases (
    tenant     TEXT    NOT NULL,
    event_id   TEXT    NOT NULL,
    assignee   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL,
    PRIMARY KEY (tenant, event_id)
) WITHOUT ROWID;

CREATE TABLE case_notes (
    id       INTEGER PRIMARY KEY,
    tenant   TEXT    NOT NULL,
    event_id TEXT    NOT NULL,
    author   TEXT    NOT NULL,
    text     TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX case_notes_event ON case_notes (tenant, event_id, id);

-- Kept up to date by the event writer, one upsert per (minute, kind,
-- action, currency) of each batch.
CREATE TABLE event_minutes (
    tenant       TEXT    NOT NULL,
    minute       INTEGER NOT NULL, -- unix minutes of received_at
    kind         TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    count        INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (tenant, minute, kind, action, currency)
) WITHOUT ROWID;

-- The review queue reads only review decisions: a partial index keeps it
-- cheap without indexing every event.
CREATE INDEX events_review ON events (tenant, seq) WHERE action = 'review';
