-- Customers' typing rhythm of their password: timing vectors and the
-- template trained on them (never the characters).
CREATE TABLE typing_profiles (
    tenant     TEXT COLLATE "C"   NOT NULL,
    user_id    TEXT COLLATE "C"   NOT NULL,
    samples    BYTEA  NOT NULL, -- JSON array of feature vectors
    template   BYTEA,           -- JSON, NULL until trained
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_id)
);
