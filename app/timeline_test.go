package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"notme/app/testdb"
)

// TestTimelineIsAppendOnly: the database itself refuses to change or delete
// a timeline event, whatever code or person tries.
func TestTimelineIsAppendOnly(t *testing.T) {
	dir := t.TempDir()
	a := openTestApp(t, dir)
	m, err := a.Service.Mint("ACC-1", "registration", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.FileReport(context.Background(), reportFor(m.Token)); err != nil {
		t.Fatal(err)
	}
	a.Close()

	db := openSQLDB(t, dir)
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM case_events`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("case_events has %d rows (%v); want the report's events", n, err)
	}
	for _, stmt := range []string{
		`UPDATE case_events SET detail = 'rewritten'`,
		`DELETE FROM case_events`,
	} {
		_, err := db.Exec(stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s = %v, want an append-only refusal", stmt, err)
		}
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM case_events WHERE detail = 'rewritten'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after the refused UPDATE, %d events read 'rewritten' (%v)", n, err)
	}
}

// TestDatabaseFileIsPrivate: the database holds reporters' mail, so it is
// created readable by the desk's user only.
func TestDatabaseFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	openTestApp(t, dir).Close()
	files := []string{"notme.db", "token.key"}
	if testdb.Postgres() {
		files = files[1:] // the database is not a file here
	}
	for _, name := range files {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", name, st.Mode().Perm())
		}
	}
}
