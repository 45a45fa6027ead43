package cases

import (
	"context"
	"strings"
	"testing"
	"time"
)

func leadUser() Actor {
	return Actor{User: &User{ID: 2, Email: "lead@desk.example.com", Role: RoleLead, SecurityTrained: true}}
}

// A reporter's click on a postal notice's link requests suppress_recipient
// at once: the recipient the link was sealed for goes on the list for that
// account, by its hash (the desk never saw the address), and the guard's
// look-up finds it for that account only.
func TestSuppressRecipientListsTheLinksRecipient(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	link, err := d.Mint("ACC-1", "postal_notice", "taro@gmial.com")
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	f := d.file(t, ReportInput{Token: link.Token, OpenedLink: true})
	if f.Requested == 0 {
		t.Fatalf("the click requested nothing; want the postal notice kind's suppress_recipient")
	}
	got, err := d.SuppressedFor(ctx, "Taro@Gmial.com ", "ACC-1")
	if err != nil || len(got) != 1 {
		t.Fatalf("SuppressedFor(recipient, ACC-1) = %+v, %v; want one entry", got, err)
	}
	x := got[0]
	if x.Reason != SuppressNotMyAddress || x.Origin != OriginReporter || x.AccountRef != "ACC-1" || x.CaseID == nil || *x.CaseID != f.Case.ID {
		t.Errorf("entry = %+v; want not_my_address from the reporter, for ACC-1, from case %d", x, f.Case.ID)
	}
	if x.AddrMasked != "" || x.Domain != "" {
		t.Errorf("entry shows %q / %q; a sealed link's recipient is known by its hash alone", x.AddrMasked, x.Domain)
	}
	for _, other := range []struct{ addr, account string }{
		{"taro@gmial.com", "ACC-2"}, {"taro@gmial.com", AllAccounts}, {"hanako@gmial.com", "ACC-1"},
	} {
		if got, err := d.SuppressedFor(ctx, other.addr, other.account); err != nil || len(got) != 0 {
			t.Errorf("SuppressedFor(%s, %q) = %+v, %v; want none", other.addr, other.account, got, err)
		}
	}
	// A second click changes nothing on the list.
	d.file(t, ReportInput{Token: link.Token, OpenedLink: true})
	if n := countRows(t, d.store, "suppressions"); n != 1 {
		t.Errorf("%d suppressions after a second click, want 1", n)
	}
}

// When an agent confirms a probable match and asks for suppress_recipient,
// the ledger names the address: the entry shows it masked, as staff's.
func TestSuppressRecipientFromTheLedgerIsMasked(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, "<p2@mail.example.com>", "ACC-4", "taro@gmial.com", "registration")
	f := d.file(t, ReportInput{Channel: ChannelForm, Reporter: "taro@gmial.com", MessageIDs: []string{"<p2@mail.example.com>"}})
	if got, _ := d.SuppressedFor(ctx, "taro@gmial.com", "ACC-4"); len(got) != 0 {
		t.Fatalf("a probable match listed %+v before anyone confirmed it", got)
	}
	if _, err := d.ConfirmMatch(ctx, trainedAgent(), f.CaseRef); err != nil {
		t.Fatalf("ConfirmMatch() = %v", err)
	}
	if _, err := d.RequestContainment(ctx, trainedAgent(), f.CaseRef, ActionSuppressRecipient); err != nil {
		t.Fatalf("RequestContainment(suppress_recipient) = %v", err)
	}
	got, err := d.SuppressedFor(ctx, "taro@gmial.com", "ACC-4")
	if err != nil || len(got) != 1 {
		t.Fatalf("SuppressedFor() = %+v, %v; want one entry", got, err)
	}
	if x := got[0]; x.AddrMasked != "t***@gmial.com" || x.Domain != "gmial.com" || x.Origin != OriginStaff || x.CreatedBy != trainedAgent().String() {
		t.Errorf("entry = %+v; want t***@gmial.com at gmial.com, by the agent as staff", x)
	}
}

