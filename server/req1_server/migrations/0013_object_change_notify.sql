-- Live updates (req1_server/live.py): every committed change to objects is announced on the channel
-- req1_changes, one notification per statement and module, so every API replica LISTENing on the
-- primary learns of it. Statement-level triggers with transition tables keep bulk writes (imports,
-- renumbering) to one notification each; NOTIFY is delivered at commit, so rolled-back work never shows.
-- Payload: {"module_id", "op", "n", "items": [[object_id, current_version], ...] | null (more than 80)}.
CREATE FUNCTION req1_notify_object_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        FOR r IN SELECT module_id, count(*) AS n,
                        (array_agg(json_build_array(id, current_version)))[1:81] AS items
                 FROM old_rows GROUP BY module_id LOOP
            PERFORM pg_notify('req1_changes', json_build_object('module_id', r.module_id, 'op', 'delete', 'n', r.n,
                'items', CASE WHEN r.n <= 80 THEN to_json(r.items) END)::text);
        END LOOP;
    ELSE
        FOR r IN SELECT module_id, count(*) AS n,
                        (array_agg(json_build_array(id, current_version)))[1:81] AS items
                 FROM new_rows GROUP BY module_id LOOP
            PERFORM pg_notify('req1_changes', json_build_object('module_id', r.module_id, 'op', lower(TG_OP), 'n', r.n,
                'items', CASE WHEN r.n <= 80 THEN to_json(r.items) END)::text);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER object_notify_insert AFTER INSERT ON object REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION req1_notify_object_changes();
CREATE TRIGGER object_notify_update AFTER UPDATE ON object REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION req1_notify_object_changes();
CREATE TRIGGER object_notify_delete AFTER DELETE ON object REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION req1_notify_object_changes();
