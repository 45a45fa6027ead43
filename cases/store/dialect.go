package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// This file is the one place where SQLite and PostgreSQL differ. Everything
// else in the module speaks portable SQL through gorm.

// dialect names the column types a migration needs.
type dialect struct {
	name string
	// types replaces placeholders in migration DDL.
	types *strings.Replacer
}

func dialectOf(db *gorm.DB) dialect {
	switch db.Dialector.Name() {
	case "postgres":
		return dialect{name: "postgres", types: strings.NewReplacer(
			"{{pk}}", "BIGSERIAL PRIMARY KEY",
			"{{time}}", "TIMESTAMPTZ",
			"{{bool}}", "BOOLEAN",
			"{{blob}}", "BYTEA",
		)}
	default:
		return dialect{name: "sqlite", types: strings.NewReplacer(
			"{{pk}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
			"{{time}}", "DATETIME",
			"{{bool}}", "BOOLEAN",
			"{{blob}}", "BLOB",
		)}
	}
}

// ddl expands the type placeholders of a migration statement.
func (d dialect) ddl(stmt string) string { return d.types.Replace(stmt) }

// appendOnly returns the statements that make the database refuse UPDATE
// and DELETE on table.
func (d dialect) appendOnly(table string) []string {
	if d.name == "postgres" {
		return []string{
			`CREATE OR REPLACE FUNCTION notme_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`,
			`CREATE TRIGGER ` + table + `_append_only BEFORE UPDATE OR DELETE ON ` + table +
				` FOR EACH ROW EXECUTE FUNCTION notme_append_only()`,
		}
	}
	return []string{
		`CREATE TRIGGER ` + table + `_no_update BEFORE UPDATE ON ` + table +
			` BEGIN SELECT RAISE(ABORT, '` + table + ` is append-only'); END`,
		`CREATE TRIGGER ` + table + `_no_delete BEFORE DELETE ON ` + table +
			` BEGIN SELECT RAISE(ABORT, '` + table + ` is append-only'); END`,
	}
}

// migrateLockKey is the PostgreSQL advisory lock key held while migrating
// ("notmemig" in ASCII).
const migrateLockKey int64 = 0x6e6f746d65_6d6967

// lockMigrations keeps other instances out of Migrate until unlock. db must
// be pinned to one connection: the PostgreSQL lock belongs to the session.
// SQLite needs none: its writes are serialised and each step's transaction
// begins IMMEDIATE.
func (d dialect) lockMigrations(db *gorm.DB) (unlock func() error, err error) {
	if d.name != "postgres" {
		return func() error { return nil }, nil
	}
	if err := db.Exec(`SELECT pg_advisory_lock(?)`, migrateLockKey).Error; err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	return func() error {
		// A fresh context: the lock must go back even if ctx was cancelled
		// (closing the session would release it too).
		return db.WithContext(context.Background()).Exec(`SELECT pg_advisory_unlock(?)`, migrateLockKey).Error
	}, nil
}

// StorableText makes text from outside (mail headers, API fields) storable
// in a text column of either database: PostgreSQL refuses NUL and invalid
// UTF-8, which SQLite keeps. Done on both, so both store the same.
func StorableText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// unmatchableTextCallback names the callback registerUnmatchableText adds.
const unmatchableTextCallback = "notme:unmatchable_text"

// registerUnmatchableText makes PostgreSQL answer a read whose parameter
// holds NUL or invalid UTF-8 (a login address or case reference typed by
// anyone) the way SQLite does: no row, rather than an error that becomes a
// 500. No stored text holds such bytes (StorableText), so none could match.
// Inside a transaction PostgreSQL has already aborted it; the error stays.
func (d dialect) registerUnmatchableText(db *gorm.DB) {
	if d.name != "postgres" || db.Callback().Query().Get(unmatchableTextCallback) != nil {
		return
	}
	fn := func(tx *gorm.DB) {
		var st interface{ SQLState() string }
		if tx.Error == nil || !errors.As(tx.Error, &st) {
			return
		}
		// 22021: invalid byte sequence (also NUL); 22P05: untranslatable.
		if c := st.SQLState(); c != "22021" && c != "22P05" {
			return
		}
		if _, inTx := tx.Statement.ConnPool.(gorm.TxCommitter); inTx {
			return
		}
		tx.Error, tx.RowsAffected = nil, 0
		if tx.Statement.RaiseErrorOnNotFound { // First, Take, Last
			tx.Error = gorm.ErrRecordNotFound
		}
	}
	_ = db.Callback().Query().After("gorm:query").Register(unmatchableTextCallback, fn)
	_ = db.Callback().Row().After("gorm:row").Register(unmatchableTextCallback, fn)
}

// Claimable locks the rows a SELECT picks, skipping rows another claimer
// holds, so concurrent claimers on PostgreSQL take different rows instead
// of queueing behind one another's locks and coming back empty. SQLite has
// one writer at a time and no row locks.
func Claimable(q *gorm.DB) *gorm.DB {
	if dialectOf(q).name != "postgres" {
		return q
	}
	return q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked})
}

// Claim sets set on up to limit rows of table that match where, oldest by
// order first, and returns how many it claimed. On PostgreSQL rows another
// claimer holds are skipped, and the rows are picked in a locking CTE,
// which runs once: picked in an `id IN (SELECT … LIMIT n FOR UPDATE SKIP
// LOCKED)` subquery, the planner may run the pick again for every row it
// checks, each run skipping the rows the claim has just locked itself, so a
// claim of 7 took every due row (TestClaimsAcrossInstances). Under READ
// COMMITTED the lock re-checks where on the newest version of a row another
// claimer changed meanwhile. SQLite's single writer needs neither.
func Claim(db *gorm.DB, table, where string, whereArgs []any, order string, limit int, set string, setArgs []any) (int64, error) {
	var q string
	var args []any
	if dialectOf(db).name == "postgres" {
		q = `WITH picked AS MATERIALIZED (SELECT id FROM ` + table + ` WHERE ` + where + ` ORDER BY ` + order +
			` LIMIT ? FOR UPDATE SKIP LOCKED) UPDATE ` + table + ` SET ` + set + ` FROM picked WHERE ` + table + `.id = picked.id`
		args = append(append(append(args, whereArgs...), limit), setArgs...)
	} else {
		q = `UPDATE ` + table + ` SET ` + set + ` WHERE id IN (SELECT id FROM ` + table + ` WHERE ` + where +
			` ORDER BY ` + order + ` LIMIT ?)`
		args = append(append(append(args, setArgs...), whereArgs...), limit)
	}
	res := db.Exec(q, args...)
	return res.RowsAffected, res.Error
}

// Columns lists model's columns, qualified by its table, for a SELECT that
// joins or adds to it: never table.*, whose result would change under the
// statements PostgreSQL connections keep prepared once a newer release adds
// a column (see app's openPostgres).
func (s *Store) Columns(model any) string {
	stmt := &gorm.Statement{DB: s.r}
	if err := stmt.Parse(model); err != nil {
		panic(fmt.Sprintf("store: parse the model %T: %v", model, err)) // a programming error
	}
	cols := make([]string, len(stmt.Schema.DBNames))
	for i, n := range stmt.Schema.DBNames {
		cols[i] = stmt.Schema.Table + "." + n
	}
	return strings.Join(cols, ", ")
}
