// Package testdb gives tests a database of their own: a migrated store
// (Store) on SQLite, or on the throwaway PostgreSQL cluster named by
// NOTME_TEST_POSTGRES (see .ci/postgres.sh), and an empty PostgreSQL
// database (NewPostgres). Only tests import it.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Env names the base URL of the test cluster, e.g.
// postgres://notme@127.0.0.1:5432/postgres?sslmode=disable.
const Env = "NOTME_TEST_POSTGRES"

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool { return os.Getenv(Env) != "" }

// NewPostgres creates an empty database for t, drops it when t ends, and
// returns its URL. The test fails (never skips) when the cluster cannot be
// reached: a run asked for PostgreSQL must not pass without it.
func NewPostgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Fatalf("%s is not set", Env)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", Env, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "notme_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("sql.Open(%s) = %v", Env, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("CREATE DATABASE %s on %s = %v", name, Env, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("sql.Open(%s) = %v", Env, err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a test that failed may leave connections behind.
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("DROP DATABASE %s = %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
