-- #13 §7: bookkeeping columns leave the audit log. A trigger argument starting with '~' names a column the
-- entries leave out entirely (not even in "fields"), and an UPDATE that changes only such columns writes no
-- entry: module.definitions_version, bumped by every attribute-definition change as a concurrency guard
-- (0015), made each definition change two entries, one of them meaningless. Arguments without '~' are
-- secret columns, as in 0017 (listed in "fields" when they change, never their values).
CREATE OR REPLACE FUNCTION req1_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    fields  text[];
    details jsonb;
    action  text := CASE TG_OP WHEN 'INSERT' THEN 'create' ELSE lower(TG_OP) END;
    hidden  text[] := ARRAY(SELECT a FROM unnest(TG_ARGV) a WHERE a NOT LIKE '~%');  -- TG_ARGV: null if none
    skipped text[] := ARRAY(SELECT substr(a, 2) FROM unnest(TG_ARGV) a WHERE a LIKE '~%');
BEGIN
    IF TG_OP = 'INSERT' THEN
        new_row := to_jsonb(NEW) - skipped;
        details := jsonb_build_object('after', new_row - hidden);
    ELSIF TG_OP = 'DELETE' THEN
        old_row := to_jsonb(OLD) - skipped;
        details := jsonb_build_object('before', old_row - hidden);
    ELSE
        old_row := to_jsonb(OLD) - skipped;
        new_row := to_jsonb(NEW) - skipped;
        SELECT array_agg(n.key ORDER BY n.key) INTO fields FROM jsonb_each(new_row) n
        WHERE n.key <> 'updated_at' AND n.value IS DISTINCT FROM old_row -> n.key;
        IF fields IS NULL THEN
            RETURN NULL;
        END IF;
        details := jsonb_build_object(
            'fields', to_jsonb(fields),
            'before', (SELECT jsonb_object_agg(f, old_row -> f) FROM unnest(fields) f WHERE f <> ALL (hidden)),
            'after', (SELECT jsonb_object_agg(f, new_row -> f) FROM unnest(fields) f WHERE f <> ALL (hidden)));
        IF TG_TABLE_NAME = 'app_user' THEN
            IF fields = ARRAY['password_hash'] THEN
                action := 'change_password';
            ELSIF 'role' = ANY (fields) THEN
                details := details || jsonb_build_object('role_from', OLD.role, 'role_to', NEW.role);
            END IF;
        END IF;
    END IF;
    INSERT INTO audit_log (user_id, action, entity_type, entity_id, details, ip_address)
    VALUES (nullif(current_setting('req1.actor', true), '')::uuid, action, TG_TABLE_NAME,
            (coalesce(new_row, old_row) ->> 'id')::uuid, details,
            nullif(current_setting('req1.ip', true), ''));
    RETURN NULL;
END
$$;

DROP TRIGGER audit_module ON module;
CREATE TRIGGER audit_module AFTER INSERT OR UPDATE OR DELETE ON module
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row('~definitions_version');
