-- #13 §2: lifecycle models of a module — states and allowed transitions — that objects move through.
-- Deleting a model leaves its objects' lifecycle_state text and unsets their model and the module default.
CREATE TABLE lifecycle_model (
    id            uuid PRIMARY KEY,
    module_id     uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (btrim(name) <> ''),
    description   text,
    initial_state text NOT NULL DEFAULT 'new',
    states        jsonb NOT NULL DEFAULT '[]'::jsonb,
    transitions   jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lifecycle_model_module_idx ON lifecycle_model (module_id);

-- Until now no model existed, so any id stored names nothing.
UPDATE object SET lifecycle_model_id = NULL WHERE lifecycle_model_id IS NOT NULL;
UPDATE module SET default_lifecycle_model_id = NULL WHERE default_lifecycle_model_id IS NOT NULL;
ALTER TABLE object ADD CONSTRAINT object_lifecycle_model_fk
    FOREIGN KEY (lifecycle_model_id) REFERENCES lifecycle_model (id) ON DELETE SET NULL;
ALTER TABLE module ADD CONSTRAINT module_default_lifecycle_model_fk
    FOREIGN KEY (default_lifecycle_model_id) REFERENCES lifecycle_model (id) ON DELETE SET NULL;
CREATE INDEX object_lifecycle_model_idx ON object (lifecycle_model_id) WHERE lifecycle_model_id IS NOT NULL;
CREATE INDEX module_default_lifecycle_model_idx ON module (default_lifecycle_model_id)
    WHERE default_lifecycle_model_id IS NOT NULL;

CREATE TRIGGER audit_lifecycle_model AFTER INSERT OR UPDATE OR DELETE ON lifecycle_model
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
