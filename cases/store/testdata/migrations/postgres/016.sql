-- migration 16 (postgres): desk instances: heartbeats, and claims that name their instance
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE desk_instances (
			id TEXT PRIMARY KEY,
			host TEXT NOT NULL,
			pid INTEGER NOT NULL,
			started_at TIMESTAMPTZ NOT NULL,
			heartbeat_at TIMESTAMPTZ NOT NULL
		);

ALTER TABLE acks ADD COLUMN lease_until TIMESTAMPTZ;

ALTER TABLE acks ADD COLUMN lease_instance TEXT NOT NULL DEFAULT '';

ALTER TABLE webhook_deliveries ADD COLUMN lease_instance TEXT NOT NULL DEFAULT '';

CREATE INDEX acks_lease_instance ON acks (lease_instance) WHERE lease_instance <> '';

CREATE INDEX webhook_deliveries_lease_instance ON webhook_deliveries (lease_instance) WHERE lease_instance <> '';
