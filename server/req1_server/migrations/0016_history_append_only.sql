-- #13: object history is append-only in the database, as baselines are immutable (0010): rows are written
-- once by store/history.py and never changed or removed, not even with their object or module.
CREATE FUNCTION req1_reject_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'object history is append-only' USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER object_history_append_only BEFORE UPDATE OR DELETE ON object_history
    FOR EACH ROW EXECUTE FUNCTION req1_reject_history_change();
CREATE TRIGGER object_history_no_truncate BEFORE TRUNCATE ON object_history
    FOR EACH STATEMENT EXECUTE FUNCTION req1_reject_history_change();
