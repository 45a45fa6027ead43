package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestReporterOutcome(t *testing.T) {
	const (
		rq = ActionRequested
		ok = ActionConfirmed
		no = ActionFailed
	)
	sup, rev, rv := ActionSuppressRecipient, ActionRevokePendingLinks, ActionRequireReverification
	for _, tc := range []struct {
		name      string
		match     Match
		confirmed bool
		status    Status
		assigned  bool
		actions   map[string]string
		unseen    bool
		want      ReporterCode
		facts     []ReporterFact
	}{
		{"new exact, auto actions requested", MatchExact, false, StatusNew, false, map[string]string{rev: rq}, false, OutcomeReceived, nil},
		{"new unmatched reads the same", MatchUnmatched, false, StatusNew, false, nil, false, OutcomeReceived, nil},
		{"taken", MatchUnmatched, false, StatusNew, true, nil, false, OutcomeHandling, nil},
		{"contained by hand, nothing requested", MatchExact, false, StatusContained, false, nil, false, OutcomeHandling, nil},
		{"new, removal confirmed: no facts before anyone is on it", MatchExact, false, StatusNew, false, map[string]string{sup: ok, rev: ok}, false, OutcomeReceived, nil},
		{"taken, removal confirmed", MatchExact, false, StatusNew, true, map[string]string{sup: ok, rev: ok}, false, OutcomeHandling,
			[]ReporterFact{FactAddressRemoved, FactLinksRevoked}},
		{"open probable, unconfirmed: no facts", MatchProbable, false, StatusContained, true, map[string]string{sup: ok}, false, OutcomeHandling, nil},
		{"resolved, removal confirmed", MatchExact, false, StatusResolved, true, map[string]string{sup: ok, rev: ok}, false, OutcomeRemoved,
			[]ReporterFact{FactLinksRevoked}},
		{"resolved, removal failed", MatchExact, false, StatusResolved, true, map[string]string{sup: no}, false, OutcomeNotRemoved, nil},
		{"resolved, removal never answered", MatchExact, false, StatusResolved, true, map[string]string{sup: ActionDelivered}, false, OutcomeNotRemoved, nil},
		{"resolved, links revoked, no removal asked", MatchExact, false, StatusResolved, true, map[string]string{rev: ok, rv: ok}, false, OutcomeNotRemoved,
			[]ReporterFact{FactLinksRevoked}},
		{"resolved, nothing requested", MatchExact, false, StatusResolved, true, nil, false, OutcomeNoChange, nil},
		{"resolved unmatched", MatchUnmatched, false, StatusResolved, true, nil, false, OutcomeUnlinked, nil},
		{"dismissed unmatched", MatchUnmatched, false, StatusDismissed, false, nil, false, OutcomeUnlinked, nil},
		{"resolved probable never confirmed, case acted", MatchProbable, false, StatusResolved, true, map[string]string{sup: ok}, false, OutcomeUnconfirmed, nil},
		{"resolved probable confirmed, removed", MatchProbable, true, StatusResolved, true, map[string]string{sup: ok}, false, OutcomeRemoved, nil},
		{"dismissed exact, nothing requested", MatchExact, false, StatusDismissed, true, nil, false, OutcomeNoChange, nil},
		{"joined a case being handled, nobody acted since", MatchExact, false, StatusContained, true, map[string]string{sup: ok}, true, OutcomeReceived, nil},
		{"joined a resolved case, nobody acted since", MatchExact, false, StatusResolved, true, map[string]string{sup: ok}, true, OutcomeReceived, nil},
		{"joined a dismissed case, nobody acted since", MatchProbable, false, StatusDismissed, true, nil, true, OutcomeReceived, nil},
	} {
		got := ReporterOutcome(OutcomeInput{Match: tc.match, MatchConfirmed: tc.confirmed, Status: tc.status,
			Assigned: tc.assigned, Actions: tc.actions, Unseen: tc.unseen})
		if got.Code != tc.want || !slices.Equal(got.Facts, tc.facts) {
			t.Errorf("ReporterOutcome(%s) = %s %v, want %s %v", tc.name, got.Code, got.Facts, tc.want, tc.facts)
		}
	}
}

