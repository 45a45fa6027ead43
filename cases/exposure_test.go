package cases

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

// exposureLedger seeds the ledger of acct-1: mails of several kinds to the
// owner's address and to two wrong ones, and acct-2's mail to a wrong
// address. It files two reports on acct-1's case: a click on the "not
// me" link of the wrong address's registration mail (opened a link), and
// a click on a minted link that carries the second wrong address's hash.
// It returns the case reference.
func exposureLedger(t *testing.T, d *testDesk) string {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	reg := func(id, account, rcpt, kind string, day int) Registered {
		sent := base.AddDate(0, 0, day)
		r, _, err := d.RegisterMessage(ctx, LedgerMessage{MessageID: id, AccountRef: account, Recipient: rcpt,
			Kind: kind, Subject: "Notice for " + rcpt, SentAt: &sent})
		if err != nil {
			t.Fatalf("RegisterMessage(%s) = %v", id, err)
		}
		return r
	}
	link := reg("reg1@mail.example.com", "acct-1", "Taro@Gmial.com", "registration", 0)
	reg("post1@mail.example.com", "acct-1", "taro@gmial.com", "postal_notice", 3)
	reg("order1@mail.example.com", "acct-1", "taro@gmial.com", "order_confirmation", 5)
	reg("order2@mail.example.com", "acct-1", "taro@gmial.com", "order_confirmation", 9)
	reg("news1@mail.example.com", "acct-1", "hanako@ezweb.ne.jo", "newsletter", 7)
	// The owner's own address: not exposed.
	reg("own1@mail.example.com", "acct-1", "taro@gmail.com", "postal_notice", 4)
	reg("own2@mail.example.com", "acct-1", "taro@gmail.com", "registration", 10)
	// Another account's mail to the same wrong address: not this case's.
	reg("other1@mail.example.com", "acct-2", "taro@gmial.com", "postal_notice", 6)

	tok := link.URL[strings.LastIndex(link.URL, "/")+1:]
	f := d.file(t, ReportInput{Token: tok, OpenedLink: true})
	minted, err := d.Mint("acct-1", "newsletter", "hanako@ezweb.ne.jo")
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	f2 := d.file(t, ReportInput{Token: minted.Token})
	if f2.CaseRef != f.CaseRef {
		t.Fatalf("second report on case %s, want %s", f2.CaseRef, f.CaseRef)
	}
	return f.CaseRef
}

