-- migration 21 (sqlite): passkeys
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE passkeys (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			user_id BIGINT NOT NULL REFERENCES users (id),
			user_handle BLOB NOT NULL,
			credential_id BLOB NOT NULL,
			public_key BLOB NOT NULL,
			aaguid BLOB,
			sign_count BIGINT NOT NULL DEFAULT 0,
			transports TEXT NOT NULL DEFAULT '',
			flags INTEGER NOT NULL DEFAULT 0,
			attestation_format TEXT NOT NULL DEFAULT '',
			name TEXT NOT NULL,
			created_at DATETIME NOT NULL,
			last_used_at DATETIME
		);

CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id);

CREATE INDEX passkeys_user_id ON passkeys (user_id);

CREATE INDEX passkeys_user_handle ON passkeys (user_handle);

CREATE TABLE passkey_ceremonies (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			handle_hash BLOB NOT NULL,
			kind TEXT NOT NULL,
			user_id BIGINT REFERENCES users (id),
			session_hash BLOB,
			user_handle BLOB,
			state BLOB NOT NULL,
			expires_at DATETIME NOT NULL
		);

CREATE UNIQUE INDEX passkey_ceremonies_handle ON passkey_ceremonies (handle_hash);

CREATE INDEX passkey_ceremonies_expires_at ON passkey_ceremonies (expires_at);
