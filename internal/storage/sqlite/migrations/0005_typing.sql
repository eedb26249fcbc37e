-- Customers' typing rhythm of their password: timing vectors and the
-- template trained on them (never the characters).
CREATE TABLE typing_profiles (
    tenant     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    samples    BLOB    NOT NULL, -- JSON array of feature vectors
    template   BLOB,             -- JSON, NULL until trained
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    PRIMARY KEY (tenant, user_id)
) WITHOUT ROWID;
