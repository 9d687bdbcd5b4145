-- #14 §9: diagrams of a module — Mermaid source the web UI renders; the server only stores it. Diagrams go with
-- their module (CASCADE); `created_by` and `linked_object_ids` have no FK (the handlers check the objects).
-- Audited by the row trigger like every other resource (0017/0021).

CREATE TABLE diagram (
    id                uuid PRIMARY KEY,
    module_id         uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (btrim(name) <> ''),
    description       text,
    diagram_type      text NOT NULL DEFAULT 'use_case'
        CHECK (diagram_type IN ('use_case', 'sequence', 'class', 'flowchart', 'state', 'er')),
    source_code       text NOT NULL DEFAULT '' CHECK (octet_length(source_code) <= 1048576),
    linked_object_ids uuid[] NOT NULL DEFAULT '{}',
    created_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX diagram_module_idx ON diagram (module_id, created_at DESC, id DESC);

CREATE TRIGGER audit_diagram AFTER INSERT OR UPDATE OR DELETE ON diagram
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();
