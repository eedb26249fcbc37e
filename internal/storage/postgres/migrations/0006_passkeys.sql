-- Passkeys (WebAuthn credentials), the state of WebAuthn ceremonies
-- between their two steps, and each tenant's relying-party settings.
-- Byte fields that may be absent are stored empty (NOT NULL) and read
-- back as nil, as the other backends do.
CREATE TABLE passkeys (
    tenant             TEXT COLLATE "C" NOT NULL,
    id                 TEXT COLLATE "C" NOT NULL,
    user_id            TEXT COLLATE "C" NOT NULL,
    rp_id              TEXT COLLATE "C" NOT NULL,
    credential_id      BYTEA            NOT NULL,
    user_handle        BYTEA            NOT NULL,
    public_key         BYTEA            NOT NULL, -- COSE
    algorithm          BIGINT           NOT NULL,
    attestation_type   TEXT COLLATE "C" NOT NULL,
    attestation_format TEXT COLLATE "C" NOT NULL,
    attestation        BYTEA            NOT NULL, -- JSON, empty if none
    transports         TEXT COLLATE "C" NOT NULL, -- JSON array
    flags              SMALLINT         NOT NULL, -- authenticator-data flags octet
    sign_count         BIGINT           NOT NULL, -- uint32
    clone_warning      BOOLEAN          NOT NULL,
    aaguid             BYTEA            NOT NULL,
    attachment         TEXT COLLATE "C" NOT NULL,
    extensions         BYTEA            NOT NULL, -- JSON, empty if none
    name               TEXT COLLATE "C" NOT NULL,
    created_at         BIGINT           NOT NULL,
    last_used_at       BIGINT           NOT NULL,
    version            BIGINT           NOT NULL,
    PRIMARY KEY (tenant, id)
);
-- A credential id is unique per tenant and RP ID: sign-ins find the
-- passkey by it.
CREATE UNIQUE INDEX passkeys_credential ON passkeys (tenant, rp_id, credential_id);
CREATE INDEX passkeys_user ON passkeys (tenant, user_id);

-- A ceremony is taken (DELETE ... RETURNING) by exactly one caller.
-- Ceremony ids, like challenge ids, are unique across tenants.
CREATE TABLE ceremonies (
    tenant       TEXT COLLATE "C" NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL, -- registration | assertion
    challenge_id TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    session      BYTEA            NOT NULL, -- JSON
    created_at   BIGINT           NOT NULL,
    expires_at   BIGINT           NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX ceremonies_id ON ceremonies (id);
CREATE INDEX ceremonies_expiry ON ceremonies (expires_at);

CREATE TABLE relying_parties (
    tenant     TEXT COLLATE "C" NOT NULL,
    rp_id      TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    origins    TEXT COLLATE "C" NOT NULL, -- JSON array
    updated_at BIGINT           NOT NULL,
    PRIMARY KEY (tenant)
);
