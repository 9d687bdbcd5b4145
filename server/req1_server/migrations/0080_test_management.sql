-- #14 §5: test management — test cases of a module, linked to requirements (objects of the module), and their
-- executions. Cases go with their module and executions with their case (CASCADE); `requirement_ids` has no FK
-- (the handlers check that each is a live object of the module; coverage counts only the live ones). Both
-- tables are audited like every other resource (0017/0021), so a cascade writes one `delete` per execution.
-- req1_workspace_of learns the two kinds, so per-workspace access (0070) resolves `/test-cases/{test_case_id}/…`
-- and e-signatures of cases and executions.

CREATE TABLE test_case (
    id              uuid PRIMARY KEY,
    module_id       uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (btrim(name) <> ''),
    description     text,
    preconditions   text,
    expected_result text,
    test_type       text NOT NULL DEFAULT 'manual' CHECK (test_type IN ('manual', 'automated', 'exploratory')),
    priority        text NOT NULL DEFAULT 'medium' CHECK (priority IN ('critical', 'high', 'medium', 'low')),
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'ready', 'deprecated')),
    requirement_ids uuid[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX test_case_module_idx ON test_case (module_id, created_at DESC, id DESC);

CREATE TABLE test_execution (
    id           uuid PRIMARY KEY,
    test_case_id uuid NOT NULL REFERENCES test_case (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'not_run'
        CHECK (status IN ('passed', 'failed', 'blocked', 'skipped', 'not_run')),
    executor     text,
    executed_at  timestamptz,
    duration_ms  bigint CHECK (duration_ms >= 0),
    evidence     text,
    environment  text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- the latest execution of a case is its greatest (created_at, id): a backward scan of this index
CREATE INDEX test_execution_case_idx ON test_execution (test_case_id, created_at, id);

CREATE TRIGGER audit_test_case AFTER INSERT OR UPDATE OR DELETE ON test_case
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
CREATE TRIGGER audit_test_execution AFTER INSERT OR UPDATE OR DELETE ON test_execution
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();

CREATE OR REPLACE FUNCTION req1_workspace_of(kind text, key uuid) RETURNS uuid LANGUAGE plpgsql STABLE AS $$
DECLARE
    module_key uuid;
    signed     e_signature;
BEGIN
    CASE kind
    WHEN 'workspace' THEN
        RETURN (SELECT id FROM workspace WHERE id = key);
    WHEN 'project' THEN
        RETURN (SELECT workspace_id FROM project WHERE id = key);
    WHEN 'e_signature' THEN
        SELECT * INTO signed FROM e_signature WHERE id = key;
        RETURN CASE WHEN signed.id IS NULL THEN NULL ELSE req1_workspace_of(signed.entity_type, signed.entity_id) END;
    WHEN 'module' THEN module_key := key;
    WHEN 'object' THEN module_key := (SELECT module_id FROM object WHERE id = key);
    WHEN 'link' THEN
        module_key := (SELECT o.module_id FROM link l JOIN object o ON o.id = l.source_object_id WHERE l.id = key);
    WHEN 'baseline' THEN module_key := (SELECT module_id FROM baseline WHERE id = key);
    WHEN 'review_package' THEN module_key := (SELECT module_id FROM review_package WHERE id = key);
    WHEN 'review_comment' THEN
        module_key := (SELECT p.module_id FROM review_comment c JOIN review_package p ON p.id = c.package_id
                       WHERE c.id = key);
    WHEN 'change_proposal' THEN module_key := (SELECT module_id FROM change_proposal WHERE id = key);
    WHEN 'object_type' THEN module_key := (SELECT module_id FROM object_type WHERE id = key);
    WHEN 'comment' THEN
        module_key := (SELECT o.module_id FROM comment c JOIN object o ON o.id = c.object_id WHERE c.id = key);
    WHEN 'test_case' THEN module_key := (SELECT module_id FROM test_case WHERE id = key);
    WHEN 'test_execution' THEN
        module_key := (SELECT t.module_id FROM test_execution e JOIN test_case t ON t.id = e.test_case_id
                       WHERE e.id = key);
    ELSE
        RETURN NULL;
    END CASE;
    RETURN (SELECT p.workspace_id FROM module m JOIN project p ON p.id = m.project_id WHERE m.id = module_key);
END
$$;
