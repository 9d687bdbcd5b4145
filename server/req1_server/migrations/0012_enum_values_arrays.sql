-- The demo seed once stored attribute_definition.enum_values (and could have stored dependency_mapping)
-- JSON-encoded a second time: a jsonb *string* holding '["low", ...]' instead of the array the API
-- contract promises. Decode such strings in place. A string that is not valid JSON, or that decodes to
-- something other than an array (enum_values) or object (dependency_mapping), is left as it is rather
-- than failing the migration; no path writes those.
DO $$
DECLARE
    r record;
    decoded jsonb;
BEGIN
    FOR r IN SELECT id, enum_values FROM attribute_definition WHERE jsonb_typeof(enum_values) = 'string' LOOP
        BEGIN
            decoded := (r.enum_values #>> '{}')::jsonb;
        EXCEPTION WHEN invalid_text_representation THEN
            decoded := NULL;
        END;
        IF jsonb_typeof(decoded) = 'array' THEN
            UPDATE attribute_definition SET enum_values = decoded WHERE id = r.id;
        END IF;
    END LOOP;
    FOR r IN SELECT id, dependency_mapping FROM attribute_definition
             WHERE jsonb_typeof(dependency_mapping) = 'string' LOOP
        BEGIN
            decoded := (r.dependency_mapping #>> '{}')::jsonb;
        EXCEPTION WHEN invalid_text_representation THEN
            decoded := NULL;
        END;
        IF jsonb_typeof(decoded) = 'object' THEN
            UPDATE attribute_definition SET dependency_mapping = decoded WHERE id = r.id;
        END IF;
    END LOOP;
END
$$;
