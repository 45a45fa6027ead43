-- migration 20 (postgres): a second factor: TOTP and recovery codes
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE totp_secrets (
			user_id BIGINT PRIMARY KEY REFERENCES users (id),
			sealed TEXT NOT NULL,
			created_at TIMESTAMPTZ NOT NULL,
			confirmed_at TIMESTAMPTZ,
			last_step BIGINT NOT NULL DEFAULT 0
		);

CREATE TABLE recovery_codes (
			id BIGSERIAL PRIMARY KEY,
			user_id BIGINT NOT NULL REFERENCES users (id),
			code_hash BYTEA NOT NULL,
			used_at TIMESTAMPTZ
		);

CREATE UNIQUE INDEX recovery_codes_code_hash ON recovery_codes (user_id, code_hash);

ALTER TABLE sessions ADD COLUMN pending_second_factor BOOLEAN NOT NULL DEFAULT FALSE;
