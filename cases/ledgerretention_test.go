package cases

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Retention prunes the ledger by age, in batches, idempotently; a report
// of a pruned mail still matches by its sealed link and goes to triage by
// its Message-ID alone.
func TestPurgeLedger(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	const keep = 180 * 24 * time.Hour
	start := d.clock.Now()
	var oldLink string
	for i := range 5 {
		reg := d.register(t, fmt.Sprintf("<old-%d@mail.example.com>", i), "ACC-OLD", "taro@gmial.com", "registration")
		if i == 0 {
			oldLink = reg.URL
		}
	}
	d.clock.Advance(100 * 24 * time.Hour)
	d.register(t, "<new-1@mail.example.com>", "ACC-NEW", "hanako@example.net", "order_confirmation")

	if due, ok, err := d.LedgerPurgeDue(ctx, keep); err != nil || !ok || !due.Equal(start.Add(keep)) {
		t.Fatalf("LedgerPurgeDue() = %v, %v, %v; want %v", due, ok, err, start.Add(keep))
	}
	d.clock.Advance(79 * 24 * time.Hour) // day 179
	if n, err := d.PurgeLedger(ctx, keep, 2); n != 0 || err != nil {
		t.Fatalf("PurgeLedger(day 179) = %d, %v; want 0", n, err)
	}
	d.clock.Advance(2 * 24 * time.Hour) // day 181
	if n, err := d.PurgeLedger(ctx, keep, 2); n != 5 || err != nil {
		t.Fatalf("PurgeLedger(day 181, batch 2) = %d, %v; want the 5 old messages", n, err)
	}
	if n, err := d.PurgeLedger(ctx, keep, 2); n != 0 || err != nil {
		t.Fatalf("PurgeLedger(day 181, again) = %d, %v; want 0", n, err)
	}
	if n := countRows(t, d.store, "ledger_messages"); n != 1 {
		t.Fatalf("%d ledger messages after the purge, want 1", n)
	}
	if due, ok, err := d.LedgerPurgeDue(ctx, keep); err != nil || !ok || !due.Equal(start.Add(100*24*time.Hour+keep)) {
		t.Errorf("LedgerPurgeDue() after the purge = %v, %v, %v; want the new message's day 280", due, ok, err)
	}
	_, err := d.LedgerByMessageID(ctx, "<old-0@mail.example.com>")
	wantCode(t, "LedgerByMessageID(pruned)", err, ENOTFOUND, "")
	if m, err := d.LedgerByMessageID(ctx, "<new-1@mail.example.com>"); err != nil || m.AccountRef != "ACC-NEW" {
		t.Errorf("LedgerByMessageID(kept) = %+v, %v; want ACC-NEW", m, err)
	}

	// The link in the pruned mail carries its account: still exact.
	tok := oldLink[strings.LastIndexByte(oldLink, '/')+1:]
	f := d.file(t, ReportInput{Channel: ChannelLink, Token: tok})
	if f.Case.Match != MatchExact || f.Case.AccountRef != "ACC-OLD" {
		t.Errorf("FileReport(link of a pruned mail) = %s match to %q, want exact to ACC-OLD", f.Case.Match, f.Case.AccountRef)
	}
	// Its Message-ID alone, from the address it went to: nothing left to
	// match, so the report waits in triage.
	f = d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{"<old-1@mail.example.com>"}, Reporter: "taro@gmial.com"})
	if f.Case.Match != MatchUnmatched || f.Case.AccountRef != "" {
		t.Errorf("FileReport(Message-ID of a pruned mail) = %s match to %q, want unmatched", f.Case.Match, f.Case.AccountRef)
	}
	// The kept mail still matches by its Message-ID, from the address it went to.
	f = d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{"<new-1@mail.example.com>"}, Reporter: "hanako@example.net"})
	if f.Case.Match != MatchExact || f.Case.AccountRef != "ACC-NEW" {
		t.Errorf("FileReport(Message-ID of a kept mail) = %s match to %q, want exact to ACC-NEW", f.Case.Match, f.Case.AccountRef)
	}
}

func TestPurgeLedgerRefusesNoRetention(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "<m@mail.example.com>", "ACC-1", "taro@gmial.com", "registration")
	if n, err := d.PurgeLedger(context.Background(), 0, 0); err == nil || n != 0 {
		t.Fatalf("PurgeLedger(retention 0) = %d, %v; want an error and nothing deleted", n, err)
	}
	if n := countRows(t, d.store, "ledger_messages"); n != 1 {
		t.Fatalf("%d ledger messages after a refused purge, want 1", n)
	}
}

func TestLedgerPurgeDueOnEmptyLedger(t *testing.T) {
	d := newTestDesk(t)
	if due, ok, err := d.LedgerPurgeDue(context.Background(), time.Hour); ok || err != nil {
		t.Fatalf("LedgerPurgeDue(empty) = %v, %v, %v; want not ok", due, ok, err)
	}
}
