package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"notme/cases/store"
)

// Database is an open store and what closes it.
type Database struct {
	Store  *store.Store
	Driver string // "sqlite" or "postgres"
	Where  string // a description safe to log: the SQLite path, or the Postgres host
	// Clock follows the database server's clock on PostgreSQL, where
	// instances on several hosts compare each other's lease times; nil on
	// SQLite, whose one desk process has the host's clock.
	Clock *store.DBClock
	close func() error
	// writer and reader are the handles inside Store, kept for tests.
	writer, reader *gorm.DB
}

// Close closes every connection.
func (d *Database) Close() error { return d.close() }

// OpenDatabase opens the configured database and runs the migrations.
func OpenDatabase(ctx context.Context, cfg Config, log *slog.Logger) (*Database, error) {
	u := cfg.DatabaseURL()
	switch {
	case strings.HasPrefix(u, "sqlite:"), strings.HasPrefix(u, "file:"):
		path := u[strings.IndexByte(u, ':')+1:]
		db, err := openSQLite(path, cfg.Database.BusyTimeout.D(), cfg.Database.ReadConns, log)
		if err != nil {
			return nil, err
		}
		if _, err := db.Store.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		db, err := openPostgres(ctx, u, PostgresPool{
			MaxOpen:     cfg.Database.MaxOpenConns,
			MaxIdle:     cfg.Database.MaxIdleConns,
			MaxLifetime: cfg.Database.ConnMaxLifetime.D(),
		}, log)
		if err != nil {
			return nil, err
		}
		if _, err := db.Store.Migrate(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate %s: %w", db.Where, err)
		}
		return db, nil
	}
	return nil, fmt.Errorf("database.url: unknown scheme (want sqlite:PATH or postgres://…)")
}

// openSQLite opens one writer connection whose transactions begin
// IMMEDIATE, so writers queue on the busy timeout instead of failing with
// "database is locked" when a read lock must be upgraded, and a separate
// pool of read-only connections. WAL lets the readers run beside the writer.
func openSQLite(path string, busy time.Duration, readConns int, log *slog.Logger) (*Database, error) {
	if path == "" {
		return nil, fmt.Errorf("database.url: sqlite needs a path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	// The database holds reporters' mail: create it readable by the desk
	// only. SQLite gives its -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	} else if !os.IsExist(err) {
		return nil, fmt.Errorf("create database %s: %w", path, err)
	}
	if busy <= 0 {
		busy = 5 * time.Second
	}
	if readConns <= 0 {
		readConns = 4
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	// Purged evidence must be gone from the file, not merely unlinked:
	// SQLite zeroes the space it frees.
	q.Set("_secure_delete", "on")
	// The DSN is a URI: a '?' or '#' in the path would end it early and
	// open another file, so escape them (and '%').
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) + "?"
	writerDSN := uri + q.Encode()
	q.Set("mode", "ro")
	q.Del("_txlock")
	q.Del("_journal_mode")
	readerDSN := uri + q.Encode()

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
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	wdb, err := w.DB()
	if err != nil {
		return nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	// Create the file and switch it to WAL before a read-only connection
	// tries to open it.
	if err := w.Exec("PRAGMA journal_mode=WAL").Error; err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite %s: enable WAL: %w", path, err)
	}
	r, err := gorm.Open(sqlite.Open(readerDSN), gcfg())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	rdb, err := r.DB()
	if err != nil {
		wdb.Close()
		return nil, err
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	log.Debug("sqlite opened", "path", path)
	return &Database{
		Store:  store.New(w, r),
		Driver: "sqlite",
		Where:  path,
		writer: w,
		reader: r,
		close: func() error {
			rerr := rdb.Close()
			if err := wdb.Close(); err != nil {
				return err
			}
			return rerr
		},
	}, nil
}
