-- migration 15 (postgres): login throttle per account
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE login_throttles (
			account_key TEXT PRIMARY KEY,
			failures INTEGER NOT NULL DEFAULT 0,
			refused INTEGER NOT NULL DEFAULT 0,
			locked_until TIMESTAMPTZ,
			updated_at TIMESTAMPTZ NOT NULL
		);

CREATE INDEX login_throttles_updated_at ON login_throttles (updated_at);

CREATE TABLE login_failure_clients (
			account_key TEXT NOT NULL,
			client_key TEXT NOT NULL,
			PRIMARY KEY (account_key, client_key)
		);

ALTER TABLE sessions ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;

ALTER TABLE sessions ADD COLUMN failed_login_clients INTEGER NOT NULL DEFAULT 0;
