-- migration 10 (postgres): rate limit counters without durable commits
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

ALTER TABLE rate_limit_counters SET UNLOGGED;
