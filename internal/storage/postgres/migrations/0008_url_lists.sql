-- Lists of known-bad (and allowed) URLs, kept as SHA-256 hashes of Safe
-- Browsing suffix/prefix expressions: the entries listed now, and the
-- append-only log of the changes that made them, which running servers
-- replay and poll. A list is one tenant's ('' = every tenant) entries
-- from one source with one effect; entries and changes name it by id.
CREATE TABLE url_lists (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    effect TEXT COLLATE "C" NOT NULL, -- block | allow
    UNIQUE (tenant, source, effect)
);

CREATE TABLE url_list_entries (
    list_id BIGINT NOT NULL REFERENCES url_lists (id),
    hash    BYTEA  NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (list_id, hash)
);

-- Replayed and polled in id order (URLListChangesAfter). Writers draw the
-- ids under a transaction advisory lock held to commit, so changes commit
-- in id order and a poller that has seen id n never later sees a smaller
-- one appear. A sequence never hands an id out twice.
CREATE TABLE url_list_changes (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    list_id BIGINT           NOT NULL REFERENCES url_lists (id),
    hash    BYTEA            NOT NULL CHECK (octet_length(hash) = 32),
    op      TEXT COLLATE "C" NOT NULL, -- add | remove
    at      BIGINT           NOT NULL
);
