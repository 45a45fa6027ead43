-- migration 8 (sqlite): several instances: mailbox leases, ack claims, shared rate limits
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE mailbox_leases (
			name TEXT PRIMARY KEY,
			owner TEXT NOT NULL,
			lease_until DATETIME NOT NULL,
			acquired_at DATETIME NOT NULL
		);

ALTER TABLE acks ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';

CREATE TABLE rate_limit_counters (
			key TEXT NOT NULL,
			window_start BIGINT NOT NULL,
			hits BIGINT NOT NULL,
			expires_at DATETIME NOT NULL,
			PRIMARY KEY (key, window_start)
		);

CREATE INDEX rate_limit_counters_expires ON rate_limit_counters (expires_at);
