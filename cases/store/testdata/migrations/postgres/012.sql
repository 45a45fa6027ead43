-- migration 12 (postgres): staff invitations
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE invitations (
			id BIGSERIAL PRIMARY KEY,
			token_hash BYTEA NOT NULL,
			email TEXT NOT NULL,
			role TEXT NOT NULL,
			security_trained BOOLEAN NOT NULL DEFAULT FALSE,
			invited_by TEXT NOT NULL,
			created_at TIMESTAMPTZ NOT NULL,
			expires_at TIMESTAMPTZ NOT NULL,
			used_at TIMESTAMPTZ,
			revoked_at TIMESTAMPTZ
		);

CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);

CREATE INDEX invitations_email ON invitations (email);
