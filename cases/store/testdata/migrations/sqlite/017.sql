-- migration 17 (sqlite): sessions people can see, staff from single sign-on
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

ALTER TABLE sessions ADD COLUMN last_seen_at DATETIME;

ALTER TABLE sessions ADD COLUMN confirmed_at DATETIME;

ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT '';

ALTER TABLE sessions ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'password';

UPDATE sessions SET last_seen_at = created_at, confirmed_at = created_at;

CREATE INDEX sessions_user_id ON sessions (user_id);

ALTER TABLE users ADD COLUMN oidc_subject TEXT;

CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject);