// Leads and keys with the suppressions scopes keep the list by hand; an
// agent cannot, and a key without the scope cannot; bad input is refused
// by name.
func TestSuppressionListByHand(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	crm := Actor{APIKey: &APIKey{Name: "crm", Scopes: string(ScopeSuppressionsWrite)}}
	reader := Actor{APIKey: &APIKey{Name: "bi", Scopes: string(ScopeSuppressionsRead)}}
	in := SuppressionInput{Address: "Hanako@Example.JP", Reason: SuppressBounce}

	for _, a := range []Actor{trainedAgent(), reader, {APIKey: &APIKey{Name: "x", Scopes: string(ScopeCasesWrite)}}, {}} {
		_, _, err := d.AddSuppression(ctx, a, in)
		wantCode(t, "AddSuppression("+a.String()+")", err, EFORBIDDEN, "")
	}
	for _, bad := range []struct {
		in      SuppressionInput
		mention string
	}{
		{SuppressionInput{Address: "not an address"}, "address"},
		{SuppressionInput{Address: "a@example.com", Reason: "spite"}, "reason"},
		{SuppressionInput{Address: "a@example.com", TTL: 11 * 365 * 24 * time.Hour}, "ten years"},
		{SuppressionInput{Address: "a@example.com", AccountRef: strings.Repeat("x", 129)}, "account_ref"},
		{SuppressionInput{Address: "a@example.com", CaseRef: "NM-0000-0000"}, "no case"},
	} {
		_, _, err := d.AddSuppression(ctx, leadUser(), bad.in)
		wantCode(t, "AddSuppression("+bad.in.Address+")", err, EINVALID, bad.mention)
	}

	x, added, err := d.AddSuppression(ctx, crm, in)
	if err != nil || !added {
		t.Fatalf("AddSuppression(crm) = %+v, %v, %v", x, added, err)
	}
	if x.Origin != OriginAccountSystem || x.AccountRef != AllAccounts || x.AddrMasked != "h***@example.jp" || x.Reason != SuppressBounce {
		t.Errorf("entry = %+v; want the account system's bounce for every account, masked", x)
	}
	again, added, err := d.AddSuppression(ctx, leadUser(), in)
	if err != nil || added || again.ID != x.ID {
		t.Errorf("AddSuppression(same address again) = %+v, added %v, %v; want the first entry, not added", again, added, err)
	}
	for _, account := range []string{"ACC-1", AllAccounts} {
		if got, _ := d.SuppressedFor(ctx, "hanako@example.jp", account); len(got) != 1 {
			t.Errorf("SuppressedFor(account %q) = %+v; an entry for every account holds for each", account, got)
		}
	}
	if _, err := d.Suppressions(ctx, trainedAgent(), SuppressionFilter{}); err == nil {
		t.Error("Suppressions(agent) = nil error; the list is for leads")
	}
	list, err := d.Suppressions(ctx, reader, SuppressionFilter{Domain: "EXAMPLE.jp"})
	if err != nil || len(list) != 1 || list[0].ID != x.ID {
		t.Errorf("Suppressions(domain example.jp) = %+v, %v", list, err)
	}
	if list, _ := d.Suppressions(ctx, reader, SuppressionFilter{Reason: SuppressComplaint}); len(list) != 0 {
		t.Errorf("Suppressions(reason complaint) = %+v, want none", list)
	}

	// The address changed hands: the account system takes it off, with
	// its reason; the row stays, closed, and the guard no longer sees it.
	_, err = d.RemoveSuppression(ctx, crm, x.ID, "  ")
	wantCode(t, "RemoveSuppression(no reason)", err, EINVALID, "")
	if _, err := d.RemoveSuppression(ctx, crm, x.ID, "the address was recycled to a new customer"); err != nil {
		t.Fatalf("RemoveSuppression() = %v", err)
	}
	_, err = d.RemoveSuppression(ctx, crm, x.ID, "again")
	wantCode(t, "RemoveSuppression(again)", err, ECONFLICT, "")
	if got, _ := d.SuppressedFor(ctx, "hanako@example.jp", "ACC-1"); len(got) != 0 {
		t.Errorf("SuppressedFor() after removal = %+v, want none", got)
	}
	all, err := d.Suppressions(ctx, reader, SuppressionFilter{Removed: true})
	if err != nil || len(all) != 1 || all[0].RemovedReason != "the address was recycled to a new customer" || all[0].RemovedBy != "api:crm" {
		t.Errorf("Suppressions(removed too) = %+v, %v; want the closed entry with its reason", all, err)
	}
	var audit []AuditEntry
	if err := d.store.r.Where("action IN ?", []string{AuditSuppressionAdded, AuditSuppressionRemoved}).Order("id").Find(&audit).Error; err != nil {
		t.Fatal(err)
	}
	if len(audit) != 2 || strings.Contains(audit[0].Detail, "hanako") {
		t.Errorf("audit = %+v; want one entry each for adding and removing, the address masked", audit)
	}
	// Listed again after removal: a new entry.
	if _, added, err := d.AddSuppression(ctx, leadUser(), in); err != nil || !added {
		t.Errorf("AddSuppression(after removal) = added %v, %v; want a new entry", added, err)
	}
}

// An entry with an expiry stops holding then, and the address can be
// listed again after it.
func TestSuppressionExpires(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	in := SuppressionInput{Address: "jiro@example.com", AccountRef: "ACC-9", TTL: time.Hour}
	x, _, err := d.AddSuppression(ctx, leadUser(), in)
	if err != nil {
		t.Fatalf("AddSuppression() = %v", err)
	}
	// Listed again with a later expiry: the entry lasts as long.
	in.TTL = 2 * time.Hour
	if again, added, err := d.AddSuppression(ctx, leadUser(), in); err != nil || added || !again.ExpiresAt.Equal(x.CreatedAt.Add(2*time.Hour)) {
		t.Errorf("AddSuppression(later expiry) = %+v, added %v, %v; want the entry, lasting 2h", again, added, err)
	}
	d.clock.Advance(2*time.Hour + time.Second)
	if got, _ := d.SuppressedFor(ctx, "jiro@example.com", "ACC-9"); len(got) != 0 {
		t.Errorf("SuppressedFor() after expiry = %+v, want none", got)
	}
	if list, _ := d.Suppressions(ctx, leadUser(), SuppressionFilter{}); len(list) != 0 {
		t.Errorf("Suppressions(live) after expiry = %+v, want none", list)
	}
	y, added, err := d.AddSuppression(ctx, leadUser(), in)
	if err != nil || !added || y.ID == x.ID {
		t.Fatalf("AddSuppression(after expiry) = %+v, added %v, %v; want a new entry", y, added, err)
	}
	all, _ := d.Suppressions(ctx, leadUser(), SuppressionFilter{Removed: true})
	if len(all) != 2 || all[0].RemovedReason != "expired" {
		t.Errorf("Suppressions(all) = %+v; want the expired entry closed as expired, and the new one", all)
	}
}
