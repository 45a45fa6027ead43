package cases

import (
	"strings"

	"gorm.io/gorm"
)

// This file is the one place where SQLite and PostgreSQL differ. Everything
// else in the package speaks portable SQL through gorm.

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