// A status token is the reporter's alone: long, random, different for
// each report on the same case, and unrelated to the case reference,
// which does not open a status page.
func TestStatusTokensAreUnguessableAndNotTheReference(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	tok := d.mint(t, "acct-1", "registration").Token
	seen := map[string]bool{}
	var ref string
	for range 20 {
		f := d.file(t, ReportInput{Token: tok})
		ref = f.CaseRef
		if len(f.StatusToken) < 24 {
			t.Fatalf("FileReport().StatusToken = %q: %d characters, want at least 24 (144 random bits)", f.StatusToken, len(f.StatusToken))
		}
		if seen[f.StatusToken] {
			t.Fatalf("FileReport() gave the status token %q twice", f.StatusToken)
		}
		seen[f.StatusToken] = true
		plain := strings.ReplaceAll(strings.TrimPrefix(f.CaseRef, "NM-"), "-", "")
		if strings.Contains(strings.ToUpper(f.StatusToken), plain) {
			t.Fatalf("FileReport().StatusToken %q contains the case reference %s", f.StatusToken, f.CaseRef)
		}
	}
	for _, guess := range []string{ref, strings.TrimPrefix(ref, "NM-"), strings.ReplaceAll(ref, "-", "")} {
		_, err := d.StatusByToken(ctx, guess)
		wantCode(t, "StatusByToken("+guess+")", err, ENOTFOUND, "")
	}
	// Only the hash is stored: the database alone does not open a status page.
	var hashes [][]byte
	if err := d.store.r.Table("reports").Pluck("status_hash", &hashes).Error; err != nil {
		t.Fatal(err)
	}
	for _, h := range hashes {
		if seen[string(h)] {
			t.Fatalf("reports.status_hash holds a status token in the clear")
		}
	}
}

func TestStatusByTokenOutcomes(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	f := d.file(t, ReportInput{Token: d.mint(t, "acct-1", "postal_notice").Token})
	agent := trainedAgent()
	system := Actor{APIKey: &APIKey{Name: "crm", Scopes: "cases:read cases:write"}}
	step := func(name string, do func() error, token string, want ReporterCode) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatalf("%s = %v", name, err)
		}
		st, err := d.StatusByToken(ctx, token)
		if err != nil || st.Outcome.Code != want {
			t.Fatalf("after %s: StatusByToken().Outcome = %+v, %v; want %q", name, st.Outcome, err, want)
		}
	}
	step("nothing", func() error { return nil }, f.StatusToken, OutcomeReceived)
	step("Take", func() error { _, err := d.Take(ctx, agent, f.CaseRef); return err }, f.StatusToken, OutcomeHandling)
	step("ConfirmContainment(suppress done)", func() error {
		_, _, err := d.ConfirmContainment(ctx, system, f.CaseRef, []ContainmentResult{{ActionSuppressRecipient, ResultDone, ""}})
		return err
	}, f.StatusToken, OutcomeHandling)
	step("SetStatus(resolved)", func() error { _, err := d.SetStatus(ctx, agent, f.CaseRef, StatusResolved, ""); return err },
		f.StatusToken, OutcomeRemoved)

	// A probable match counts once a person confirmed it, not before.
	d.register(t, "<p9@mail.example.com>", "ACC-9", "taro@gmial.com", "postal_notice")
	p := d.file(t, ReportInput{Channel: ChannelForm, Reporter: "taro@gmial.com"})
	if _, err := d.Take(ctx, agent, p.CaseRef); err != nil {
		t.Fatalf("Take() = %v", err)
	}
	step("ConfirmMatch", func() error { _, err := d.ConfirmMatch(ctx, agent, p.CaseRef); return err }, p.StatusToken, OutcomeHandling)
	step("SetStatus(resolved) with removal unanswered", func() error {
		if _, err := d.SetStatus(ctx, agent, p.CaseRef, StatusContained, ""); err != nil {
			return err
		}
		_, err := d.SetStatus(ctx, agent, p.CaseRef, StatusResolved, "")
		return err
	}, p.StatusToken, OutcomeNotRemoved)

	g := d.file(t, ReportInput{Token: "forged-token"})
	step("SetStatus(dismissed)", func() error { _, err := d.SetStatus(ctx, agent, g.CaseRef, StatusDismissed, "test mail"); return err },
		g.StatusToken, OutcomeUnlinked)
	st, _ := d.StatusByToken(ctx, g.StatusToken)
	if strings.Contains(fmt.Sprintf("%+v", st), "test mail") {
		t.Errorf("StatusByToken(dismissed) = %+v, carries the internal reason", st)
	}
}
