-- Strong customer authentication: authenticator-app factors and one-time
-- recovery codes (hashes only).
CREATE TABLE totp_factors (
    tenant         TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    sealed_secret  BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    confirmed_at   INTEGER NOT NULL,
    last_step      INTEGER NOT NULL,
    failures       INTEGER NOT NULL,
    failures_since INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    PRIMARY KEY (tenant, user_id)
) WITHOUT ROWID;

CREATE TABLE recovery_codes (
    tenant     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, user_id, hash)
) WITHOUT ROWID;

CREATE TABLE challenges (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    action      BLOB    NOT NULL, -- JSON as the shop sent it
    action_hash TEXT    NOT NULL,
    methods     TEXT    NOT NULL, -- JSON array
    event_id    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    failures    INTEGER NOT NULL,
    passed_at   INTEGER NOT NULL,
    method      TEXT    NOT NULL,
    consumed_at INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX challenges_id ON challenges (id);
CREATE INDEX challenges_expiry ON challenges (expires_at);
