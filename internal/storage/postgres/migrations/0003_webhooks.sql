-- Webhook endpoints and the outbox of their deliveries. The notifier turns
-- events into deliveries behind notify_cursor, moved (compare-and-set) in
-- the same transaction as the deliveries are added.
CREATE TABLE webhooks (
    tenant          TEXT COLLATE "C"    NOT NULL,
    id              TEXT COLLATE "C"    NOT NULL PRIMARY KEY,
    url             TEXT COLLATE "C"    NOT NULL,
    types           TEXT COLLATE "C"    NOT NULL, -- JSON array
    description     TEXT COLLATE "C"    NOT NULL,
    secret          TEXT COLLATE "C"    NOT NULL,
    previous_secret TEXT COLLATE "C"    NOT NULL,
    previous_until  BIGINT  NOT NULL,
    disabled        BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant, created_at);

CREATE TABLE deliveries (
    tenant          TEXT COLLATE "C"    NOT NULL,
    id              TEXT COLLATE "C"    NOT NULL,
    webhook_id      TEXT COLLATE "C"    NOT NULL,
    type            TEXT COLLATE "C"    NOT NULL,
    event_id        TEXT COLLATE "C"    NOT NULL,
    dedupe_key      TEXT COLLATE "C"    NOT NULL,
    payload         BYTEA   NOT NULL,
    created_at      BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT  NOT NULL, -- 0 once delivered or given up
    last_attempt_at BIGINT  NOT NULL,
    last_status     INTEGER NOT NULL,
    last_error      TEXT COLLATE "C"    NOT NULL,
    delivered_at    BIGINT  NOT NULL,
    failed_at       BIGINT  NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX deliveries_dedupe ON deliveries (webhook_id, dedupe_key) WHERE dedupe_key <> '';
-- Senders claim due deliveries earliest first (FOR UPDATE SKIP LOCKED).
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE next_attempt_at <> 0;
CREATE INDEX deliveries_webhook ON deliveries (tenant, webhook_id, created_at);

-- At most one row, absent until the cursor is first set.
CREATE TABLE notify_cursor (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq BIGINT  NOT NULL
);
