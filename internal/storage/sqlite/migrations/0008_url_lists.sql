-- Lists of known-bad (and allowed) URLs, kept as SHA-256 hashes of Safe
-- Browsing suffix/prefix expressions: the entries listed now, and the
-- append-only log of the changes that made them, which running servers
-- replay and poll. A list is one tenant's ('' = every tenant) entries
-- from one source with one effect; entries and changes name it by id.
CREATE TABLE url_lists (
    id     INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    effect TEXT NOT NULL, -- block | allow
    UNIQUE (tenant, source, effect)
);

CREATE TABLE url_list_entries (
    list_id INTEGER NOT NULL REFERENCES url_lists (id),
    hash    BLOB    NOT NULL, -- 32 bytes
    PRIMARY KEY (list_id, hash)
) WITHOUT ROWID;

CREATE TABLE url_list_changes (
    id      INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    list_id INTEGER NOT NULL REFERENCES url_lists (id),
    hash    BLOB    NOT NULL,
    op      TEXT    NOT NULL, -- add | remove
    at      INTEGER NOT NULL
);
