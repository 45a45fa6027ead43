-- migration 1 (sqlite): ledger, cases, reports, timeline, staff, api keys
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE ledger_messages (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			message_id TEXT NOT NULL,
			account_ref TEXT NOT NULL,
			recipient TEXT NOT NULL,
			kind TEXT NOT NULL,
			subject TEXT NOT NULL DEFAULT '',
			sent_at DATETIME,
			created_at DATETIME NOT NULL
		);

CREATE UNIQUE INDEX ledger_messages_message_id ON ledger_messages (message_id);

CREATE INDEX ledger_messages_recipient ON ledger_messages (recipient);

CREATE INDEX ledger_messages_account_ref ON ledger_messages (account_ref);

CREATE TABLE cases (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			ref TEXT NOT NULL,
			group_key TEXT NOT NULL,
			open_key TEXT,
			account_ref TEXT NOT NULL DEFAULT '',
			kind TEXT NOT NULL DEFAULT '',
			status TEXT NOT NULL,
			severity TEXT NOT NULL,
			tier TEXT NOT NULL,
			confidence TEXT NOT NULL,
			escalated BOOLEAN NOT NULL DEFAULT FALSE,
			assignee_id BIGINT,
			created_at DATETIME NOT NULL,
			updated_at DATETIME NOT NULL,
			contain_by DATETIME NOT NULL
		);

CREATE UNIQUE INDEX cases_ref ON cases (ref);

CREATE UNIQUE INDEX cases_open_key ON cases (open_key);

CREATE INDEX cases_queue ON cases (status, contain_by);

CREATE INDEX cases_account_ref ON cases (account_ref);

CREATE INDEX cases_group_key ON cases (group_key, status);

CREATE TABLE reports (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			case_id BIGINT NOT NULL REFERENCES cases (id),
			channel TEXT NOT NULL,
			matched_by TEXT NOT NULL,
			confidence TEXT NOT NULL,
			message_id TEXT NOT NULL DEFAULT '',
			token_key_id INTEGER NOT NULL DEFAULT 0,
			opened_link BOOLEAN NOT NULL DEFAULT FALSE,
			set_password BOOLEAN NOT NULL DEFAULT FALSE,
			never_signed_up BOOLEAN NOT NULL DEFAULT FALSE,
			note TEXT NOT NULL DEFAULT '',
			reporter TEXT NOT NULL DEFAULT '',
			status_hash BLOB NOT NULL,
			received_at DATETIME NOT NULL
		);

CREATE INDEX reports_case_id ON reports (case_id);

CREATE UNIQUE INDEX reports_status_hash ON reports (status_hash);

CREATE TABLE case_events (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			case_id BIGINT NOT NULL REFERENCES cases (id),
			at DATETIME NOT NULL,
			actor TEXT NOT NULL,
			type TEXT NOT NULL,
			detail TEXT NOT NULL DEFAULT ''
		);

CREATE INDEX case_events_case_id ON case_events (case_id, id);

CREATE TABLE users (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			email TEXT NOT NULL,
			role TEXT NOT NULL,
			security_trained BOOLEAN NOT NULL DEFAULT FALSE,
			password_hash TEXT NOT NULL,
			disabled BOOLEAN NOT NULL DEFAULT FALSE,
			created_at DATETIME NOT NULL
		);

CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE sessions (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			token_hash BLOB NOT NULL,
			user_id BIGINT NOT NULL REFERENCES users (id),
			created_at DATETIME NOT NULL,
			expires_at DATETIME NOT NULL
		);

CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);

CREATE TABLE api_keys (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			name TEXT NOT NULL,
			prefix TEXT NOT NULL,
			key_hash BLOB NOT NULL,
			scopes TEXT NOT NULL,
			created_at DATETIME NOT NULL,
			revoked_at DATETIME
		);

CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix);

CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;

CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
