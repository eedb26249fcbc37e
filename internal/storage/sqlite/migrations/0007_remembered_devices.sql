-- Remembered devices and unlearning: the device a step-up was passed on
-- (its approval can remember it), when a customer's remembered devices were
-- last forgotten (tokens issued before then no longer count), and the
-- sign-in each typing sample came from (a sign-in later found to be an
-- account takeover is unlearnt).
ALTER TABLE challenges ADD COLUMN device_id TEXT NOT NULL DEFAULT '';
ALTER TABLE typing_profiles ADD COLUMN sample_events BLOB NOT NULL DEFAULT '[]'; -- JSON array, parallel to samples

CREATE TABLE device_resets (
    tenant  TEXT    NOT NULL,
    user_id TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, user_id)
) WITHOUT ROWID;
