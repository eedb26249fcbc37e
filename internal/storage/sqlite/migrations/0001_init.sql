-- Events with their assessments. seq is the rowid: it orders replay.
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    external_id   TEXT    NOT NULL,
    occurred_at   INTEGER NOT NULL, -- unix microseconds
    received_at   INTEGER NOT NULL, -- unix microseconds
    amount_minor  INTEGER NOT NULL DEFAULT 0,
    currency      TEXT    NOT NULL DEFAULT '',
    score         INTEGER NOT NULL,
    action        TEXT    NOT NULL,
    rules_version INTEGER NOT NULL,
    model_version TEXT    NOT NULL,
    latency_us    INTEGER NOT NULL,
    assessment    TEXT    NOT NULL, -- JSON
    payload       BLOB    NOT NULL, -- JSON
    env           BLOB    NOT NULL  -- JSON
);
CREATE UNIQUE INDEX events_tenant_id ON events (tenant, id);
CREATE UNIQUE INDEX events_tenant_external ON events (tenant, kind, external_id);
CREATE INDEX events_tenant_kind_time ON events (tenant, kind, occurred_at);

CREATE TABLE labels (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    note        TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX labels_event ON labels (tenant, event_id);

CREATE TABLE rule_sets (
    tenant     TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    author     TEXT    NOT NULL,
    rules      TEXT    NOT NULL, -- JSON array
    PRIMARY KEY (tenant, version)
);

CREATE TABLE lists (
    tenant      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    effect      TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE list_entries (
    tenant TEXT NOT NULL,
    name   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (tenant, name, value),
    FOREIGN KEY (tenant, name) REFERENCES lists (tenant, name) ON DELETE CASCADE
);

CREATE TABLE api_keys (
    id         TEXT    PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    scopes     TEXT    NOT NULL, -- space-separated
    created_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
