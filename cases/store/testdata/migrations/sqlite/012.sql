-- migration 12 (sqlite): staff invitations
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE invitations (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			token_hash BLOB NOT NULL,
			email TEXT NOT NULL,
			role TEXT NOT NULL,
			security_trained BOOLEAN NOT NULL DEFAULT FALSE,
			invited_by TEXT NOT NULL,
			created_at DATETIME NOT NULL,
			expires_at DATETIME NOT NULL,
			used_at DATETIME,
			revoked_at DATETIME
		);

CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);

CREATE INDEX invitations_email ON invitations (email);
