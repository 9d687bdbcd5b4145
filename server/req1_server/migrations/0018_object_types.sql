-- #13 §1: object types of a module, with the attributes their objects must carry and a form layout.
-- Objects keep their type until it is deleted (then null). Audited like every other resource (0017).
CREATE TABLE object_type (
    id                     uuid PRIMARY KEY,
    module_id              uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    name                   text NOT NULL CHECK (btrim(name) <> ''),
    description            text,
    default_classification text NOT NULL DEFAULT 'normative'
        CHECK (default_classification IN ('normative', 'informative', 'heading')),
    required_attributes    text[] NOT NULL DEFAULT '{}',
    attribute_schema       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (module_id, name)
);

-- Until now no type existed, so any id an object carries names nothing.
UPDATE object SET object_type_id = NULL WHERE object_type_id IS NOT NULL;
ALTER TABLE object ADD CONSTRAINT object_object_type_fk
    FOREIGN KEY (object_type_id) REFERENCES object_type (id) ON DELETE SET NULL;
CREATE INDEX object_object_type_idx ON object (object_type_id) WHERE object_type_id IS NOT NULL;

CREATE TRIGGER audit_object_type AFTER INSERT OR UPDATE OR DELETE ON object_type
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
