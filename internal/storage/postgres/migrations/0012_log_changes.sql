-- Every instance keeps its feature store in memory and counts the other
-- instances' decisions and labels by reading them from the log. New rows
-- announce themselves (once per statement: a group commit of many events
-- announces once) on the channel of migration 0011, as
-- "<schema> events *" and "<schema> labels *", so that followers read
-- them within milliseconds instead of polling.
CREATE FUNCTION shopguard_announce_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('shopguard_changes', TG_TABLE_SCHEMA || ' ' || TG_ARGV[0] || ' *');
    RETURN NULL;
END
$$;

CREATE TRIGGER event_ids_announce AFTER INSERT ON event_ids
    FOR EACH STATEMENT EXECUTE FUNCTION shopguard_announce_log('events');
CREATE TRIGGER labels_announce AFTER INSERT ON labels
    FOR EACH STATEMENT EXECUTE FUNCTION shopguard_announce_log('labels');
