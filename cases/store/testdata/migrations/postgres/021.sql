-- migration 21 (postgres): passkeys
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE passkeys (
			id BIGSERIAL PRIMARY KEY,
			user_id BIGINT NOT NULL REFERENCES users (id),
			user_handle BYTEA NOT NULL,
			credential_id BYTEA NOT NULL,
			public_key BYTEA NOT NULL,
			aaguid BYTEA,
			sign_count BIGINT NOT NULL DEFAULT 0,
			transports TEXT NOT NULL DEFAULT '',
			flags INTEGER NOT NULL DEFAULT 0,
			attestation_format TEXT NOT NULL DEFAULT '',
			name TEXT NOT NULL,
			created_at TIMESTAMPTZ NOT NULL,
			last_used_at TIMESTAMPTZ
		);

CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id);

CREATE INDEX passkeys_user_id ON passkeys (user_id);

CREATE INDEX passkeys_user_handle ON passkeys (user_handle);

CREATE TABLE passkey_ceremonies (
			id BIGSERIAL PRIMARY KEY,
			handle_hash BYTEA NOT NULL,
			kind TEXT NOT NULL,
			user_id BIGINT REFERENCES users (id),
			session_hash BYTEA,
			user_handle BYTEA,
			state BYTEA NOT NULL,
			expires_at TIMESTAMPTZ NOT NULL
		);

CREATE UNIQUE INDEX passkey_ceremonies_handle ON passkey_ceremonies (handle_hash);

CREATE INDEX passkey_ceremonies_expires_at ON passkey_ceremonies (expires_at);
