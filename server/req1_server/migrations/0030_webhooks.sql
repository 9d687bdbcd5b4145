-- Webhooks (extended contract §8): subscriptions per module, and a durable delivery queue filled by the
-- database itself. An AFTER ROW trigger on object queues one delivery per active subscribed webhook of the
-- object's module, in the transaction of the change: every write path (API, imports, moves, sync, scripts
-- later) is covered without code in the handlers, a rolled-back change queues nothing, and deliveries leave only
-- after commit (the dispatcher sees committed rows only). `seq` orders deliveries; the dispatcher never sends a
-- delivery while an earlier one for the same webhook and object is still pending, so a receiver sees each
-- object's events in order.

CREATE TABLE webhook (
    id         uuid PRIMARY KEY,
    module_id  uuid NOT NULL REFERENCES module (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    url        text NOT NULL,
    secret     text,
    events     text NOT NULL DEFAULT 'object.created,object.updated,object.deleted',
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_module_idx ON webhook (module_id) WHERE active;

CREATE TABLE webhook_delivery (
    id               uuid PRIMARY KEY,
    seq              bigserial NOT NULL UNIQUE,
    webhook_id       uuid NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
    object_id        uuid,
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'success', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text,
    next_attempt_at  timestamptz DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX webhook_delivery_order_idx ON webhook_delivery (webhook_id, object_id, seq) WHERE status = 'pending';
CREATE INDEX webhook_delivery_list_idx ON webhook_delivery (webhook_id, created_at DESC, id);

-- A UUID whose first 48 bits are the time in milliseconds (version 7), like the ids the server makes.
CREATE FUNCTION req1_uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(
        set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
            PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
            FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

CREATE FUNCTION req1_queue_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev text;
BEGIN
    IF NEW.is_placeholder THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.deleted_at IS NOT NULL THEN
            RETURN NULL;
        END IF;
        ev := 'object.created';
    ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        ev := 'object.deleted';
    ELSIF NEW.deleted_at IS NOT NULL THEN
        RETURN NULL;  -- changes to a deleted object are not news
    ELSIF NEW.current_version IS DISTINCT FROM OLD.current_version
          OR NEW.parent_id IS DISTINCT FROM OLD.parent_id
          OR NEW.position IS DISTINCT FROM OLD.position
          OR NEW.level IS DISTINCT FROM OLD.level
          OR NEW.lifecycle_state IS DISTINCT FROM OLD.lifecycle_state
          OR OLD.deleted_at IS NOT NULL THEN
        ev := 'object.updated';
    ELSE
        RETURN NULL;  -- bookkeeping only (review marks, search columns)
    END IF;
    INSERT INTO webhook_delivery (id, webhook_id, object_id, event, payload)
    SELECT d.id, d.webhook_id, NEW.id, ev, jsonb_build_object(
               'event', ev, 'module_id', NEW.module_id, 'object_id', NEW.id,
               'data', jsonb_build_object('heading', NEW.heading, 'body', NEW.body),
               'delivery_id', d.id, 'occurred_at', to_jsonb(clock_timestamp()),
               'user_id', nullif(current_setting('req1.actor', true), ''),
               'version', NEW.current_version)
    FROM (SELECT req1_uuid7() AS id, w.id AS webhook_id FROM webhook w
          WHERE w.module_id = NEW.module_id AND w.active AND ev = ANY (string_to_array(w.events, ','))) d;
    IF FOUND THEN
        PERFORM pg_notify('req1_webhooks', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER object_webhooks AFTER INSERT OR UPDATE ON object
    FOR EACH ROW EXECUTE FUNCTION req1_queue_webhooks();
