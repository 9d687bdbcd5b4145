-- Core req1 schema (spec §7.1, §7.2): workspaces to objects, history, links, baselines, attachments,
-- views, comments. FKs to the parent cascade; objects are only hard-deleted with their module, so
-- baseline entries never dangle. object_history has no FKs so it outlives objects and modules.

CREATE TABLE workspace (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE project (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (btrim(name) <> ''),
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX project_workspace_idx ON project (workspace_id);

CREATE TABLE module (
    id                         uuid PRIMARY KEY,
    project_id                 uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    name                       text NOT NULL CHECK (btrim(name) <> ''),
    description                text,
    prefix                     text NOT NULL DEFAULT '',
    separator                  text NOT NULL DEFAULT '-',
    digits                     integer NOT NULL DEFAULT 3,
    required_attributes        text[] NOT NULL DEFAULT '{}',
    default_classification     text NOT NULL DEFAULT 'normative'
        CHECK (default_classification IN ('normative', 'informative', 'heading')),
    publish_template           text,
    default_lifecycle_model_id uuid,
    signature_config           jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX module_project_idx ON module (project_id);

CREATE TABLE object (
    id                   uuid PRIMARY KEY,
    module_id            uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    parent_id            uuid REFERENCES object (id) ON DELETE SET NULL,
    position             integer NOT NULL DEFAULT 0,
    level                text NOT NULL DEFAULT '',
    level_path           integer[] NOT NULL DEFAULT '{}',
    heading              text,
    body                 text,
    body_text            text,
    attributes           jsonb NOT NULL DEFAULT '{}'::jsonb,
    current_version      integer NOT NULL DEFAULT 1,
    classification       text NOT NULL DEFAULT 'normative'
        CHECK (classification IN ('normative', 'informative', 'heading')),
    content_fingerprint  text NOT NULL,
    reviewed_fingerprint text,
    reviewed_at          timestamptz,
    reviewed_by          uuid,
    references_          jsonb NOT NULL DEFAULT '[]'::jsonb,
    object_type_id       uuid,
    lifecycle_state      text,
    lifecycle_model_id   uuid,
    source_object_id     uuid REFERENCES object (id) ON DELETE SET NULL,
    source_module_id     uuid REFERENCES module (id) ON DELETE SET NULL,
    is_placeholder       boolean NOT NULL DEFAULT false,
    docx_source_id       uuid,
    deleted_at           timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    search_vector        tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(heading, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(body_text, '')), 'B')
    ) STORED
);
CREATE INDEX object_module_live_order_idx ON object (module_id, level_path) WHERE deleted_at IS NULL;
CREATE INDEX object_module_idx ON object (module_id);
CREATE INDEX object_parent_idx ON object (parent_id);
CREATE INDEX object_source_object_idx ON object (source_object_id) WHERE source_object_id IS NOT NULL;
CREATE INDEX object_search_idx ON object USING gin (search_vector);
CREATE INDEX object_attributes_idx ON object USING gin (attributes);

CREATE TABLE object_history (
    id                  bigserial PRIMARY KEY,
    object_id           uuid NOT NULL,
    module_id           uuid NOT NULL,
    version             integer NOT NULL,
    attribute_values    jsonb,
    heading             text,
    body                text,
    changed_by          uuid,
    changed_at          timestamptz NOT NULL DEFAULT now(),
    change_type         text NOT NULL CHECK (change_type IN ('create', 'update', 'delete', 'move', 'sync')),
    content_fingerprint text,
    -- the rest of the snapshot (added fields): enough to replay the object's full state
    parent_id           uuid,
    position            integer,
    level               text,
    classification      text,
    deleted_at          timestamptz,
    UNIQUE (object_id, version)
);

CREATE TABLE attribute_definition (
    id                 uuid PRIMARY KEY,
    module_id          uuid REFERENCES module (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (btrim(name) <> ''),
    data_type          text NOT NULL
        CHECK (data_type IN ('string', 'integer', 'float', 'date', 'bool', 'enum', 'rich_text', 'user_ref')),
    default_value      text,
    enum_values        jsonb,
    multi_select       boolean NOT NULL DEFAULT false,
    depends_on         uuid REFERENCES attribute_definition (id) ON DELETE SET NULL,
    dependency_mapping jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (module_id, name)
);
CREATE UNIQUE INDEX attribute_definition_global_name_key ON attribute_definition (name) WHERE module_id IS NULL;
CREATE INDEX attribute_definition_module_idx ON attribute_definition (module_id);

CREATE TABLE link_type (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO link_type (id, name, description) VALUES
    ('00000000-0000-0000-0000-000000000010', 'satisfies', 'Source satisfies the target requirement'),
    ('00000000-0000-0000-0000-000000000011', 'derives-from', 'Source is derived from the target'),
    ('00000000-0000-0000-0000-000000000012', 'verifies', 'Source verifies the target'),
    ('00000000-0000-0000-0000-000000000013', 'mitigates', 'Source mitigates the target risk'),
    ('00000000-0000-0000-0000-000000000014', 'implements', 'Source implements the target')
ON CONFLICT (id) DO NOTHING;

CREATE TABLE link (
    id                 uuid PRIMARY KEY,
    source_object_id   uuid NOT NULL REFERENCES object (id) ON DELETE CASCADE,
    target_object_id   uuid NOT NULL REFERENCES object (id) ON DELETE CASCADE,
    link_type_id       uuid NOT NULL REFERENCES link_type (id) ON DELETE RESTRICT,
    attributes         jsonb,
    suspect            boolean NOT NULL DEFAULT false,
    source_fingerprint text,
    target_fingerprint text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (source_object_id <> target_object_id),
    UNIQUE (source_object_id, target_object_id, link_type_id)
);
CREATE INDEX link_source_idx ON link (source_object_id);
CREATE INDEX link_target_idx ON link (target_object_id);
CREATE INDEX link_type_idx ON link (link_type_id);

CREATE TABLE baseline_set (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    version     text NOT NULL DEFAULT '1.0',
    description text,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE baseline (
    id              uuid PRIMARY KEY,
    module_id       uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (btrim(name) <> ''),
    description     text,
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    locked          boolean NOT NULL DEFAULT true CHECK (locked),
    baseline_set_id uuid REFERENCES baseline_set (id) ON DELETE SET NULL
);
CREATE INDEX baseline_module_idx ON baseline (module_id);
CREATE INDEX baseline_set_idx ON baseline (baseline_set_id);

CREATE TABLE baseline_entry (
    baseline_id uuid NOT NULL REFERENCES baseline (id) ON DELETE CASCADE,
    object_id   uuid NOT NULL REFERENCES object (id) ON DELETE CASCADE,
    version     integer NOT NULL,
    PRIMARY KEY (baseline_id, object_id)
);
CREATE INDEX baseline_entry_object_idx ON baseline_entry (object_id);

-- Baselines are immutable (spec §4.7): entries can never be updated, and a baseline row can only
-- lose its set (ON DELETE SET NULL of baseline_set), nothing else.
CREATE FUNCTION req1_reject_baseline_entry_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'baseline entries are immutable' USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER baseline_entry_immutable BEFORE UPDATE ON baseline_entry
    FOR EACH ROW EXECUTE FUNCTION req1_reject_baseline_entry_update();

CREATE FUNCTION req1_reject_baseline_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.module_id, NEW.name, NEW.description, NEW.created_by, NEW.created_at, NEW.locked)
       IS DISTINCT FROM
       (OLD.id, OLD.module_id, OLD.name, OLD.description, OLD.created_by, OLD.created_at, OLD.locked) THEN
        RAISE EXCEPTION 'baselines are immutable' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER baseline_immutable BEFORE UPDATE ON baseline
    FOR EACH ROW EXECUTE FUNCTION req1_reject_baseline_update();

CREATE TABLE attachment (
    id           uuid PRIMARY KEY,
    object_id    uuid NOT NULL REFERENCES object (id) ON DELETE CASCADE,
    file_name    text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL,
    storage_path text NOT NULL,
    sha256       text NOT NULL,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachment_object_idx ON attachment (object_id);

CREATE TABLE view (
    id            uuid PRIMARY KEY,
    module_id     uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (btrim(name) <> ''),
    is_default    boolean NOT NULL DEFAULT false,
    column_config jsonb NOT NULL DEFAULT '[]'::jsonb,
    filter_config jsonb NOT NULL DEFAULT '{}'::jsonb,
    sort_config   jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX view_module_idx ON view (module_id);

CREATE TABLE comment (
    id                 uuid PRIMARY KEY,
    object_id          uuid NOT NULL REFERENCES object (id) ON DELETE CASCADE,
    author_id          uuid,
    body               text NOT NULL CHECK (btrim(body) <> ''),
    mentioned_user_ids uuid[] NOT NULL DEFAULT '{}',
    resolved           boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comment_object_idx ON comment (object_id);
