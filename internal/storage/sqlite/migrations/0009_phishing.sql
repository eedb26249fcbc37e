-- Each tenant's phishing profile (the domains links must not imitate,
-- the sender names and domains it really sends under), and the links
-- and messages customers or staff reported as phishing, with their
-- review: pending until confirmed as phishing or found legitimate.
CREATE TABLE phishing_profiles (
    tenant            TEXT    NOT NULL,
    protected_domains TEXT    NOT NULL, -- JSON array
    sender_names      TEXT    NOT NULL, -- JSON array
    sending_domains   TEXT    NOT NULL, -- JSON array
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant)
) WITHOUT ROWID;

CREATE TABLE phishing_reports (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    kind        TEXT    NOT NULL, -- url | message
    url         TEXT    NOT NULL, -- canonical; '' for a message
    message     TEXT    NOT NULL, -- '' for a url
    channel     TEXT    NOT NULL, -- email | sms | chat | ''
    sender      TEXT    NOT NULL,
    reporter    TEXT    NOT NULL, -- customer | staff
    reporter_id TEXT    NOT NULL,
    note        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    status      TEXT    NOT NULL, -- pending | confirmed_phishing | legitimate
    reviewed_at INTEGER NOT NULL, -- 0 while pending
    reviewed_by TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
);
-- A tenant's listing, newest first, with or without a status.
CREATE INDEX phishing_reports_listing ON phishing_reports (tenant, created_at, id);
CREATE INDEX phishing_reports_status ON phishing_reports (tenant, status, created_at, id);
-- Reviewed reports, for training.
CREATE INDEX phishing_reports_reviewed ON phishing_reports (reviewed_at, tenant, id) WHERE status <> 'pending';
