package app

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
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
	gate           *writerGate   // SQLite's writer queue; nil on PostgreSQL
	ckpt           *checkpointer // SQLite's WAL checkpoints; nil on PostgreSQL
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
	q.Del("_txlock")
	q.Del("_journal_mode")
	checkpointDSN := uri + q.Encode()
	q.Set("mode", "ro")
	readerDSN := uri + q.Encode()

	gcfg := func() *gorm.Config {
		return &gorm.Config{
			TranslateError:         true,
			SkipDefaultTransaction: true,
			Logger:                 logger.Discard,
			NowFunc:                func() time.Time { return time.Now().UTC() },
		}
	}
	wdb := sql.OpenDB(writerConnector{writerDSN})
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	gate := newWriterGate(wdb)
	w, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: sqlite.DriverName, DSN: writerDSN, Conn: gate}), gcfg())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
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
	// The sqlite dialector's driver ("sqlite3") is registered by gorm's
	// sqlite package, imported above.
	cdb, err := sql.Open(sqlite.DriverName, checkpointDSN)
	if err != nil {
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("open sqlite %s for checkpoints: %w", path, err)
	}
	cdb.SetMaxOpenConns(1)
	cdb.SetMaxIdleConns(1)
	cdb.SetConnMaxLifetime(0)
	ckpt := startCheckpointer(cdb, gate, log)
	log.Debug("sqlite opened", "path", path)
	return &Database{
		Store:  store.New(w, r),
		Driver: "sqlite",
		Where:  path,
		writer: w,
		reader: r,
		gate:   gate,
		ckpt:   ckpt,
		close: func() error {
			ckpt.stop()
			rerr := errors.Join(cdb.Close(), rdb.Close())
			if err := wdb.Close(); err != nil {
				return err
			}
			return rerr
		},
	}, nil
}

// writerGate hands SQLite's one writer connection to those who wait for
// it in the order they asked. database/sql gives a freed connection to a
// random waiter (connRequestSet.TakeRandom), so with eight requests queued
// for the writer one of them could wait for dozens of others' commits:
// that lottery was most of the eight-client tail of a link POST. A
// transaction holds its turn until it ends, so database/sql's queue stays
// empty; a statement outside one holds it while it runs (rows, until they
// are returned: the next caller may then wait for the connection alone).
type writerGate struct {
	db *sql.DB
	// turns counts callers let through; every checkpointEvery-th wakes
	// the checkpointer, when there is one.
	turns      atomic.Int64
	checkpoint chan<- struct{}

	mu    sync.Mutex
	taken bool            // a caller has its turn
	first []chan struct{} // callers with withWriterPriority, first come first
	queue []chan struct{} // the other callers after it, first come first
}

type writerPriorityKey struct{}

// withWriterPriority marks ctx for work that drains what requests queued
// (the webhook outbox): its turns at the SQLite writer go before those of
// requests still waiting. Each of the outbox's turns covers many webhooks
// and a request waits for one of them at most, while in plain order a
// flood of clicks put every claim and record behind eight filings and the
// webhooks fell ever further behind the reports that asked for them.
func withWriterPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, writerPriorityKey{}, true)
}

func newWriterGate(db *sql.DB) *writerGate { return &writerGate{db: db} }

// enter waits for the caller's turn; leave passes the turn on.
func (g *writerGate) enter(ctx context.Context) error {
	if g.turns.Add(1)%checkpointEvery == 0 && g.checkpoint != nil {
		select {
		case g.checkpoint <- struct{}{}:
		default: // one is running or already asked for
		}
	}
	g.mu.Lock()
	if !g.taken {
		g.taken = true
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	line := &g.queue
	if ctx.Value(writerPriorityKey{}) != nil {
		line = &g.first
	}
	*line = append(*line, turn)
	g.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		if i := slices.Index(*line, turn); i >= 0 {
			*line = slices.Delete(*line, i, i+1)
			g.mu.Unlock()
			return ctx.Err()
		}
		g.mu.Unlock()
		g.leave() // the turn came as ctx ended: pass it on
		return ctx.Err()
	}
}

func (g *writerGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	line := &g.first
	if len(*line) == 0 {
		line = &g.queue
	}
	if len(*line) == 0 {
		g.taken = false
		return
	}
	close((*line)[0])
	*line = slices.Delete(*line, 0, 1)
}

// waiting is how many callers wait behind the one whose turn it is.
func (g *writerGate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.first) + len(g.queue)
}

