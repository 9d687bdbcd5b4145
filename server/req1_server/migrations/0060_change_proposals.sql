-- #13 §4: change proposals of a module — a list of object edits that is reviewed, approved and then applied.
--
-- Proposals belong to a module (CASCADE); the author has no FK (a deleted user leaves the id). Status moves
-- and `apply` are audited by the server as `transition` and `apply` entries, so the row trigger leaves the
-- status column out ('~status', 0021): a status-only change writes one meaningful entry, not two.

CREATE TABLE change_proposal (
    id          uuid PRIMARY KEY,
    module_id   uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    title       text NOT NULL CHECK (btrim(title) <> ''),
    description text,
    status      text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'in_review', 'approved', 'rejected', 'applied')),
    author_id   uuid,
    diff_data   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_proposal_module_idx ON change_proposal (module_id, created_at DESC, id DESC);

CREATE TRIGGER audit_change_proposal AFTER INSERT OR UPDATE OR DELETE ON change_proposal
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row('~status');
