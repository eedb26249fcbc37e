-- Trained models and the version that plays each role (champion,
-- challenger), shared by every instance: no shared volume is needed.
CREATE TABLE models (
    tenant     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    version    TEXT NOT NULL,
    data       BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, kind, version)
);
CREATE TABLE model_roles (
    tenant  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    role    TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, role),
    FOREIGN KEY (tenant, kind, version) REFERENCES models (tenant, kind, version)
);
