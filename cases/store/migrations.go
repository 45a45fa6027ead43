package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migration is one step of the schema. Steps are append-only: a released
// step is never edited, a change is a new step.
type migration struct {
	version int
	name    string
	stmts   []string
	// appendOnly names tables whose rows may never be changed or deleted;
	// the database itself refuses, whatever the code does.
	appendOnly []string
	// postgres holds statements run only on PostgreSQL, after stmts: tuning
	// SQLite has no equal for.
	postgres []string
}

var migrations = []migration{
	{1, "ledger, cases, reports, timeline, staff, api keys", []string{
		`CREATE TABLE ledger_messages (
			id {{pk}},
			message_id TEXT NOT NULL,
			account_ref TEXT NOT NULL,
			recipient TEXT NOT NULL,
			kind TEXT NOT NULL,
			subject TEXT NOT NULL DEFAULT '',
			sent_at {{time}},
			created_at {{time}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX ledger_messages_message_id ON ledger_messages (message_id)`,
		`CREATE INDEX ledger_messages_recipient ON ledger_messages (recipient)`,
		`CREATE INDEX ledger_messages_account_ref ON ledger_messages (account_ref)`,

		`CREATE TABLE cases (
			id {{pk}},
			ref TEXT NOT NULL,
			group_key TEXT NOT NULL,
			open_key TEXT,
			account_ref TEXT NOT NULL DEFAULT '',
			kind TEXT NOT NULL DEFAULT '',
			status TEXT NOT NULL,
			severity TEXT NOT NULL,
			tier TEXT NOT NULL,
			confidence TEXT NOT NULL,
			escalated {{bool}} NOT NULL DEFAULT FALSE,
			assignee_id BIGINT,
			created_at {{time}} NOT NULL,
			updated_at {{time}} NOT NULL,
			contain_by {{time}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX cases_ref ON cases (ref)`,
		// open_key is the group key while the case is open and NULL after:
		// at most one open case per account (or per unmatched token).
		`CREATE UNIQUE INDEX cases_open_key ON cases (open_key)`,
		`CREATE INDEX cases_queue ON cases (status, contain_by)`,
		`CREATE INDEX cases_account_ref ON cases (account_ref)`,
		`CREATE INDEX cases_group_key ON cases (group_key, status)`,

		`CREATE TABLE reports (
			id {{pk}},
			case_id BIGINT NOT NULL REFERENCES cases (id),
			channel TEXT NOT NULL,
			matched_by TEXT NOT NULL,
			confidence TEXT NOT NULL,
			message_id TEXT NOT NULL DEFAULT '',
			token_key_id INTEGER NOT NULL DEFAULT 0,
			opened_link {{bool}} NOT NULL DEFAULT FALSE,
			set_password {{bool}} NOT NULL DEFAULT FALSE,
			never_signed_up {{bool}} NOT NULL DEFAULT FALSE,
			note TEXT NOT NULL DEFAULT '',
			reporter TEXT NOT NULL DEFAULT '',
			status_hash {{blob}} NOT NULL,
			received_at {{time}} NOT NULL
		)`,
		`CREATE INDEX reports_case_id ON reports (case_id)`,
		`CREATE UNIQUE INDEX reports_status_hash ON reports (status_hash)`,

		`CREATE TABLE case_events (
			id {{pk}},
			case_id BIGINT NOT NULL REFERENCES cases (id),
			at {{time}} NOT NULL,
			actor TEXT NOT NULL,
			type TEXT NOT NULL,
			detail TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX case_events_case_id ON case_events (case_id, id)`,

		`CREATE TABLE users (
			id {{pk}},
			email TEXT NOT NULL,
			role TEXT NOT NULL,
			security_trained {{bool}} NOT NULL DEFAULT FALSE,
			password_hash TEXT NOT NULL,
			disabled {{bool}} NOT NULL DEFAULT FALSE,
			created_at {{time}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX users_email ON users (email)`,

		`CREATE TABLE sessions (
			id {{pk}},
			token_hash {{blob}} NOT NULL,
			user_id BIGINT NOT NULL REFERENCES users (id),
			created_at {{time}} NOT NULL,
			expires_at {{time}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash)`,

		`CREATE TABLE api_keys (
			id {{pk}},
			name TEXT NOT NULL,
			prefix TEXT NOT NULL,
			key_hash {{blob}} NOT NULL,
			scopes TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			revoked_at {{time}}
		)`,
		`CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix)`,
	}, []string{"case_events"}, nil},
	{2, "mail evidence and mailbox state", []string{
		`CREATE TABLE mail_messages (
			id {{pk}},
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
			raw {{blob}},
			size BIGINT NOT NULL,
			sha256 {{blob}} NOT NULL,
			parser_version INTEGER NOT NULL,
			problems TEXT NOT NULL DEFAULT '',
			received_at {{time}} NOT NULL
		)`,
		// One row per IMAP message: a re-fetch after a crash finds it.
		`CREATE UNIQUE INDEX mail_messages_imap_key ON mail_messages (imap_key)`,
		`CREATE INDEX mail_messages_message_id ON mail_messages (message_id, disposition)`,
		`CREATE INDEX mail_messages_disposition ON mail_messages (disposition, received_at)`,
		`CREATE INDEX mail_messages_case_id ON mail_messages (case_id)`,

		`CREATE TABLE mailboxes (
			name TEXT PRIMARY KEY,
			uid_validity BIGINT NOT NULL DEFAULT 0,
			last_uid BIGINT NOT NULL DEFAULT 0,
			last_success {{time}},
			last_error TEXT NOT NULL DEFAULT '',
			last_error_at {{time}},
			waiting BIGINT NOT NULL DEFAULT 0,
			first_seen {{time}} NOT NULL,
			updated_at {{time}} NOT NULL
		)`,

		`CREATE TABLE acks (
			id {{pk}},
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
			next_attempt_at {{time}} NOT NULL,
			last_error TEXT NOT NULL DEFAULT '',
			created_at {{time}} NOT NULL,
			sent_at {{time}}
		)`,
		`CREATE INDEX acks_due ON acks (state, next_attempt_at)`,
		`CREATE INDEX acks_to_addr ON acks (to_addr, created_at)`,
	}, nil, nil},
	{3, "audit log", []string{
		`CREATE TABLE audit_log (
			id {{pk}},
			at {{time}} NOT NULL,
			actor TEXT NOT NULL,
			action TEXT NOT NULL,
			subject TEXT NOT NULL,
			detail TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX audit_log_at ON audit_log (at)`,
	}, []string{"audit_log"}, nil},
	{4, "SLA deadlines, breaches, escalation rules", []string{
		// NULL on cases opened before this step: no deadline is invented
		// for them.
		`ALTER TABLE cases ADD COLUMN resolve_by {{time}}`,
		`ALTER TABLE cases ADD COLUMN assess_by {{time}}`,
		`ALTER TABLE cases ADD COLUMN assessed_at {{time}}`,
		`ALTER TABLE cases ADD COLUMN assessment TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX cases_resolve_by ON cases (status, resolve_by)`,
		`CREATE INDEX cases_assess_by ON cases (assess_by)`,
		`ALTER TABLE reports ADD COLUMN recipient_domain TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX reports_recipient_domain ON reports (recipient_domain, received_at)`,
		`CREATE INDEX reports_reporter ON reports (reporter)`,
		// One row per passed deadline: the unique key makes marking
		// idempotent, also with several instances.
		`CREATE TABLE sla_breaches (
			id {{pk}},
			case_id BIGINT NOT NULL REFERENCES cases (id),
			deadline TEXT NOT NULL,
			due_at {{time}} NOT NULL,
			marked_at {{time}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX sla_breaches_once ON sla_breaches (case_id, deadline, due_at)`,
		// Each automatic rule escalates a case at most once.
		`CREATE TABLE case_escalations (
			id {{pk}},
			case_id BIGINT NOT NULL REFERENCES cases (id),
			rule TEXT NOT NULL,
			at {{time}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX case_escalations_once ON case_escalations (case_id, rule)`,
	}, nil, nil},
	{5, "containment actions and their webhook outbox", []string{
		// One row per action requested for a case, never two.
		`CREATE TABLE containment_actions (
			id {{pk}},
			case_id BIGINT NOT NULL REFERENCES cases (id),
			action TEXT NOT NULL,
			state TEXT NOT NULL,
			requested_by TEXT NOT NULL,
			requested_at {{time}} NOT NULL,
			delivered_at {{time}},
			confirmed_at {{time}},
			result_detail TEXT NOT NULL DEFAULT '',
			result_by TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE UNIQUE INDEX containment_actions_case_action ON containment_actions (case_id, action)`,
		// The outbox: written in the transaction of the case change. The
		// idempotency key is made once and sent with every attempt; a lease
		// (lease_owner, lease_until) lets one worker at a time send a row,
		// and a crashed worker's rows go again once the lease runs out.
		`CREATE TABLE webhook_deliveries (
			id {{pk}},
			case_id BIGINT NOT NULL REFERENCES cases (id),
			action_id BIGINT NOT NULL REFERENCES containment_actions (id),
			idempotency_key TEXT NOT NULL,
			event TEXT NOT NULL,
			case_ref TEXT NOT NULL,
			account_ref TEXT NOT NULL,
			kind TEXT NOT NULL,
			action TEXT NOT NULL,
			requested_at {{time}} NOT NULL,
			state TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			next_attempt_at {{time}} NOT NULL,
			expires_at {{time}} NOT NULL,
			last_error TEXT NOT NULL DEFAULT '',
			lease_owner TEXT NOT NULL DEFAULT '',
			lease_until {{time}},
			created_at {{time}} NOT NULL,
			delivered_at {{time}}
		)`,
		`CREATE UNIQUE INDEX webhook_deliveries_key ON webhook_deliveries (idempotency_key)`,
		`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)`,
		`CREATE INDEX webhook_deliveries_case_id ON webhook_deliveries (case_id)`,
	}, nil, nil},
	{6, "evidence retention, revealed addresses", []string{
		`ALTER TABLE mail_messages ADD COLUMN purged_at {{time}}`,
		// The retention job walks unpurged mail oldest first.
		`CREATE INDEX mail_messages_unpurged ON mail_messages (received_at, id) WHERE purged_at IS NULL`,
		`CREATE TABLE reveals (
			id {{pk}},
			session_hash {{blob}} NOT NULL,
			user_id BIGINT NOT NULL REFERENCES users (id),
			case_id BIGINT NOT NULL REFERENCES cases (id),
			field TEXT NOT NULL,
			expires_at {{time}} NOT NULL
		)`,
		`CREATE INDEX reveals_session ON reveals (session_hash, case_id)`,
		`CREATE INDEX audit_log_action ON audit_log (action, id)`,
	}, nil, nil},
	{8, "several instances: mailbox leases, ack claims, shared rate limits", []string{
		`CREATE TABLE mailbox_leases (
			name TEXT PRIMARY KEY,
			owner TEXT NOT NULL,
			lease_until {{time}} NOT NULL,
			acquired_at {{time}} NOT NULL
		)`,
		`ALTER TABLE acks ADD COLUMN lease_owner TEXT NOT NULL DEFAULT ''`,
		`CREATE TABLE rate_limit_counters (
			key TEXT NOT NULL,
			window_start BIGINT NOT NULL,
			hits BIGINT NOT NULL,
			expires_at {{time}} NOT NULL,
			PRIMARY KEY (key, window_start)
		)`,
		`CREATE INDEX rate_limit_counters_expires ON rate_limit_counters (expires_at)`,
	}, nil, nil},
	{9, "ledger retention", []string{
		// The ledger purge deletes the oldest rows in batches by created_at.
		// IF NOT EXISTS: on a large PostgreSQL ledger the operator may build
		// it beforehand with CREATE INDEX CONCURRENTLY (docs/operations.md).
		`CREATE INDEX IF NOT EXISTS ledger_messages_created_at ON ledger_messages (created_at)`,
	}, nil, nil},
	{10, "rate limit counters without durable commits", nil, nil, []string{
		// A rate limit counter is worth nothing after a crash, yet each
		// public request wrote one, and its commit waited for a WAL flush
		// like a filed report's. Unlogged, a counter's commit returns
		// without waiting; PostgreSQL empties the table after a crash and
		// a standby does not have it, which resets the windows: harmless.
		`ALTER TABLE rate_limit_counters SET UNLOGGED`,
	}},
	{11, "the request a submission filed", []string{
		// A digest of what a named submission asked for (an API call's
		// Idempotency-Key): the key sent again with another request is
		// refused rather than answered with the first one's report.
		`ALTER TABLE reports ADD COLUMN request_digest {{blob}}`,
	}, nil, nil},
	{12, "staff invitations", []string{
		// An admin invites staff on /admin; the link's token is shown
		// once and only its hash is kept. The user row is made when the
		// person sets a password, so an invitation that lapses leaves no
		// account without one.
		`CREATE TABLE invitations (
			id {{pk}},
			token_hash {{blob}} NOT NULL,
			email TEXT NOT NULL,
			role TEXT NOT NULL,
			security_trained {{bool}} NOT NULL DEFAULT FALSE,
			invited_by TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			expires_at {{time}} NOT NULL,
			used_at {{time}},
			revoked_at {{time}}
		)`,
		`CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash)`,
		`CREATE INDEX invitations_email ON invitations (email)`,
	}, nil, nil},
	{13, "timeline and audit as message codes with arguments", []string{
		// Events say what happened as a code and JSON arguments that each
		// reader's language renders; detail keeps the English sentence for
		// a release that reads only it. NULL on rows written before.
		`ALTER TABLE case_events ADD COLUMN code TEXT`,
		`ALTER TABLE case_events ADD COLUMN args TEXT`,
		`ALTER TABLE audit_log ADD COLUMN args TEXT`,
	}, nil, nil},
	{14, "containment holds and triage clients", []string{
		// A lead who dismisses a case ("the address was the holder's own")
		// may hold its link, account or recipient: reports of a held key
		// join the dismissed case and request nothing (holds.go). Keys are
		// hashes; case_id is the dismissed case.
		`CREATE TABLE containment_holds (
			id {{pk}},
			scope TEXT NOT NULL,
			key_hash {{blob}} NOT NULL,
			case_id BIGINT NOT NULL,
			created_by TEXT NOT NULL,
			created_at {{time}} NOT NULL
		)`,
		`CREATE INDEX containment_holds_key ON containment_holds (key_hash)`,
		// What a report's link and recipient were, as hashes, so that a
		// dismissal can hold them.
		`ALTER TABLE reports ADD COLUMN token_hash {{blob}}`,
		`ALTER TABLE reports ADD COLUMN recipient_hash {{blob}}`,
		// A report kept on a closed case (a hold, a triage bound): its
		// status page reads as any new report's.
		`ALTER TABLE reports ADD COLUMN on_closed_case {{bool}} NOT NULL DEFAULT FALSE`,
		// The hashed client that opened an unmatched (triage) case: new
		// triage cases per client per hour are bounded (triage.go).
		`ALTER TABLE cases ADD COLUMN triage_client {{blob}}`,
		`CREATE INDEX cases_triage_client ON cases (triage_client, created_at)`,
		// The burst rule counts the unmatched reports of the last minutes.
		`CREATE INDEX reports_unmatched ON reports (received_at) WHERE confidence = 'unmatched'`,
	}, nil, nil},
	{15, "login throttle per account", []string{
		// Failed sign-ins in a row per account (the normalised address,
		// hashed, whether or not a user has it) and the lock they set
		// (cases/loginthrottle.go). Logged on PostgreSQL, unlike the rate
		// limit counters: a crash must not lift a lock.
		`CREATE TABLE login_throttles (
			account_key TEXT PRIMARY KEY,
			failures INTEGER NOT NULL DEFAULT 0,
			refused INTEGER NOT NULL DEFAULT 0,
			locked_until {{time}},
			updated_at {{time}} NOT NULL
		)`,
		`CREATE INDEX login_throttles_updated_at ON login_throttles (updated_at)`,
		// The clients (hashed) those failures came from, for the count
		// the account's owner is told.
		`CREATE TABLE login_failure_clients (
			account_key TEXT NOT NULL,
			client_key TEXT NOT NULL,
			PRIMARY KEY (account_key, client_key)
		)`,
		// What a session's owner is told when it opens.
		`ALTER TABLE sessions ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE sessions ADD COLUMN failed_login_clients INTEGER NOT NULL DEFAULT 0`,
	}, nil, nil},
	{16, "desk instances: heartbeats, and claims that name their instance", []string{
		// Each desk process registers here and heartbeats; one whose
		// heartbeat is stale, or whose process is gone from this host, is
		// reaped by any live one: its claims and mailbox leases end at once
		// instead of after their lease (cases/instance.go).
		`CREATE TABLE desk_instances (
			id TEXT PRIMARY KEY,
			host TEXT NOT NULL,
			pid INTEGER NOT NULL,
			started_at {{time}} NOT NULL,
			heartbeat_at {{time}} NOT NULL
		)`,
		// Both outboxes claim through one engine (cases/outbox): a lease
		// until a time, held by a claim of one instance.
		`ALTER TABLE acks ADD COLUMN lease_until {{time}}`,
		`ALTER TABLE acks ADD COLUMN lease_instance TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE webhook_deliveries ADD COLUMN lease_instance TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX acks_lease_instance ON acks (lease_instance) WHERE lease_instance <> ''`,
		`CREATE INDEX webhook_deliveries_lease_instance ON webhook_deliveries (lease_instance) WHERE lease_instance <> ''`,
		// A mailbox lease names its holder's instance (owner) already; the
		// table holds a row per mailbox, so it needs no index on it.
	}, nil, nil},
	{17, "sessions people can see, staff from single sign-on", []string{
		// What the owner of a session sees of it (cases/session.go): when
		// it was last used (the idle timeout), the browser and client
		// network it came from, and how it was authenticated; confirmed_at
		// is when the sign-in's identity and groups were last confirmed,
		// which bounds a single sign-on session.
		`ALTER TABLE sessions ADD COLUMN last_seen_at {{time}}`,
		`ALTER TABLE sessions ADD COLUMN confirmed_at {{time}}`,
		`ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE sessions ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'password'`,
		`UPDATE sessions SET last_seen_at = created_at, confirmed_at = created_at`,
		`CREATE INDEX sessions_user_id ON sessions (user_id)`,
		// The provider's issuer and subject of a staff member who signed in
		// through it: the person, whatever their address becomes.
		`ALTER TABLE users ADD COLUMN oidc_subject TEXT`,
		`CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject)`,
	}, nil, nil},
	{18, "suppression list", []string{
		// The "not my address" list (cases/suppression.go): addresses by
		// RecipientHash, masked for people, for one account or all. A
		// closed entry (removed, or expired and replaced) keeps its row.
		`CREATE TABLE suppressions (
			id {{pk}},
			addr_hash {{blob}} NOT NULL,
			addr_masked TEXT NOT NULL DEFAULT '',
			domain TEXT NOT NULL DEFAULT '',
			account_ref TEXT NOT NULL DEFAULT '',
			reason TEXT NOT NULL,
			origin TEXT NOT NULL,
			case_id BIGINT REFERENCES cases (id),
			created_by TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			expires_at {{time}},
			removed_at {{time}},
			removed_by TEXT NOT NULL DEFAULT '',
			removed_reason TEXT NOT NULL DEFAULT ''
		)`,
		// One live entry per address and account; the guard's look-up.
		`CREATE UNIQUE INDEX suppressions_live ON suppressions (addr_hash, account_ref) WHERE removed_at IS NULL`,
		`CREATE INDEX suppressions_domain ON suppressions (domain, id)`,
	}, nil, nil},
	{19, "typo domains", []string{
		// Typo domains leads confirmed from domain clusters, and the
		// domain meant: the address guard suggests it (typodomains.go).
		`CREATE TABLE typo_domains (
			domain TEXT PRIMARY KEY,
			intended TEXT NOT NULL,
			confirmed_by TEXT NOT NULL,
			confirmed_at {{time}} NOT NULL
		)`,
		`CREATE INDEX typo_domains_confirmed_at ON typo_domains (confirmed_at)`,
	}, nil, nil},
	{20, "a second factor: TOTP and recovery codes", []string{
		// One authenticator app per person (cases/secondfactor.go): the
		// secret sealed under the token keys, confirmed once a code from
		// it was right, and the last time step used, which no code may
		// reuse (replay).
		`CREATE TABLE totp_secrets (
			user_id BIGINT PRIMARY KEY REFERENCES users (id),
			sealed TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			confirmed_at {{time}},
			last_step BIGINT NOT NULL DEFAULT 0
		)`,
		// Ten one-time codes per person, SHA-256 of 80 random bits each.
		`CREATE TABLE recovery_codes (
			id {{pk}},
			user_id BIGINT NOT NULL REFERENCES users (id),
			code_hash {{blob}} NOT NULL,
			used_at {{time}}
		)`,
		`CREATE UNIQUE INDEX recovery_codes_code_hash ON recovery_codes (user_id, code_hash)`,
		// A password sign-in waiting for its second factor: not a session
		// anything but the second-factor page accepts.
		`ALTER TABLE sessions ADD COLUMN pending_second_factor {{bool}} NOT NULL DEFAULT FALSE`,
	}, nil, nil},
	{21, "passkeys", []string{
		// A person's WebAuthn credentials (cases/passkey.go): the
		// credential's id and public key, the authenticator's model
		// (AAGUID), its signature counter (a clone shows as a counter
		// going back), transports and flags as registered. user_handle
		// is the random WebAuthn user id, the same on all of a person's
		// rows, by which a passwordless sign-in finds them.
		`CREATE TABLE passkeys (
			id {{pk}},
			user_id BIGINT NOT NULL REFERENCES users (id),
			user_handle {{blob}} NOT NULL,
			credential_id {{blob}} NOT NULL,
			public_key {{blob}} NOT NULL,
			aaguid {{blob}},
			sign_count BIGINT NOT NULL DEFAULT 0,
			transports TEXT NOT NULL DEFAULT '',
			flags INTEGER NOT NULL DEFAULT 0,
			attestation_format TEXT NOT NULL DEFAULT '',
			name TEXT NOT NULL,
			created_at {{time}} NOT NULL,
			last_used_at {{time}}
		)`,
		`CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id)`,
		`CREATE INDEX passkeys_user_id ON passkeys (user_id)`,
		`CREATE INDEX passkeys_user_handle ON passkeys (user_handle)`,
		// A WebAuthn ceremony under way: its challenge and options as the
		// server made them (never the browser's copy), found by the hash
		// of a random handle, bound to the person and session that began
		// it, short-lived and deleted at its one use.
		`CREATE TABLE passkey_ceremonies (
			id {{pk}},
			handle_hash {{blob}} NOT NULL,
			kind TEXT NOT NULL,
			user_id BIGINT REFERENCES users (id),
			session_hash {{blob}},
			user_handle {{blob}},
			state {{blob}} NOT NULL,
			expires_at {{time}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX passkey_ceremonies_handle ON passkey_ceremonies (handle_hash)`,
		`CREATE INDEX passkey_ceremonies_expires_at ON passkey_ceremonies (expires_at)`,
	}, nil, nil},
}

