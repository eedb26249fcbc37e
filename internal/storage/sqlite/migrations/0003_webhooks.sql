-- Webhook endpoints and the outbox of their deliveries. The notifier turns
-- events into deliveries behind notify_cursor, moved in the same
-- transaction as the deliveries are added.
CREATE TABLE webhooks (
    tenant          TEXT    NOT NULL,
    id              TEXT    NOT NULL PRIMARY KEY,
    url             TEXT    NOT NULL,
    types           TEXT    NOT NULL, -- JSON array
    description     TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    previous_secret TEXT    NOT NULL,
    previous_until  INTEGER NOT NULL,
    disabled        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant, created_at);

CREATE TABLE deliveries (
    tenant          TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    webhook_id      TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL, -- 0 once delivered or given up
    last_attempt_at INTEGER NOT NULL,
    last_status     INTEGER NOT NULL,
    last_error      TEXT    NOT NULL,
    delivered_at    INTEGER NOT NULL,
    failed_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX deliveries_dedupe ON deliveries (webhook_id, dedupe_key) WHERE dedupe_key != '';
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at != 0;
CREATE INDEX deliveries_webhook ON deliveries (tenant, webhook_id, created_at);

CREATE TABLE notify_cursor (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL
);
