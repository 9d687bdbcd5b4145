-- #13: per-workspace access. A user's role inside a workspace is the role of their workspace_member row;
-- global admins (app_user.role = 'admin') need none. With ACCESS_MODEL=global the server ignores this table.
--
-- Existing deployments keep working: every current user becomes a member of every existing workspace with
-- their current global role (the audit trigger is created after this backfill, so it writes no entries).
-- req1_workspace_of(kind, id) answers "the workspace of this resource" for every kind a route or a
-- notification can name; the server's access resolver and list filters use it, so the SQL lives in one place.

CREATE TABLE workspace_member (
    workspace_id uuid NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('admin', 'editor', 'reviewer', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_member_user_idx ON workspace_member (user_id, workspace_id);

INSERT INTO workspace_member (workspace_id, user_id, role)
SELECT w.id, u.id, u.role FROM workspace w CROSS JOIN app_user u;

CREATE TRIGGER audit_workspace_member AFTER INSERT OR UPDATE OR DELETE ON workspace_member
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();

CREATE FUNCTION req1_workspace_of(kind text, key uuid) RETURNS uuid LANGUAGE plpgsql STABLE AS $$
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
    ELSE
        RETURN NULL;
    END CASE;
    RETURN (SELECT p.workspace_id FROM module m JOIN project p ON p.id = m.project_id WHERE m.id = module_key);
END
$$;
