-- migration 11 (postgres): the request a submission filed
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

ALTER TABLE reports ADD COLUMN request_digest BYTEA;
