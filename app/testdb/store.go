package testdb

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"notme/cases/store"
)

// Store opens a migrated SQLite file under t.TempDir() the way
// app/db.go does: one writer connection whose transactions begin
// IMMEDIATE and a separate read-only pool, WAL, foreign keys, a busy
// timeout and gorm's error translation.
//
// With NOTME_TEST_POSTGRES set it opens a fresh PostgreSQL database
// instead (postgresStore): every storage test runs on both.
func Store(t testing.TB) *store.Store {
	t.Helper()
	if Postgres() {
		return postgresStore(t)
	}
	path := filepath.Join(t.TempDir(), "notme.db")
	q := url.Values{}
	q.Set("_busy_timeout", "5000")
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	writerDSN := "file:" + path + "?" + q.Encode()
	q.Set("mode", "ro")
	q.Del("_txlock")
	q.Del("_journal_mode")
	readerDSN := "file:" + path + "?" + q.Encode()
	gcfg := func() *gorm.Config {
		return &gorm.Config{
			TranslateError:         true,
			SkipDefaultTransaction: true,
			Logger:                 logger.Discard,
			NowFunc:                func() time.Time { return time.Now().UTC() },
		}
	}
	w, err := gorm.Open(sqlite.Open(writerDSN), gcfg())
	if err != nil {
		t.Fatalf("gorm.Open(writer) = %v", err)
	}
	wdb, err := w.DB()
	if err != nil {
		t.Fatalf("writer.DB() = %v", err)
	}
	wdb.SetMaxOpenConns(1)
	t.Cleanup(func() { wdb.Close() })
	if err := w.Exec("PRAGMA journal_mode=WAL").Error; err != nil {
		t.Fatalf("PRAGMA journal_mode=WAL = %v", err)
	}
	r, err := gorm.Open(sqlite.Open(readerDSN), gcfg())
	if err != nil {
		t.Fatalf("gorm.Open(reader) = %v", err)
	}
	rdb, err := r.DB()
	if err != nil {
		t.Fatalf("reader.DB() = %v", err)
	}
	rdb.SetMaxOpenConns(4)
	t.Cleanup(func() { rdb.Close() })
	st := store.New(w, r)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return st
}

// postgresStore opens a migrated database of the test's own the way
// app/postgres.go does: one pool, timestamptz scanned as UTC, gorm's error
// translation.
func postgresStore(t testing.TB) *store.Store {
	t.Helper()
	cc, err := pgx.ParseConfig(NewPostgres(t))
	if err != nil {
		t.Fatalf("pgx.ParseConfig() = %v", err)
	}
	cc.RuntimeParams["timezone"] = "UTC"
	sqlDB := stdlib.OpenDB(*cc, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}))
	sqlDB.SetMaxOpenConns(8)
	t.Cleanup(func() { sqlDB.Close() })
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		t.Fatalf("gorm.Open(postgres) = %v", err)
	}
	st := store.New(db, db)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return st
}
