-- The register of messages each tenant really sent to its customers (no
-- text, no recipient in clear), for the assistant to tell a genuine
-- message from an imitation: by its verification code, its links or
-- whom it went to.
CREATE TABLE outbound_messages (
    tenant         TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    channel        TEXT    NOT NULL, -- email | sms | push | chat | phone
    recipient_hash TEXT    NOT NULL, -- hex SHA-256 of the normalised recipient, or ''
    user_id        TEXT    NOT NULL, -- or ''
    template       TEXT    NOT NULL,
    summary        TEXT    NOT NULL,
    links          TEXT    NOT NULL, -- JSON array of canonical URLs
    code           TEXT    NOT NULL,
    sent_at        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX outbound_messages_code ON outbound_messages (tenant, code);
CREATE INDEX outbound_messages_user ON outbound_messages (tenant, user_id, sent_at) WHERE user_id <> '';
CREATE INDEX outbound_messages_recipient ON outbound_messages (tenant, recipient_hash, sent_at) WHERE recipient_hash <> '';
CREATE INDEX outbound_messages_sent ON outbound_messages (sent_at);

-- One row per link of a message, to find messages by a link.
CREATE TABLE outbound_links (
    tenant  TEXT    NOT NULL,
    link    TEXT    NOT NULL,
    sent_at INTEGER NOT NULL,
    id      TEXT    NOT NULL,
    PRIMARY KEY (tenant, link, sent_at, id)
) WITHOUT ROWID;
CREATE INDEX outbound_links_message ON outbound_links (tenant, id);
