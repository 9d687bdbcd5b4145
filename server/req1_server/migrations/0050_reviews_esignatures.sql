-- #13 §3: review packages, their assignments (votes) and comments, and e-signatures.
--
-- Packages belong to a module and take their assignments and comments with them (CASCADE); user references
-- have no FK (a deleted user leaves the id). Status changes of packages and votes of assignments are audited by
-- the server as `transition` and `vote` entries, so the row trigger leaves those columns out ('~' arguments,
-- 0021): a status-only change writes one meaningful entry, not two.
--
-- E-signatures are evidence: no FK to the signed entity or the signer (the signer's email and name are kept
-- as a snapshot and survive the user's deletion), and a trigger rejects UPDATE, DELETE and TRUNCATE, as the
-- audit log (0017) and object history (0016) do. Signing is audited by the server (`sign`, `sign_failed`).

CREATE TABLE review_package (
    id          uuid PRIMARY KEY,
    module_id   uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    description text,
    status      text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'open', 'in_review', 'approved', 'rejected', 'closed')),
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_package_module_idx ON review_package (module_id, created_at DESC, id DESC);

CREATE TABLE review_assignment (
    id          uuid PRIMARY KEY,
    package_id  uuid NOT NULL REFERENCES review_package (id) ON DELETE CASCADE,
    reviewer_id uuid,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'abstained')),
    comment     text,
    signed_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_assignment_package_idx ON review_assignment (package_id, created_at, id);
CREATE UNIQUE INDEX review_assignment_reviewer_key ON review_assignment (package_id, reviewer_id)
    WHERE reviewer_id IS NOT NULL;

CREATE TABLE review_comment (
    id                 uuid PRIMARY KEY,
    package_id         uuid NOT NULL REFERENCES review_package (id) ON DELETE CASCADE,
    author_id          uuid,
    body               text NOT NULL CHECK (btrim(body) <> ''),
    mentioned_user_ids uuid[] NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_comment_package_idx ON review_comment (package_id, created_at, id);

CREATE TRIGGER review_comment_mentions AFTER INSERT OR UPDATE OF mentioned_user_ids ON review_comment
    FOR EACH ROW EXECUTE FUNCTION req1_notify_mentions('review_comment');

CREATE TRIGGER audit_review_package AFTER INSERT OR UPDATE OR DELETE ON review_package
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row('~status');
CREATE TRIGGER audit_review_assignment AFTER INSERT OR UPDATE OR DELETE ON review_assignment
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row('~status', '~signed_at');
CREATE TRIGGER audit_review_comment AFTER INSERT OR UPDATE OR DELETE ON review_comment
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();

CREATE TABLE e_signature (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL,
    signer_email       text NOT NULL,
    signer_name        text NOT NULL,
    entity_type        text NOT NULL CHECK (entity_type IN ('object', 'review_package', 'change_proposal', 'baseline',
                                                             'baseline_set', 'test_case', 'test_execution', 'module')),
    entity_id          uuid NOT NULL,
    entity_version     integer,
    entity_fingerprint text,
    meaning            text NOT NULL CHECK (btrim(meaning) <> '' AND char_length(meaning) <= 500),
    signature_hash     text NOT NULL,
    ip_address         text,
    created_at         timestamptz NOT NULL
);
CREATE INDEX e_signature_entity_idx ON e_signature (entity_type, entity_id, created_at, id);

CREATE FUNCTION req1_reject_signature_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'e-signatures are immutable' USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER e_signature_immutable BEFORE UPDATE OR DELETE ON e_signature
    FOR EACH ROW EXECUTE FUNCTION req1_reject_signature_change();
CREATE TRIGGER e_signature_no_truncate BEFORE TRUNCATE ON e_signature
    FOR EACH STATEMENT EXECUTE FUNCTION req1_reject_signature_change();
