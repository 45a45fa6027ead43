package store

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"
)

var updateMigrationGoldens = flag.Bool("update", false,
	"write the golden SQL of migrations that have none (testdata/migrations); existing goldens are never rewritten")

// migrationGoldenDir holds, per dialect, the SQL of every released
// migration as Migrate runs it: NNN.sql, one file per version.
const migrationGoldenDir = "testdata/migrations"

// namedDialector is a gorm dialector that only has a name: enough for
// dialectOf, so both dialects render without a database.
type namedDialector struct {
	gorm.Dialector
	name string
}

func (d namedDialector) Name() string { return d.name }

func dialectNamed(name string) dialect {
	return dialectOf(&gorm.DB{Config: &gorm.Config{Dialector: namedDialector{name: name}}})
}

// migrationGolden is the golden file's text for m on d.
func migrationGolden(m migration, d dialect) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- migration %d (%s): %s\n", m.version, d.name, m.name)
	b.WriteString("-- Released SQL: never edit it, add a migration instead (docs/testing.md).\n")
	for _, stmt := range m.render(d) {
		b.WriteString("\n" + stmt + ";\n")
	}
	return b.String()
}

func goldenPath(dialectName string, version int) string {
	return filepath.Join(migrationGoldenDir, dialectName, fmt.Sprintf("%03d.sql", version))
}

func TestMigrationsAppendOnly(t *testing.T) {
	// Versions ascend; a branch's step keeps the number it was given, so
	// a gap is fine (Migrate applies each version it has not seen).
	prev := 0
	for i, m := range migrations {
		if m.version <= prev || (i < 3 && m.version != i+1) || m.name == "" || len(m.stmts)+len(m.postgres) == 0 {
			t.Errorf("migrations[%d] = version %d name %q with %d statements; want a version above %d, a name and statements",
				i, m.version, m.name, len(m.stmts)+len(m.postgres), prev)
		}
		prev = m.version
	}

	// Every migration renders, on each dialect, exactly as its golden:
	// editing a released step fails here.
	for _, name := range []string{"sqlite", "postgres"} {
		d := dialectNamed(name)
		if d.name != name {
			t.Fatalf("dialectNamed(%q).name = %q", name, d.name)
		}
		known := map[string]bool{}
		for _, m := range migrations {
			path := goldenPath(name, m.version)
			known[filepath.Base(path)] = true
			got := migrationGolden(m, d)
			want, err := os.ReadFile(path)
			switch {
			case os.IsNotExist(err) && *updateMigrationGoldens:
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", path)
			case os.IsNotExist(err):
				t.Errorf("migration %d (%s) has no golden %s: a new migration needs one; "+
					"run `go test ./cases/store -run TestMigrationsAppendOnly -update` and commit the files it writes", m.version, name, path)
			case err != nil:
				t.Fatal(err)
			case string(want) != got:
				t.Errorf("migration %d (%s) no longer renders as %s (first difference: %s): a released migration never changes, "+
					"put the change in a new migration. Only if version %d was never released: delete its goldens and run "+
					"`go test ./cases/store -run TestMigrationsAppendOnly -update`",
					m.version, name, path, firstDifference(string(want), got), m.version)
			}
		}
		// A golden without its migration: a released step was removed.
		files, err := filepath.Glob(filepath.Join(migrationGoldenDir, name, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !known[filepath.Base(f)] {
				t.Errorf("%s has no migration: a released migration is never removed or renumbered", f)
			}
		}
	}
}

// firstDifference names the first line where got departs from want.
func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d is %q, golden has %q", i+1, strings.TrimSpace(g), strings.TrimSpace(w))
		}
	}
	return "none"
}

// TestMigrationGoldensCatchAnEdit proves the golden comparison fails on
// the kind of edit it exists for: one changed column type in a released
// step.
func TestMigrationGoldensCatchAnEdit(t *testing.T) {
	m := migrations[0]
	m.stmts = append([]string(nil), m.stmts...)
	m.stmts[0] = strings.Replace(m.stmts[0], "kind TEXT NOT NULL", "kind TEXT", 1)
	if m.stmts[0] == migrations[0].stmts[0] {
		t.Fatal("the edit did not apply: migration 1 no longer has `kind TEXT NOT NULL`")
	}
	for _, name := range []string{"sqlite", "postgres"} {
		want, err := os.ReadFile(goldenPath(name, m.version))
		if err != nil {
			t.Fatal(err)
		}
		if got := migrationGolden(m, dialectNamed(name)); got == string(want) {
			t.Errorf("edited migration 1 (%s) still matches %s", name, goldenPath(name, 1))
		}
	}
}
