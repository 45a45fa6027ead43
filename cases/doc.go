// Package cases is the domain of the notme desk and its storage: the ledger
// of outgoing account mail, sealed tokens, matching, cases and their reports,
// the append-only timeline, staff, roles and API keys.
//
// It knows nothing of HTTP, IMAP or MIME, and never imports a gorm driver:
// the caller opens the database (see app) and hands it over as a Store.
package cases
