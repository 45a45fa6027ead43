package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"notme/app/testdb"
	"notme/cases/store"
)

func TestMigrate(t *testing.T) {
	st := testdb.Store(t) // migrated once
	ctx := context.Background()
	ok, err := st.SchemaCurrent(ctx)
	if err != nil || !ok {
		t.Fatalf("SchemaCurrent() after Migrate = %v, %v; want true, nil", ok, err)
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate() again = %v", err)
	}
	if len(applied) != 0 {
		t.Errorf("Migrate() again applied %v, want nothing", applied)
	}
	var n int64
	if err := st.Writer().Table("schema_migrations").Count(&n).Error; err != nil || n != int64(len(store.Versions())) {
		t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, len(store.Versions()))
	}
	if ok, err := st.SchemaCurrent(ctx); err != nil || !ok {
		t.Errorf("SchemaCurrent() after Migrate twice = %v, %v; want true, nil", ok, err)
	}

	// A database from a newer binary is not current for this one.
	if err := st.Writer().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		slices.Max(store.Versions())+1, "future", time.Now().UTC()).Error; err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	if ok, err := st.SchemaCurrent(ctx); err != nil || ok {
		t.Errorf("SchemaCurrent() with a newer migration = %v, %v; want false, nil", ok, err)
	}
}

// TestSchemaCurrentNeedsEveryVersion: a database that lacks any one
// version is not current, though its highest version is this code's.
func TestSchemaCurrentNeedsEveryVersion(t *testing.T) {
	ctx := context.Background()
	versions := store.Versions()
	for _, v := range []int{versions[0], versions[len(versions)/2], versions[len(versions)-2]} {
		t.Run(fmt.Sprintf("without %d", v), func(t *testing.T) {
			st := testdb.Store(t)
			if err := st.Writer().Exec(`DELETE FROM schema_migrations WHERE version = ?`, v).Error; err != nil {
				t.Fatalf("delete version %d: %v", v, err)
			}
			if ok, err := st.SchemaCurrent(ctx); err != nil || ok {
				t.Errorf("SchemaCurrent() without version %d = %v, %v; want false, nil", v, ok, err)
			}
			// Running the step again is not the point (its tables exist);
			// recording it makes the database current again.
			if err := st.Writer().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				v, "again", time.Now().UTC()).Error; err != nil {
				t.Fatalf("insert version %d: %v", v, err)
			}
			if ok, err := st.SchemaCurrent(ctx); err != nil || !ok {
				t.Errorf("SchemaCurrent() with version %d back = %v, %v; want true, nil", v, ok, err)
			}
		})
	}
}