func TestExposure(t *testing.T) {
	d := newTestDesk(t)
	ref := exposureLedger(t, d)
	e, err := d.Exposure(context.Background(), leadActor(), ref)
	if err != nil {
		t.Fatalf("Exposure() = %v", err)
	}
	var got []string
	for _, m := range e.Mails {
		got = append(got, m.MessageID)
	}
	want := []string{"order2@mail.example.com", "news1@mail.example.com", "order1@mail.example.com", "post1@mail.example.com", "reg1@mail.example.com"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Exposure().Mails = %v, want newest first %v (no owner's, no other account's)", got, want)
	}
	if e.Total != 5 || e.Truncated() {
		t.Errorf("Exposure().Total = %d (truncated %v), want 5", e.Total, e.Truncated())
	}
	if e.First == nil || e.First.MessageID != "reg1@mail.example.com" || e.Last == nil || e.Last.MessageID != "order2@mail.example.com" {
		t.Errorf("Exposure() first %+v, last %+v; want reg1 and order2", e.First, e.Last)
	}
	kinds := map[string]ExposureKind{}
	for _, k := range e.Kinds {
		kinds[k.Kind] = k
	}
	for _, w := range []struct {
		kind          string
		n             int
		cred, pd, rep bool
	}{
		{"order_confirmation", 2, false, true, false},
		{"registration", 1, true, false, true},
		{"postal_notice", 1, false, true, false},
		// The minted link's kind is not kept on its report; the case's
		// kind (registration) is.
		{"newsletter", 1, false, false, false},
	} {
		k := kinds[w.kind]
		if k.Mails != w.n || k.Credential != w.cred || k.PersonalData != w.pd || k.Reported != w.rep {
			t.Errorf("Exposure() kind %s = %+v, want %d mails, credential %v, personal data %v, reported %v", w.kind, k, w.n, w.cred, w.pd, w.rep)
		}
	}
	if len(e.Kinds) != 4 || e.Kinds[0].Kind != "order_confirmation" {
		t.Errorf("Exposure().Kinds = %+v, want 4 kinds, most mails first", e.Kinds)
	}
	if k := kinds["order_confirmation"]; k.First == nil || k.Last == nil || !k.Last.After(*k.First) {
		t.Errorf("order_confirmation first %v last %v, want two different days", k.First, k.Last)
	}
	if !e.Credential || !e.PersonalData || !e.OpenedLink || e.SetPassword || !e.CredentialLinkUsed {
		t.Errorf("Exposure() marks credential %v personal %v opened %v setpw %v used %v, want true true true false true",
			e.Credential, e.PersonalData, e.OpenedLink, e.SetPassword, e.CredentialLinkUsed)
	}
	if strings.Join(e.Recipients, " ") != "h***@ezweb.ne.jo t***@gmial.com" || e.UnlistedRecipients != 0 {
		t.Errorf("Exposure().Recipients = %v (+%d unlisted), want the two wrong addresses masked", e.Recipients, e.UnlistedRecipients)
	}
	all := fmt.Sprintf("%+v %+v %+v", e, *e.First, *e.Last)
	for _, full := range []string{"taro@gmial.com", "hanako@ezweb.ne.jo", "taro@gmail.com", "gmail.com"} {
		if strings.Contains(strings.ToLower(all), full) {
			t.Errorf("Exposure() holds %q; want masked addresses only: %s", full, all)
		}
	}
}

func TestExposureWho(t *testing.T) {
	d := newTestDesk(t)
	ref := exposureLedger(t, d)
	ctx := context.Background()
	_, err := d.Exposure(ctx, trainedAgent(), ref)
	wantCode(t, "Exposure(agent)", err, EFORBIDDEN, "")
	key := Actor{APIKey: &APIKey{ID: 1, Name: "crm", Scopes: "cases:read"}}
	if e, err := d.Exposure(ctx, key, ref); err != nil || e.Total != 5 {
		t.Errorf("Exposure(cases:read key) = %d mails, %v; want 5", e.Total, err)
	}
	_, err = d.Exposure(ctx, Actor{APIKey: &APIKey{ID: 2, Name: "mint", Scopes: "mint"}}, ref)
	wantCode(t, "Exposure(mint key)", err, EFORBIDDEN, "")
	_, err = d.ExportExposure(ctx, key, ref, ExposureCSV)
	wantCode(t, "ExportExposure(API key)", err, EFORBIDDEN, "")
	_, err = d.ExportExposure(ctx, leadActor(), ref, "pdf")
	wantCode(t, "ExportExposure(pdf)", err, EINVALID, "")
	_, err = d.Exposure(ctx, leadActor(), "NM-NOPE")
	wantCode(t, "Exposure(unknown case)", err, ENOTFOUND, "")
	if n := countRows(t, d.store, "audit_log"); n != 0 {
		t.Errorf("audit entries after refused exports = %d, want 0", n)
	}

	for _, f := range []string{ExposureJSON, ExposureCSV} {
		if _, err := d.ExportExposure(ctx, leadActor(), ref, f); err != nil {
			t.Fatalf("ExportExposure(%s) = %v", f, err)
		}
	}
	var audit []AuditEntry
	if err := d.store.w.Where("action = ?", AuditExposureExport).Order("id").Find(&audit).Error; err != nil {
		t.Fatal(err)
	}
	if len(audit) != 2 || audit[0].Args["format"] != "json" || audit[1].Args["format"] != "csv" ||
		audit[0].Subject != "case:"+ref || audit[0].Actor != "user:lead@desk.example.com" || audit[0].Args["mails"] != "5" {
		t.Errorf("audit entries = %+v, want one per export naming the case, the format and 5 mails", audit)
	}
}

