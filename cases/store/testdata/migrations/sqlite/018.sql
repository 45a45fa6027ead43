-- migration 18 (sqlite): suppression list
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE suppressions (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			addr_hash BLOB NOT NULL,
			addr_masked TEXT NOT NULL DEFAULT '',
			domain TEXT NOT NULL DEFAULT '',
			account_ref TEXT NOT NULL DEFAULT '',
			reason TEXT NOT NULL,
			origin TEXT NOT NULL,
			case_id BIGINT REFERENCES cases (id),
			created_by TEXT NOT NULL,
			created_at DATETIME NOT NULL,
			expires_at DATETIME,
			removed_at DATETIME,
			removed_by TEXT NOT NULL DEFAULT '',
			removed_reason TEXT NOT NULL DEFAULT ''
		);

CREATE UNIQUE INDEX suppressions_live ON suppressions (addr_hash, account_ref) WHERE removed_at IS NULL;

CREATE INDEX suppressions_domain ON suppressions (domain, id);
