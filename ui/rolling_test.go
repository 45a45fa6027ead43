package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"notme/app"
	"notme/app/testdb"
	"notme/cases"
)

// A rolling deploy on PostgreSQL: the next release's migration adds a
// column to every table while this release still runs. Reporters and
// staff on the old instance notice nothing: no request fails, although
// each of its connections keeps the statements it prepared before.
func TestRollingMigration(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("PostgreSQL only: SQLite keeps no prepared statements across processes")
	}
	// One connection, so every statement the walk prepares is cached on
	// the connection the second walk uses.
	d := newDesk(t, func(c *app.Config) { c.Database.MaxOpenConns = 1 })
	d.addUser(t, "lead@example.com", cases.RoleLead, true)
	key := d.readKey(t)
	walk := func(round string) {
		t.Helper()
		tok := d.register(t, cases.LedgerMessage{MessageID: "roll-" + round + "@mail.example.com",
			AccountRef: "ACC-ROLL-" + round, Recipient: "taro@example.net", Kind: "registration", Subject: "Set your password"})
		ref, status := d.browser(t).report(t, tok, url.Values{"set_password": {"1"}})
		minted := d.mint(t, "ACC-ROLL-MINT-"+round, "postal_notice")
		d.browser(t).report(t, minted.Token, url.Values{})
		lead := d.login(t, "lead@example.com")
		for _, p := range []string{"/queue", "/queue?severity=high", "/cases/" + ref, "/leads", status} {
			lead.get(t, p).wantStatus(t, http.StatusOK)
		}
		if c := d.caseByRef(t, key, ref); c.AccountRef != "ACC-ROLL-"+round {
			t.Errorf("GET /api/v1/cases/%s: account %q, want ACC-ROLL-%s", ref, c.AccountRef, round)
		}
	}
	walk("1")
	walk("2")
	d.exec(t, `DO $$ DECLARE t text; BEGIN
		FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
			EXECUTE format('ALTER TABLE %I ADD COLUMN from_the_next_release TEXT NOT NULL DEFAULT ''''', t);
		END LOOP; END $$`)
	walk("3")
}
