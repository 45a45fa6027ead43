-- migration 4 (postgres): SLA deadlines, breaches, escalation rules
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

ALTER TABLE cases ADD COLUMN resolve_by TIMESTAMPTZ;

ALTER TABLE cases ADD COLUMN assess_by TIMESTAMPTZ;

ALTER TABLE cases ADD COLUMN assessed_at TIMESTAMPTZ;

ALTER TABLE cases ADD COLUMN assessment TEXT NOT NULL DEFAULT '';

CREATE INDEX cases_resolve_by ON cases (status, resolve_by);

CREATE INDEX cases_assess_by ON cases (assess_by);

ALTER TABLE reports ADD COLUMN recipient_domain TEXT NOT NULL DEFAULT '';

CREATE INDEX reports_recipient_domain ON reports (recipient_domain, received_at);

CREATE INDEX reports_reporter ON reports (reporter);

CREATE TABLE sla_breaches (
			id BIGSERIAL PRIMARY KEY,
			case_id BIGINT NOT NULL REFERENCES cases (id),
			deadline TEXT NOT NULL,
			due_at TIMESTAMPTZ NOT NULL,
			marked_at TIMESTAMPTZ NOT NULL
		);

CREATE UNIQUE INDEX sla_breaches_once ON sla_breaches (case_id, deadline, due_at);

CREATE TABLE case_escalations (
			id BIGSERIAL PRIMARY KEY,
			case_id BIGINT NOT NULL REFERENCES cases (id),
			rule TEXT NOT NULL,
			at TIMESTAMPTZ NOT NULL
		);

CREATE UNIQUE INDEX case_escalations_once ON case_escalations (case_id, rule);
