-- Every TEXT column is COLLATE "C" so that ORDER BY sorts by code point
-- whatever the database's collation, as the other backends do.
-- Events with their assessments, range-partitioned by month of occurred_at
-- (unix microseconds). Partitions are made on demand by the event writer:
-- events_pYYYYMM. seq orders replay; it is drawn from event_seq under a
-- transaction advisory lock so that events commit in seq order.
CREATE SEQUENCE event_seq;

-- One row per event, unpartitioned: it enforces the ids' uniqueness per
-- tenant (a partitioned table could only with occurred_at in the key) and
-- leads a lookup by id to the event's partition.
CREATE TABLE event_ids (
    tenant      TEXT COLLATE "C"   NOT NULL,
    id          TEXT COLLATE "C"   NOT NULL,
    kind        TEXT COLLATE "C"   NOT NULL,
    external_id TEXT COLLATE "C"   NOT NULL,
    seq         BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, kind, external_id)
);

CREATE TABLE events (
    seq           BIGINT  NOT NULL,
    tenant        TEXT COLLATE "C"    NOT NULL,
    id            TEXT COLLATE "C"    NOT NULL,
    kind          TEXT COLLATE "C"    NOT NULL,
    external_id   TEXT COLLATE "C"    NOT NULL,
    occurred_at   BIGINT  NOT NULL,
    received_at   BIGINT  NOT NULL,
    amount_minor  BIGINT  NOT NULL DEFAULT 0,
    currency      TEXT COLLATE "C"    NOT NULL DEFAULT '',
    score         INTEGER NOT NULL,
    action        TEXT COLLATE "C"    NOT NULL,
    rules_version BIGINT  NOT NULL,
    model_version TEXT COLLATE "C"    NOT NULL,
    latency_us    BIGINT  NOT NULL,
    assessment    TEXT COLLATE "C"    NOT NULL, -- JSON
    payload       BYTEA   NOT NULL, -- JSON, byte for byte as given
    env           BYTEA   NOT NULL, -- JSON
    PRIMARY KEY (occurred_at, seq)
) PARTITION BY RANGE (occurred_at);
-- Replay and the dashboard's newest-first pages walk seq.
CREATE INDEX events_seq ON events (seq);
CREATE INDEX events_tenant_seq ON events (tenant, seq);
-- Backtests and training scans: one tenant's kind over a time range.
CREATE INDEX events_tenant_kind_time ON events (tenant, kind, occurred_at, seq);
-- The review queue reads only review decisions.
CREATE INDEX events_review ON events (tenant, seq) WHERE action = 'review';

CREATE TABLE labels (
    id          BIGSERIAL PRIMARY KEY,
    tenant      TEXT COLLATE "C"   NOT NULL,
    event_id    TEXT COLLATE "C"   NOT NULL,
    label       TEXT COLLATE "C"   NOT NULL,
    source      TEXT COLLATE "C"   NOT NULL,
    note        TEXT COLLATE "C"   NOT NULL,
    occurred_at BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX labels_event ON labels (tenant, event_id);

-- Kept up to date by the event writer, one upsert per saved event.
CREATE TABLE event_minutes (
    tenant       TEXT COLLATE "C"   NOT NULL,
    minute       BIGINT NOT NULL, -- unix minutes of received_at
    kind         TEXT COLLATE "C"   NOT NULL,
    action       TEXT COLLATE "C"   NOT NULL,
    currency     TEXT COLLATE "C"   NOT NULL,
    count        BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (tenant, minute, kind, action, currency)
);

CREATE TABLE rule_sets (
    tenant     TEXT COLLATE "C"   NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    author     TEXT COLLATE "C"   NOT NULL,
    rules      TEXT COLLATE "C"   NOT NULL, -- JSON array
    PRIMARY KEY (tenant, version)
);

CREATE TABLE lists (
    tenant      TEXT COLLATE "C"   NOT NULL,
    name        TEXT COLLATE "C"   NOT NULL,
    kind        TEXT COLLATE "C"   NOT NULL,
    effect      TEXT COLLATE "C"   NOT NULL,
    description TEXT COLLATE "C"   NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE list_entries (
    tenant TEXT COLLATE "C" NOT NULL,
    name   TEXT COLLATE "C" NOT NULL,
    value  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, name, value),
    FOREIGN KEY (tenant, name) REFERENCES lists (tenant, name) ON DELETE CASCADE
);

CREATE TABLE api_keys (
    id         TEXT COLLATE "C"   PRIMARY KEY,
    tenant     TEXT COLLATE "C"   NOT NULL,
    hash       TEXT COLLATE "C"   NOT NULL UNIQUE,
    name       TEXT COLLATE "C"   NOT NULL,
    scopes     TEXT COLLATE "C"   NOT NULL, -- space-separated
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