// BeginTx implements gorm.ConnPoolBeginner: the transaction keeps its
// turn until it commits or rolls back, and the next in line is woken
// then to find the connection free. Woken earlier, to wait inside
// database/sql, the next one was often not yet there when a commit freed
// the connection on a machine whose cores were busy, and the writer stood
// idle until it was.
func (g *writerGate) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	if err := g.enter(ctx); err != nil {
		return nil, err
	}
	tx, err := g.db.BeginTx(ctx, opts)
	if err != nil {
		g.leave()
		return nil, err
	}
	return &gatedTx{Tx: tx, gate: g}, nil
}

// gatedTx is a writer transaction holding its turn at the gate.
type gatedTx struct {
	*sql.Tx
	gate *writerGate
	once sync.Once
}

func (t *gatedTx) Commit() error {
	defer t.once.Do(t.gate.leave)
	return t.Tx.Commit()
}

// Rollback is also called after a failed Commit: the turn is passed on once.
func (t *gatedTx) Rollback() error {
	defer t.once.Do(t.gate.leave)
	return t.Tx.Rollback()
}

// GetDBConn implements gorm.GetDBConnector, for gorm.DB.DB.
func (t *gatedTx) GetDBConn() (*sql.DB, error) { return t.gate.db, nil }

// The gorm.ConnPool methods: a statement outside a transaction takes its
// turn while it runs.

func (g *writerGate) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if err := g.enter(ctx); err != nil {
		return nil, err
	}
	defer g.leave()
	return g.db.PrepareContext(ctx, query)
}

func (g *writerGate) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := g.enter(ctx); err != nil {
		return nil, err
	}
	defer g.leave()
	return g.db.ExecContext(ctx, query, args...)
}

func (g *writerGate) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := g.enter(ctx); err != nil {
		return nil, err
	}
	defer g.leave()
	return g.db.QueryContext(ctx, query, args...)
}

func (g *writerGate) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := g.enter(ctx); err != nil {
		// A Row carries its error only from database/sql; a cancelled
		// context gives the same error there without waiting.
		return g.db.QueryRowContext(ctx, query, args...)
	}
	defer g.leave()
	return g.db.QueryRowContext(ctx, query, args...)
}

// GetDBConn implements gorm.GetDBConnector, for gorm.DB.DB.
func (g *writerGate) GetDBConn() (*sql.DB, error) { return g.db, nil }

// writerAutoCheckpoint is the WAL size, in pages, at which the writer's
// commit checkpoints by itself (SQLite's default: 1,000). The checkpointer
// copies the WAL as it grows, but under steady writes the WAL is seldom
// wholly copied at the moment a transaction begins, which is when SQLite
// starts it over; the writer's checkpoint then copies what is left, a
// little, once every 8,000 pages (32 MB of WAL) instead of every 1,000.
const writerAutoCheckpoint = 8000

// writerConnector opens the writer's connection with its automatic
// checkpoint set, on every connection database/sql may open.
type writerConnector struct{ dsn string }

func (c writerConnector) Connect(context.Context) (driver.Conn, error) { return c.Driver().Open(c.dsn) }

func (writerConnector) Driver() driver.Driver {
	return &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		_, err := conn.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint=%d", writerAutoCheckpoint), nil)
		return err
	}}
}

// checkpointEvery is how many writer turns (transactions, or statements
// outside one) pass between background checkpoints. A link POST writes
// about twenty pages, so a checkpoint copies some 350 pages.
const checkpointEvery = 16

// checkpointer copies the WAL back into the database file on a connection
// of its own. Left to SQLite, the commit that takes the WAL past 1,000
// pages runs the checkpoint itself, with an fsync of the WAL and one of
// the database file: 5–40 ms on this kind of disk, paid by one request in
// fifty, which was the one-client tail of a link POST. A PASSIVE
// checkpoint beside the writer blocks neither it nor the readers; the
// writer's own automatic checkpoint (writerAutoCheckpoint) stays as the
// backstop.
type checkpointer struct {
	db     *sql.DB
	log    *slog.Logger
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	// copied counts the checkpoints that copied frames, for tests.
	copied atomic.Int64
}

func startCheckpointer(db *sql.DB, gate *writerGate, log *slog.Logger) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, log: log, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	gate.checkpoint = c.wake
	go c.run(ctx)
	return c
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		var busy, frames, copied int
		err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// The writer checkpoints by itself meanwhile: nothing is lost
			// but the time its commits spend on it.
			c.log.Warn("sqlite background checkpoint failed", "err", err)
		case copied > 0:
			c.copied.Add(1)
		}
	}
}

// stop ends the checkpointer after the checkpoint in hand; safe to call
// twice.
func (c *checkpointer) stop() {
	c.cancel()
	<-c.done
}
