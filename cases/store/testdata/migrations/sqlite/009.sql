-- migration 9 (sqlite): ledger retention
-- Released SQL: never edit it, add a migration instead (docs/testing.md).

CREATE INDEX IF NOT EXISTS ledger_messages_created_at ON ledger_messages (created_at);
