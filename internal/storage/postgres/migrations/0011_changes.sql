-- Instances cache each tenant's rules and lists. Every change to them,
-- whichever instance or tool makes it, announces itself on the channel
-- shopguard_changes when its transaction commits, as
-- "<schema> <topic> <tenant>"; every instance LISTENs and reloads that
-- tenant's rules or lists (Store.WatchChanges). PostgreSQL delivers one of
-- identical notifications per transaction, so a thousand list entries
-- added at once announce once.
CREATE FUNCTION shopguard_announce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_tenant TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_tenant := OLD.tenant;
    ELSE
        row_tenant := NEW.tenant;
    END IF;
    PERFORM pg_notify('shopguard_changes', TG_TABLE_SCHEMA || ' ' || TG_ARGV[0] || ' ' || row_tenant);
    RETURN NULL;
END
$$;

CREATE TRIGGER rule_sets_announce AFTER INSERT OR UPDATE OR DELETE ON rule_sets
    FOR EACH ROW EXECUTE FUNCTION shopguard_announce('rules');
CREATE TRIGGER lists_announce AFTER INSERT OR UPDATE OR DELETE ON lists
    FOR EACH ROW EXECUTE FUNCTION shopguard_announce('lists');
CREATE TRIGGER list_entries_announce AFTER INSERT OR UPDATE OR DELETE ON list_entries
    FOR EACH ROW EXECUTE FUNCTION shopguard_announce('lists');