// schemaVersion is the version the code expects.
func schemaVersion() int { return migrations[len(migrations)-1].version }

// Migrate brings the schema to the current version, each step in its own
// transaction, and returns the versions it applied. Several instances may
// call it at once: on PostgreSQL they wait for each other on an advisory
// lock, and each finds the steps the first one applied.
func (s *Store) Migrate(ctx context.Context) (applied []int, err error) {
	err = s.w.WithContext(ctx).Connection(func(db *gorm.DB) error {
		unlock, err := dialectOf(db).lockMigrations(db)
		if err != nil {
			return err
		}
		applied, err = migrate(db)
		if uerr := unlock(); err == nil && uerr != nil {
			err = fmt.Errorf("release the migration lock: %w", uerr)
		}
		return err
	})
	return applied, err
}

func migrate(db *gorm.DB) ([]int, error) {
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at ` + dialectOf(db).ddl("{{time}}") + ` NOT NULL
	)`).Error; err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []int
	for _, m := range migrations {
		done := false
		err := db.Transaction(func(tx *gorm.DB) error {
			var n int64
			if err := tx.Table("schema_migrations").Where("version = ?", m.version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				done = true
				return nil
			}
			for _, stmt := range m.render(dialectOf(tx)) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%s: %w", firstLine(stmt), err)
				}
			}
			return tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UTC()).Error
		})
		if err != nil {
			return applied, fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if !done {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// render returns the statements m runs on d, types expanded: what Migrate
// executes and what the golden files under testdata/migrations hold.
func (m migration) render(d dialect) []string {
	stmts := slices.Clone(m.stmts)
	for _, table := range m.appendOnly {
		stmts = append(stmts, d.appendOnly(table)...)
	}
	if d.name == "postgres" {
		stmts = append(stmts, m.postgres...)
	}
	for i, stmt := range stmts {
		stmts[i] = d.ddl(stmt)
	}
	return stmts
}

// SchemaCurrent reports whether every migration has been applied: each
// version this code has is recorded in schema_migrations (versions may
// have gaps, so the highest one alone proves nothing), and none above them,
// which a newer binary would have applied. The readiness probe uses it.
func (s *Store) SchemaCurrent(ctx context.Context) (bool, error) {
	var recorded []int
	err := s.r.WithContext(ctx).Raw(`SELECT version FROM schema_migrations`).Scan(&recorded).Error
	if err != nil {
		return false, fmt.Errorf("read schema versions: %w", err)
	}
	for _, m := range migrations {
		if !slices.Contains(recorded, m.version) {
			return false, nil
		}
	}
	return slices.Max(recorded) == schemaVersion(), nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
