-- Which instance saved each event and label (a random number each store
-- draws when it opens), so that an instance following the log reads the
-- others' rows in full and passes over its own, which it counted live.
-- Existing rows get 0: no running store has that origin.
ALTER TABLE events ADD COLUMN origin BIGINT NOT NULL DEFAULT 0;
ALTER TABLE labels ADD COLUMN origin BIGINT NOT NULL DEFAULT 0;
-- Following walks seq and needs only origin for the rows it passes over.
DROP INDEX events_seq;
CREATE INDEX events_seq ON events (seq) INCLUDE (origin);
