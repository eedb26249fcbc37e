-- Passkeys (WebAuthn credentials), the state of WebAuthn ceremonies
-- between their two steps, and each tenant's relying-party settings.
CREATE TABLE passkeys (
    tenant             TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    user_id            TEXT    NOT NULL,
    rp_id              TEXT    NOT NULL,
    credential_id      BLOB    NOT NULL,
    user_handle        BLOB    NOT NULL,
    public_key         BLOB    NOT NULL, -- COSE
    algorithm          INTEGER NOT NULL,
    attestation_type   TEXT    NOT NULL,
    attestation_format TEXT    NOT NULL,
    attestation        BLOB    NOT NULL, -- JSON, empty if none
    transports         TEXT    NOT NULL, -- JSON array
    flags              INTEGER NOT NULL,
    sign_count         INTEGER NOT NULL,
    clone_warning      INTEGER NOT NULL,
    aaguid             BLOB    NOT NULL,
    attachment         TEXT    NOT NULL,
    extensions         BLOB    NOT NULL, -- JSON, empty if none
    name               TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER NOT NULL,
    version            INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX passkeys_credential ON passkeys (tenant, rp_id, credential_id);
CREATE INDEX passkeys_user ON passkeys (tenant, user_id);

CREATE TABLE ceremonies (
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    challenge_id TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    session      BLOB    NOT NULL, -- JSON
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX ceremonies_id ON ceremonies (id);
CREATE INDEX ceremonies_expiry ON ceremonies (expires_at);

CREATE TABLE relying_parties (
    tenant     TEXT    NOT NULL,
    rp_id      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    origins    TEXT    NOT NULL, -- JSON array
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant)
) WITHOUT ROWID;
