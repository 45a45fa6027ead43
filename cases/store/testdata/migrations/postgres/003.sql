-- migration 3 (postgres): audit log
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE TABLE audit_log (
			id BIGSERIAL PRIMARY KEY,
			at TIMESTAMPTZ NOT NULL,
			actor TEXT NOT NULL,
			action TEXT NOT NULL,
			subject TEXT NOT NULL,
			detail TEXT NOT NULL DEFAULT ''
		);

CREATE INDEX audit_log_at ON audit_log (at);

CREATE OR REPLACE FUNCTION notme_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION notme_append_only();
