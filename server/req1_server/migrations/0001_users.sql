-- Accounts (spec §2.3, §7.1). Emails are unique case-insensitively; role is checked here too, so a
-- bad value can never be stored even by a buggy handler.
CREATE TABLE app_user (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    display_name  text NOT NULL,
    role          text NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'editor', 'reviewer', 'viewer')),
    active        boolean NOT NULL DEFAULT true,
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX app_user_email_lower_key ON app_user (lower(email));
