-- Notifications (extended contract §6): a user mentioned as "@Display Name" in a comment is told so. The
-- comment's mentions are computed by the server (resources/comments.py) into mentioned_user_ids; this trigger
-- turns the users newly in that list (all of them on insert, the added ones on edit) into notification rows in
-- the comment's own transaction, so every path that writes comments notifies, and a rolled-back comment does
-- not. The author is never notified of their own comment. Rows die with their user; they are not audited.

CREATE TABLE notification (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    notification_type text NOT NULL CHECK (notification_type IN ('mention', 'review_assignment')),
    title             text NOT NULL,
    body              text NOT NULL DEFAULT '',
    entity_type       text NOT NULL,
    entity_id         uuid,
    read              boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_user_idx ON notification (user_id, read, created_at DESC);

-- 100 characters (not bytes: a cut never splits a character), then "..." when something was cut.
CREATE FUNCTION req1_excerpt(text, integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN char_length($1) > $2 THEN left($1, $2) || '...' ELSE $1 END
$$;

CREATE FUNCTION req1_notify_mentions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := coalesce(TG_ARGV[0], 'comment');
BEGIN
    INSERT INTO notification (id, user_id, notification_type, title, body, entity_type, entity_id)
    SELECT req1_uuid7(), u.id, 'mention', 'You were mentioned in a ' || kind, req1_excerpt(NEW.body, 100),
           kind, NEW.id
    FROM unnest(NEW.mentioned_user_ids) AS m(user_id)
    JOIN app_user u ON u.id = m.user_id AND u.active
    WHERE m.user_id IS DISTINCT FROM NEW.author_id
      AND (TG_OP = 'INSERT' OR NOT m.user_id = ANY (OLD.mentioned_user_ids));
    RETURN NULL;
END
$$;

CREATE TRIGGER comment_mentions AFTER INSERT OR UPDATE OF mentioned_user_ids ON comment
    FOR EACH ROW EXECUTE FUNCTION req1_notify_mentions('comment');