// TestExposureBounded: past ExposureListMax mails the list stops and the
// counts stay exact.
func TestExposureBounded(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	b := d.NewLedgerBatch()
	n := ExposureListMax + 37
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		sent := base.Add(time.Duration(i) * time.Hour)
		kind := "order_confirmation"
		if i%10 == 0 {
			kind = "magic_link"
		}
		if err := b.Add(ctx, LedgerMessage{MessageID: mid(i), AccountRef: "acct-9", Recipient: "wrong@gmial.com", Kind: kind, SentAt: &sent}); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(ctx, LedgerMessage{MessageID: "own" + mid(i), AccountRef: "acct-9", Recipient: "right@gmail.com", Kind: kind, SentAt: &sent}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f := d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{"<" + mid(3) + ">"}, Reporter: "wrong@gmial.com", SetPassword: true})
	e, err := d.Exposure(ctx, leadActor(), f.CaseRef)
	if err != nil {
		t.Fatalf("Exposure() = %v", err)
	}
	if e.Total != n || len(e.Mails) != ExposureListMax || !e.Truncated() {
		t.Errorf("Exposure() = %d listed of %d, want %d of %d", len(e.Mails), e.Total, ExposureListMax, n)
	}
	if e.Mails[0].MessageID != mid(n-1) || e.First.MessageID != mid(0) || e.Last.MessageID != mid(n-1) {
		t.Errorf("Exposure() newest %s, first %s, last %s; want %s, %s, %s", e.Mails[0].MessageID, e.First.MessageID, e.Last.MessageID, mid(n-1), mid(0), mid(n-1))
	}
	sum := 0
	for _, k := range e.Kinds {
		sum += k.Mails
	}
	if sum != n || e.Kinds[0].Kind != "order_confirmation" || e.Kinds[1].Mails != (n+9)/10 {
		t.Errorf("Exposure().Kinds = %+v, want %d mails in all, %d magic links", e.Kinds, n, (n+9)/10)
	}
	if !e.CredentialLinkUsed || !e.SetPassword {
		t.Errorf("Exposure() credential link used %v, set password %v; want both", e.CredentialLinkUsed, e.SetPassword)
	}
}

