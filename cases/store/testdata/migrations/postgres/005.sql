-- migration 5 (postgres): containment actions and their webhook outbox
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE containment_actions (
			id BIGSERIAL PRIMARY KEY,
			case_id BIGINT NOT NULL REFERENCES cases (id),
			action TEXT NOT NULL,
			state TEXT NOT NULL,
			requested_by TEXT NOT NULL,
			requested_at TIMESTAMPTZ NOT NULL,
			delivered_at TIMESTAMPTZ,
			confirmed_at TIMESTAMPTZ,
			result_detail TEXT NOT NULL DEFAULT '',
			result_by TEXT NOT NULL DEFAULT ''
		);

CREATE UNIQUE INDEX containment_actions_case_action ON containment_actions (case_id, action);

CREATE TABLE webhook_deliveries (
			id BIGSERIAL PRIMARY KEY,
			case_id BIGINT NOT NULL REFERENCES cases (id),
			action_id BIGINT NOT NULL REFERENCES containment_actions (id),
			idempotency_key TEXT NOT NULL,
			event TEXT NOT NULL,
			case_ref TEXT NOT NULL,
			account_ref TEXT NOT NULL,
			kind TEXT NOT NULL,
			action TEXT NOT NULL,
			requested_at TIMESTAMPTZ NOT NULL,
			state TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			next_attempt_at TIMESTAMPTZ NOT NULL,
			expires_at TIMESTAMPTZ NOT NULL,
			last_error TEXT NOT NULL DEFAULT '',
			lease_owner TEXT NOT NULL DEFAULT '',
			lease_until TIMESTAMPTZ,
			created_at TIMESTAMPTZ NOT NULL,
			delivered_at TIMESTAMPTZ
		);

CREATE UNIQUE INDEX webhook_deliveries_key ON webhook_deliveries (idempotency_key);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);

CREATE INDEX webhook_deliveries_case_id ON webhook_deliveries (case_id);
