-- Remembered devices and unlearning: the device a step-up was passed on
-- (its approval can remember it), when a customer's remembered devices were
-- last forgotten (tokens issued before then no longer count), and the
-- sign-in each typing sample came from (a sign-in later found to be an
-- account takeover is unlearnt).
ALTER TABLE challenges ADD COLUMN device_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE typing_profiles ADD COLUMN sample_events BYTEA NOT NULL DEFAULT '[]'::bytea; -- JSON array, parallel to samples

CREATE TABLE device_resets (
    tenant  TEXT COLLATE "C"   NOT NULL,
    user_id TEXT COLLATE "C"   NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_id)
);
