-- #13 §7: the audit chain head is taken once per transaction and moved once, at commit (0017 moved it with
-- every entry: a transaction writing n entries left n versions of the one head row, each next lookup walked
-- them, so a module cascade or an import of thousands of links cost O(n²); measured in bench/audit).
--
-- The first entry of a transaction locks the head (until commit, as before) and reads the last id and hash
-- from it; later entries of the same transaction take them from transaction-local settings (req1.chain_*),
-- which a rolled-back savepoint reverts together with its entries. A deferred constraint trigger moves the
-- head to the transaction's last entry at commit, so a REPEATABLE READ transaction that started before
-- another's commit still fails to lock the head and is retried instead of forking the chain.
CREATE OR REPLACE FUNCTION req1_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    xact      text := pg_current_xact_id()::text;
    prev_id   bigint;
    prev_hash bytea;
BEGIN
    IF current_setting('req1.chain_xact', true) IS DISTINCT FROM xact THEN
        SELECT last_id, last_hash INTO prev_id, prev_hash FROM audit_chain_head FOR UPDATE;
    ELSE
        prev_id := current_setting('req1.chain_id')::bigint;
        prev_hash := decode(current_setting('req1.chain_hash'), 'hex');
    END IF;
    NEW.id := prev_id + 1;
    NEW.created_at := clock_timestamp();
    NEW.prev_hash := prev_hash;
    NEW.hash := req1_audit_hash(prev_hash, NEW);
    PERFORM set_config('req1.chain_xact', xact, true), set_config('req1.chain_id', NEW.id::text, true),
            set_config('req1.chain_hash', encode(NEW.hash, 'hex'), true);
    RETURN NEW;
END
$$;

CREATE FUNCTION req1_audit_move_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = current_setting('req1.chain_id', true)::bigint THEN  -- the transaction's last entry
        UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash;
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER audit_log_move_head AFTER INSERT ON audit_log DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION req1_audit_move_head();