// TestExposureScanUsesAccountIndex: the exposure reads one account's
// ledger rows by the account index, never the whole ledger.
func TestExposureScanUsesAccountIndex(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	b := d.NewLedgerBatch()
	for i := range 20_000 {
		if err := b.Add(ctx, LedgerMessage{MessageID: mid(i), AccountRef: fmt.Sprintf("ACC-%d", i%3000),
			Recipient: fmt.Sprintf("u%d@example.net", i%5000), Kind: svcKinds[i%len(svcKinds)].Name}); err != nil {
			t.Fatalf("LedgerBatch.Add(%d) = %v", i, err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("LedgerBatch.Flush() = %v", err)
	}
	if err := d.store.w.Exec("ANALYZE").Error; err != nil {
		t.Fatalf("ANALYZE = %v", err)
	}
	db := d.store.w
	postgres := db.Dialector.Name() == "postgres"
	sql := db.ToSQL(func(tx *gorm.DB) *gorm.DB { return exposureScanQuery(tx, "ACC-7", 0).Find(&[]LedgerMessage{}) })
	plan := explain(t, db, postgres, sql)
	if !strings.Contains(plan, "ledger_messages_account_ref") || fullScan(postgres, plan) {
		t.Errorf("plan of the exposure's ledger scan:\n%s\n%s\nwant it to use ledger_messages_account_ref, no full table scan", sql, plan)
	}
}

// BenchmarkExposure answers one case's exposure on a ledger of 1M rows
// (10,000 accounts); the case's account has 2,000 mails, 286 of them to
// the wrong address.
//
//	go test -run XXX -bench Exposure -benchtime 20x ./cases
func BenchmarkExposure(b *testing.B) {
	d := newTestDesk(b)
	ctx := context.Background()
	batch := d.NewLedgerBatch()
	const rows = 1_000_000
	for i := range rows {
		m := LedgerMessage{MessageID: mid(i), AccountRef: fmt.Sprintf("ACC-%d", i%10000),
			Recipient: fmt.Sprintf("u%d@example.net", i%60000), Kind: svcKinds[i%len(svcKinds)].Name, Subject: "Your account"}
		if i%500 == 0 {
			m.AccountRef = "ACC-CASE"
			if (i/500)%7 == 0 {
				m.Recipient = "wrong@gmial.com"
			}
		}
		if err := batch.Add(ctx, m); err != nil {
			b.Fatalf("LedgerBatch.Add() = %v", err)
		}
	}
	if err := batch.Flush(ctx); err != nil {
		b.Fatalf("LedgerBatch.Flush() = %v", err)
	}
	f := d.file(b, ReportInput{Channel: ChannelMail, MessageIDs: []string{"<" + mid(0) + ">"}, Reporter: "wrong@gmial.com"})
	b.ResetTimer()
	var e Exposure
	for range b.N {
		var err error
		if e, err = d.Exposure(ctx, leadActor(), f.CaseRef); err != nil {
			b.Fatalf("Exposure() = %v", err)
		}
	}
	b.StopTimer()
	if e.Total != 286 {
		b.Fatalf("Exposure().Total = %d, want 286", e.Total)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/op")
}

// TestExposureTokenOnly: a minted link with no ledger mail still tells
// the kind, the recipient (as unlisted) and a used credential link; a
// report kept from before recipient hashes finds its recipient by the
// mail it quotes.
func TestExposureTokenOnly(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	m, err := d.Mint("acct-5", "magic_link", "someone@gmial.com")
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	f := d.file(t, ReportInput{Token: m.Token, OpenedLink: true})
	e, err := d.Exposure(ctx, leadActor(), f.CaseRef)
	if err != nil {
		t.Fatalf("Exposure() = %v", err)
	}
	if e.Total != 0 || e.UnlistedRecipients != 1 || len(e.Kinds) != 1 || e.Kinds[0].Kind != "magic_link" ||
		!e.Kinds[0].Reported || e.Kinds[0].Mails != 0 || !e.CredentialLinkUsed || e.First != nil {
		t.Errorf("Exposure() = %+v, want no mails, 1 unlisted recipient, the magic link reported and used", e)
	}

	d.register(t, "old1@mail.example.com", "acct-6", "old@gmial.com", "postal_notice")
	d.register(t, "old2@mail.example.com", "acct-6", "old@gmial.com", "order_confirmation")
	d.register(t, "old3@mail.example.com", "acct-6", "owner@gmail.com", "order_confirmation")
	f = d.file(t, ReportInput{Channel: ChannelAPI, MessageIDs: []string{"old1@mail.example.com"}})
	if err := d.store.w.Exec("UPDATE reports SET recipient_hash = NULL WHERE case_id = ?", f.Case.ID).Error; err != nil {
		t.Fatal(err)
	}
	e, err = d.Exposure(ctx, leadActor(), f.CaseRef)
	if err != nil {
		t.Fatalf("Exposure() = %v", err)
	}
	if e.Total != 2 || len(e.Recipients) != 1 || e.Recipients[0] != "o***@gmial.com" || e.CredentialLinkUsed {
		t.Errorf("Exposure() of a report without a recipient hash = %d mails to %v, want 2 to o***@gmial.com", e.Total, e.Recipients)
	}
}
