-- migration 13 (postgres): timeline and audit as message codes with arguments
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

ALTER TABLE case_events ADD COLUMN code TEXT;

ALTER TABLE case_events ADD COLUMN args TEXT;

ALTER TABLE audit_log ADD COLUMN args TEXT;
