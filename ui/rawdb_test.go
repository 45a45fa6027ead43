package ui_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"notme/app"
)

// rawDB opens the desk's database behind the application's back, on
// SQLite or PostgreSQL, for a test that must break or age something. Use
// $1-style placeholders: both drivers take them.
func (d *desk) rawDB(t *testing.T) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if u := string(d.cfg.Database.URL); u != "" {
		db, err = app.OpenPostgresSQL(u)
	} else {
		db, err = sql.Open("sqlite3", "file:"+filepath.Join(d.cfg.DataDir, "notme.db"))
	}
	if err != nil {
		t.Fatalf("open the desk's database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
