// Package store is the desk's database below the domain: the Store with
// its writer and reader handles (store.go), the append-only migrations
// with their golden SQL under testdata/migrations and the check that the
// schema is current (migrations.go), the one file where SQLite and
// PostgreSQL differ (dialect.go: column types, claiming rows between
// instances, text either database can store), and the database server's
// clock that instances sharing one PostgreSQL compare leases with
// (dbclock.go).
//
// It knows no table's meaning beyond the migrations, imports nothing of
// this module and never a gorm driver: the caller (app) opens the
// database and hands the handles to New.
package store
