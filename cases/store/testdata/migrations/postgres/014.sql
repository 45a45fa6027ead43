-- migration 14 (postgres): containment holds and triage clients
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE containment_holds (
			id BIGSERIAL PRIMARY KEY,
			scope TEXT NOT NULL,
			key_hash BYTEA NOT NULL,
			case_id BIGINT NOT NULL,
			created_by TEXT NOT NULL,
			created_at TIMESTAMPTZ NOT NULL
		);

CREATE INDEX containment_holds_key ON containment_holds (key_hash);

ALTER TABLE reports ADD COLUMN token_hash BYTEA;

ALTER TABLE reports ADD COLUMN recipient_hash BYTEA;

ALTER TABLE reports ADD COLUMN on_closed_case BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE cases ADD COLUMN triage_client BYTEA;

CREATE INDEX cases_triage_client ON cases (triage_client, created_at);

CREATE INDEX reports_unmatched ON reports (received_at) WHERE confidence = 'unmatched';
