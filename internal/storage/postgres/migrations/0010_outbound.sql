-- The register of messages each tenant really sent to its customers (no
-- text, no recipient in clear), for the assistant to tell a genuine
-- message from an imitation: by its verification code, its links or
-- whom it went to.
CREATE TABLE outbound_messages (
    tenant         TEXT COLLATE "C"   NOT NULL,
    id             TEXT COLLATE "C"   NOT NULL,
    channel        TEXT COLLATE "C"   NOT NULL, -- email | sms | push | chat | phone
    recipient_hash TEXT COLLATE "C"   NOT NULL, -- hex SHA-256 of the normalised recipient, or ''
    user_id        TEXT COLLATE "C"   NOT NULL, -- or ''
    template       TEXT COLLATE "C"   NOT NULL,
    summary        TEXT COLLATE "C"   NOT NULL,
    links          TEXT[] COLLATE "C" NOT NULL, -- canonical URLs, in order ('{}' when none)
    code           TEXT COLLATE "C"   NOT NULL,
    sent_at        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX outbound_messages_code ON outbound_messages (tenant, code);
CREATE INDEX outbound_messages_user ON outbound_messages (tenant, user_id, sent_at) WHERE user_id <> '';
CREATE INDEX outbound_messages_recipient ON outbound_messages (tenant, recipient_hash, sent_at) WHERE recipient_hash <> '';
CREATE INDEX outbound_messages_sent ON outbound_messages (sent_at);

-- One row per link of a message, to find messages by a link (newest
-- first: the primary key read backwards).
CREATE TABLE outbound_links (
    tenant  TEXT COLLATE "C" NOT NULL,
    link    TEXT COLLATE "C" NOT NULL,
    sent_at BIGINT NOT NULL,
    id      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, link, sent_at, id)
);
-- A purge deletes the links of the messages it deletes.
CREATE INDEX outbound_links_message ON outbound_links (tenant, id);
