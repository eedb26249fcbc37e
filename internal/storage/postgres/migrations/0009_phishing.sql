-- Each tenant's phishing profile (the domains links must not imitate,
-- the sender names and domains it really sends under), and the links
-- and messages customers or staff reported as phishing, with their
-- review: pending until confirmed as phishing or found legitimate.
-- The profile's lists are text arrays kept in the order given ('{}' when
-- empty, never NULL).
CREATE TABLE phishing_profiles (
    tenant            TEXT COLLATE "C"   NOT NULL,
    protected_domains TEXT[] COLLATE "C" NOT NULL,
    sender_names      TEXT[] COLLATE "C" NOT NULL,
    sending_domains   TEXT[] COLLATE "C" NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant)
);

CREATE TABLE phishing_reports (
    tenant      TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL, -- url | message
    url         TEXT COLLATE "C" NOT NULL, -- canonical; '' for a message
    message     TEXT COLLATE "C" NOT NULL, -- '' for a url
    channel     TEXT COLLATE "C" NOT NULL, -- email | sms | chat | ''
    sender      TEXT COLLATE "C" NOT NULL,
    reporter    TEXT COLLATE "C" NOT NULL, -- customer | staff
    reporter_id TEXT COLLATE "C" NOT NULL,
    note        TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    status      TEXT COLLATE "C" NOT NULL, -- pending | confirmed_phishing | legitimate
    reviewed_at BIGINT NOT NULL, -- 0 while pending
    reviewed_by TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, id)
);
-- A tenant's listing, newest first (read backwards), with or without a status.
CREATE INDEX phishing_reports_listing ON phishing_reports (tenant, created_at, id);
CREATE INDEX phishing_reports_status ON phishing_reports (tenant, status, created_at, id);
-- Reviewed reports, for training.
CREATE INDEX phishing_reports_reviewed ON phishing_reports (reviewed_at, tenant, id) WHERE status <> 'pending';
