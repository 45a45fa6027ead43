package app

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"

	"notme/app/testdb"
)

// testDBs maps a test's data directory to its PostgreSQL database, so the
// CLI and openTestApp of one test share one database as they share one
// SQLite file.
var testDBs sync.Map

// testDatabaseURL is "" on SQLite (the default: sqlite:<dataDir>/notme.db)
// and, with NOTME_TEST_POSTGRES set, the URL of dataDir's own database.
func testDatabaseURL(t testing.TB, dataDir string) string {
	t.Helper()
	if !testdb.Postgres() {
		return ""
	}
	if u, ok := testDBs.Load(dataDir); ok {
		return u.(string)
	}
	u := testdb.NewPostgres(t)
	testDBs.Store(dataDir, u)
	t.Cleanup(func() { testDBs.Delete(dataDir) })
	return u
}

// testConfig is Defaults() on dataDir and the test's database.
func testConfig(t testing.TB, dataDir string) Config {
	t.Helper()
	cfg := Defaults()
	cfg.DataDir = dataDir
	cfg.Database.URL = Secret(testDatabaseURL(t, dataDir))
	cfg.HTTP.OpsAddr = "127.0.0.1:0" // a free port: tests run side by side
	return cfg
}

// sqliteOnly skips a test of SQLite's own behaviour on the PostgreSQL run.
func sqliteOnly(t testing.TB, why string) {
	t.Helper()
	if testdb.Postgres() {
		t.Skip("SQLite only: " + why)
	}
}

// TestPostgresOpen: database.url postgres://… opens, migrates and says
// where without the password; a second Migrate (another instance) applies
// nothing.
func TestPostgresOpen(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("set NOTME_TEST_POSTGRES to run against PostgreSQL (.ci/run does)")
	}
	cfg := testConfig(t, t.TempDir())
	db, err := OpenDatabase(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatalf("OpenDatabase(postgres) = %v", err)
	}
	defer db.Close()
	if db.Driver != "postgres" {
		t.Errorf("Database.Driver = %q, want postgres", db.Driver)
	}
	if ok, err := db.Store.SchemaCurrent(context.Background()); err != nil || !ok {
		t.Errorf("SchemaCurrent() = %v, %v; want true", ok, err)
	}
	sqlDB, err := db.writer.DB()
	if err != nil {
		t.Fatal(err)
	}
	if got := sqlDB.Stats().MaxOpenConnections; got != cfg.Database.MaxOpenConns {
		t.Errorf("MaxOpenConnections = %d, want database.max_open_conns %d", got, cfg.Database.MaxOpenConns)
	}

	// Several instances start at once: each waits on the advisory lock,
	// then finds the schema current; together they apply every step once.
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other, err := OpenDatabase(context.Background(), cfg, discardLogger())
			if err == nil {
				err = other.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("OpenDatabase() beside another instance = %v", err)
		}
	}
	var rows int
	if err := db.reader.Raw(`SELECT COUNT(*) FROM schema_migrations`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var distinct int
	if err := db.reader.Raw(`SELECT COUNT(DISTINCT version) FROM schema_migrations`).Scan(&distinct).Error; err != nil || rows != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions (%v), want one each", rows, distinct, err)
	}
}

// openSQLDB opens the test's database with database/sql, on either driver.
func openSQLDB(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	if u := testDatabaseURL(t, dataDir); u != "" {
		db, err := OpenPostgresSQL(u)
		if err != nil {
			t.Fatalf("OpenPostgresSQL() = %v", err)
		}
		return db
	}
	db, err := sql.Open("sqlite3", dataDir+"/notme.db")
	if err != nil {
		t.Fatalf("sql.Open(sqlite3) = %v", err)
	}
	return db
}

// The password in database.url never reaches a log line or an error.
func TestPostgresURLStaysSecret(t *testing.T) {
	const u = "postgres://desk:hunter2-pw@db.internal:5433/notme?sslmode=verify-full"
	if got, want := postgresWhere(u), "postgres://db.internal:5433/notme"; got != want {
		t.Errorf("postgresWhere() = %q, want %q", got, want)
	}
	err := redactURL(errors.New("cannot connect with "+u), u)
	if strings.Contains(err.Error(), "hunter2-pw") {
		t.Errorf("redactURL() = %q, still holds the password", err)
	}
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Database.URL = "postgres://desk:hunter2-pw@127.0.0.1:1/notme?connect_timeout=2"
	_, err = OpenDatabase(context.Background(), cfg, discardLogger())
	if err == nil || strings.Contains(err.Error(), "hunter2-pw") || !strings.Contains(err.Error(), "127.0.0.1:1/notme") {
		t.Errorf("OpenDatabase(unreachable postgres) = %v, want an error naming host and database, not the password", err)
	}
}
