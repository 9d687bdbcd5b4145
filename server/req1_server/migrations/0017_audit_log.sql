-- #13 §7: the audit log, written by the database itself in the transaction of every change, and
-- tamper-evident: each entry carries the SHA-256 of the previous entry's hash and its own content.
--
-- Why triggers: every write path (generic CRUD, object moves, imports, cascades of a delete, user admin)
-- then records its changes without a line in any handler, and no path can forget to. The application only
-- says who is acting: db.py sets the session settings req1.actor / req1.ip on the connection of a
-- mutating request (store/audit.py documents it); migrations, seeds and the CLI write with a null actor.
--
-- The chain: one head row (audit_chain_head) holds the last id and hash. Inserting an entry locks that row
-- until commit, so entries are chained in one total order even under concurrent transactions; ids are taken
-- from the head, so they are contiguous (a gap means a deleted entry) and a rolled back transaction leaves
-- neither an entry nor a moved head. Entries and the head reject UPDATE, DELETE and TRUNCATE.

CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    user_id     uuid,
    action      text NOT NULL,
    entity_type text NOT NULL,
    entity_id   uuid,
    details     jsonb,
    ip_address  text,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_user_idx ON audit_log (user_id);

CREATE TABLE audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_id   bigint NOT NULL,
    last_hash bytea NOT NULL
);

-- The hash before the first entry: a constant anyone can recompute.
CREATE FUNCTION req1_audit_genesis() RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to('req1 audit log', 'UTF8'))
$$;
INSERT INTO audit_chain_head (last_id, last_hash) VALUES (0, req1_audit_genesis());

-- An entry's hash: SHA-256 of the previous hash and a canonical text of every content column (a jsonb
-- array: its text form is deterministic and keeps null apart from ''; the time in whole microseconds).
CREATE FUNCTION req1_audit_hash(prev bytea, e audit_log) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || convert_to(jsonb_build_array(
        e.id, e.user_id, e.action, e.entity_type, e.entity_id, e.details, e.ip_address,
        (extract(epoch FROM e.created_at) * 1000000)::bigint)::text, 'UTF8'))
$$;

-- BEFORE INSERT on audit_log: take the head (row lock until commit), number, time and chain the entry.
CREATE FUNCTION req1_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_chain_head;
BEGIN
    SELECT * INTO head FROM audit_chain_head FOR UPDATE;
    NEW.id := head.last_id + 1;
    NEW.created_at := clock_timestamp();
    NEW.prev_hash := head.last_hash;
    NEW.hash := req1_audit_hash(NEW.prev_hash, NEW);
    UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION req1_audit_chain();

CREATE FUNCTION req1_reject_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION req1_reject_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION req1_reject_audit_change();

-- The head moves only inside req1_audit_chain (trigger depth 2 there; a direct UPDATE is depth 1).
CREATE FUNCTION req1_guard_audit_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'the audit chain head moves only with a new entry' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION req1_guard_audit_head();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION req1_reject_audit_change();

-- AFTER row trigger on every audited table: one entry per created, changed or deleted row, with the values
-- before and after. Trigger arguments name secret columns: they are listed in "fields" when they change,
-- their values are never recorded. An UPDATE that changes nothing but updated_at writes no entry. A change
-- of app_user.password_hash alone is the action change_password; a role change adds role_from/role_to.
CREATE FUNCTION req1_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    fields  text[];
    details jsonb;
    action  text := CASE TG_OP WHEN 'INSERT' THEN 'create' ELSE lower(TG_OP) END;
    hidden  text[] := coalesce(TG_ARGV, '{}');  -- null when the trigger has no arguments
BEGIN
    IF TG_OP = 'INSERT' THEN
        new_row := to_jsonb(NEW);
        details := jsonb_build_object('after', new_row - hidden);
    ELSIF TG_OP = 'DELETE' THEN
        old_row := to_jsonb(OLD);
        details := jsonb_build_object('before', old_row - hidden);
    ELSE
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
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

-- Objects are not here: their every change is in object_history (§7 "object edits stay in object_history").
CREATE TRIGGER audit_app_user AFTER INSERT OR UPDATE OR DELETE ON app_user
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row('password_hash');
CREATE TRIGGER audit_workspace AFTER INSERT OR UPDATE OR DELETE ON workspace
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_project AFTER INSERT OR UPDATE OR DELETE ON project
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_module AFTER INSERT OR UPDATE OR DELETE ON module
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_attribute_definition AFTER INSERT OR UPDATE OR DELETE ON attribute_definition
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_link_type AFTER INSERT OR UPDATE OR DELETE ON link_type
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_link AFTER INSERT OR UPDATE OR DELETE ON link
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_baseline_set AFTER INSERT OR UPDATE OR DELETE ON baseline_set
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_baseline AFTER INSERT OR UPDATE OR DELETE ON baseline
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_attachment AFTER INSERT OR UPDATE OR DELETE ON attachment
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_view AFTER INSERT OR UPDATE OR DELETE ON view
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_comment AFTER INSERT OR UPDATE OR DELETE ON comment
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
