-- migration 2 (sqlite): mail evidence and mailbox state
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE mail_messages (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			source TEXT NOT NULL,
			imap_key TEXT,
			message_id TEXT NOT NULL DEFAULT '',
			from_addr TEXT NOT NULL DEFAULT '',
			subject TEXT NOT NULL DEFAULT '',
			class TEXT NOT NULL,
			disposition TEXT NOT NULL,
			reason TEXT NOT NULL DEFAULT '',
			lang TEXT NOT NULL DEFAULT '',
			report_id BIGINT REFERENCES reports (id),
			case_id BIGINT REFERENCES cases (id),
			raw BLOB,
			size BIGINT NOT NULL,
			sha256 BLOB NOT NULL,
			parser_version INTEGER NOT NULL,
			problems TEXT NOT NULL DEFAULT '',
			received_at DATETIME NOT NULL
		);

CREATE UNIQUE INDEX mail_messages_imap_key ON mail_messages (imap_key);

CREATE INDEX mail_messages_message_id ON mail_messages (message_id, disposition);

CREATE INDEX mail_messages_disposition ON mail_messages (disposition, received_at);

CREATE INDEX mail_messages_case_id ON mail_messages (case_id);

CREATE TABLE mailboxes (
			name TEXT PRIMARY KEY,
			uid_validity BIGINT NOT NULL DEFAULT 0,
			last_uid BIGINT NOT NULL DEFAULT 0,
			last_success DATETIME,
			last_error TEXT NOT NULL DEFAULT '',
			last_error_at DATETIME,
			waiting BIGINT NOT NULL DEFAULT 0,
			first_seen DATETIME NOT NULL,
			updated_at DATETIME NOT NULL
		);

CREATE TABLE acks (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			mail_id BIGINT NOT NULL REFERENCES mail_messages (id),
			case_id BIGINT NOT NULL REFERENCES cases (id),
			kind TEXT NOT NULL,
			to_addr TEXT NOT NULL,
			lang TEXT NOT NULL,
			in_reply_to TEXT NOT NULL DEFAULT '',
			subject TEXT NOT NULL DEFAULT '',
			case_ref TEXT NOT NULL,
			status_url TEXT NOT NULL DEFAULT '',
			state TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			next_attempt_at DATETIME NOT NULL,
			last_error TEXT NOT NULL DEFAULT '',
			created_at DATETIME NOT NULL,
			sent_at DATETIME
		);

CREATE INDEX acks_due ON acks (state, next_attempt_at);

CREATE INDEX acks_to_addr ON acks (to_addr, created_at);
