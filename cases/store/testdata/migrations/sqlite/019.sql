-- migration 19 (sqlite): typo domains
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE typo_domains (
			domain TEXT PRIMARY KEY,
			intended TEXT NOT NULL,
			confirmed_by TEXT NOT NULL,
			confirmed_at DATETIME NOT NULL
		);

CREATE INDEX typo_domains_confirmed_at ON typo_domains (confirmed_at);
