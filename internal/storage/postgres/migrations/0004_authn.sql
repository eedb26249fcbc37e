-- Strong customer authentication: authenticator-app factors and one-time
-- recovery codes (hashes only).
CREATE TABLE totp_factors (
    tenant         TEXT COLLATE "C"   NOT NULL,
    user_id        TEXT COLLATE "C"   NOT NULL,
    sealed_secret  BYTEA   NOT NULL,
    created_at     BIGINT  NOT NULL,
    confirmed_at   BIGINT  NOT NULL,
    last_step      BIGINT  NOT NULL,
    failures       INTEGER NOT NULL,
    failures_since BIGINT  NOT NULL,
    version        BIGINT  NOT NULL,
    PRIMARY KEY (tenant, user_id)
);

CREATE TABLE recovery_codes (
    tenant     TEXT COLLATE "C"   NOT NULL,
    user_id    TEXT COLLATE "C"   NOT NULL,
    hash       TEXT COLLATE "C"   NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_id, hash)
);

CREATE TABLE challenges (
    tenant      TEXT COLLATE "C"    NOT NULL,
    id          TEXT COLLATE "C"    NOT NULL,
    user_id     TEXT COLLATE "C"    NOT NULL,
    action      BYTEA   NOT NULL, -- JSON as the shop sent it
    action_hash TEXT COLLATE "C"    NOT NULL,
    methods     TEXT COLLATE "C"    NOT NULL, -- JSON array
    event_id    TEXT COLLATE "C"    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    status      TEXT COLLATE "C"    NOT NULL,
    failures    INTEGER NOT NULL,
    passed_at   BIGINT  NOT NULL,
    method      TEXT COLLATE "C"    NOT NULL,
    consumed_at BIGINT  NOT NULL,
    version     BIGINT  NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX challenges_id ON challenges (id);
CREATE INDEX challenges_expiry ON challenges (expires_at);
