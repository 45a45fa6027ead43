package cases

import (
	"context"
	"testing"
)

// A lead confirms which domain a cluster's typo domain meant: the guard
// suggests it at once on this instance, and on another instance sharing
// the database when that one next reads the table.
func TestConfirmedTypoDomainTeachesTheGuard(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	signup := Actor{APIKey: &APIKey{Name: "signup", Scopes: string(ScopeAddressesCheck)}}
	ask := func(svc *Service, addr string) GuardAnswer {
		t.Helper()
		ans, err := svc.CheckAddress(ctx, signup, GuardInput{Address: addr})
		if err != nil {
			t.Fatalf("CheckAddress(%s) = %v", addr, err)
		}
		return ans
	}
	if ans := ask(d.Service, "taro@mailshop-typo.example"); ans.Verdict != VerdictSend {
		t.Fatalf("before any confirmation: %+v, want send", ans)
	}
	// Another instance on the same database, which has read the table.
	other, err := NewService(Options{Store: d.store.Store, Sealer: svcSealer(t, d.clock.Now), Kinds: svcKinds,
		PublicURL: "https://desk.example.com/", MessageIDDomain: "mail.example.com", Now: d.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ask(other, "x@example.org")

	_, err = d.ConfirmTypoDomain(ctx, trainedAgent(), "mailshop-typo.example", "mailshop.example")
	wantCode(t, "ConfirmTypoDomain(agent)", err, EFORBIDDEN, "")
	for _, bad := range [][2]string{{"gmail.com", "gmial.com"}, {"a.example", "a.example"}, {"not a domain", "gmail.com"}} {
		_, err := d.ConfirmTypoDomain(ctx, leadUser(), bad[0], bad[1])
		wantCode(t, "ConfirmTypoDomain("+bad[0]+", "+bad[1]+")", err, EINVALID, "")
	}
	if _, err := d.ConfirmTypoDomain(ctx, leadUser(), "MailShop-Typo.example", "mailshop.example"); err != nil {
		t.Fatalf("ConfirmTypoDomain() = %v", err)
	}
	ans := ask(d.Service, "taro@mailshop-typo.example")
	if ans.Verdict != VerdictConfirmFirst || ans.Suggestion != "taro@mailshop.example" || len(ans.Reasons) != 1 || ans.Reasons[0].Source != "learned" {
		t.Errorf("after the confirmation: %+v; want confirm_first, taro@mailshop.example, learned", ans)
	}
	// The other instance learns it when it reads the table again.
	other.learned.read = other.learned.read.Add(-typoRefresh)
	if ans := ask(other, "hanako@mailshop-typo.example"); ans.Suggestion != "hanako@mailshop.example" {
		t.Errorf("the other instance after its refresh: %+v; want the learned suggestion", ans)
	}
	ts, err := d.TypoDomains(ctx, leadUser())
	if err != nil || len(ts) != 1 || ts[0].Domain != "mailshop-typo.example" || ts[0].ConfirmedBy != leadUser().String() {
		t.Errorf("TypoDomains() = %+v, %v", ts, err)
	}
	var n int64
	if err := d.store.r.Model(&AuditEntry{}).Where("action = ?", AuditTypoDomain).Count(&n).Error; err != nil || n != 1 {
		t.Errorf("%d audit entries for the confirmation, %v; want 1", n, err)
	}
}
