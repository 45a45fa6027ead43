-- migration 6 (postgres): evidence retention, revealed addresses
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

ALTER TABLE mail_messages ADD COLUMN purged_at TIMESTAMPTZ;

CREATE INDEX mail_messages_unpurged ON mail_messages (received_at, id) WHERE purged_at IS NULL;

CREATE TABLE reveals (
			id BIGSERIAL PRIMARY KEY,
			session_hash BYTEA NOT NULL,
			user_id BIGINT NOT NULL REFERENCES users (id),
			case_id BIGINT NOT NULL REFERENCES cases (id),
			field TEXT NOT NULL,
			expires_at TIMESTAMPTZ NOT NULL
		);

CREATE INDEX reveals_session ON reveals (session_hash, case_id);

CREATE INDEX audit_log_action ON audit_log (action, id);
