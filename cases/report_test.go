package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"notme/cases/ident"
)

// forge returns tok with one character in the middle changed: it still
// looks like a token but no longer opens.
func forge(tok string, i int) string {
	b := []byte(tok)
	p := len(b)/2 + i
	if b[p] == 'A' {
		b[p] = 'B'
	} else {
		b[p] = 'A'
	}
	return string(b)
}

func TestFileReportMatchingLadder(t *testing.T) {
	type want struct {
		match   Match
		by      string
		account string
		kind    string
		msgID   string
	}
	tests := []struct {
		name string
		in   func(tok, mintedID string) ReportInput
		want want
	}{
		{"token", func(tok, _ string) ReportInput {
			return ReportInput{Token: tok}
		}, want{MatchExact, "token", "acct-T", "registration", ""}},
		{"minted Message-ID among candidates", func(_, mintedID string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{"<unknown@elsewhere.example>", mintedID}}
		}, want{MatchExact, "token", "acct-T", "registration", "minted"}},
		{"ledger Message-ID with brackets, mailed from its recipient", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{"<" + mid(1) + ">"}, Reporter: "ledger@example.com"}
		}, want{MatchExact, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"ledger Message-ID without brackets, after an unknown one, from its recipient", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{"x@nowhere.example", " " + mid(1) + " "}, Reporter: " Ledger@Example.COM "}
		}, want{MatchExact, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"ledger Message-ID mailed from another address is probable", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{"<" + mid(1) + ">"}, Reporter: "stranger@example.net"}
		}, want{MatchProbable, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"ledger Message-ID from its recipient whose From is in doubt is probable", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{mid(1)}, Reporter: "ledger@example.com", ReporterDoubted: true}
		}, want{MatchProbable, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"ledger Message-ID without a reporter (an ARF report) is probable", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{mid(1)}}
		}, want{MatchProbable, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"ledger Message-ID from a verified feedback loop", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{mid(1)}, VerifiedFeedbackLoop: true}
		}, want{MatchExact, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"a feedback loop's word counts only in mail", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelForm, MessageIDs: []string{mid(1)}, VerifiedFeedbackLoop: true, Reporter: "ledger@example.com"}
		}, want{MatchProbable, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"the reporter's own ledger message beats one named before it", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{mid(2), mid(1)}, Reporter: "ledger@example.com"}
		}, want{MatchExact, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"ledger Message-ID through the call centre's API is a caller's word: probable", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelAPI, MessageIDs: []string{mid(1)}}
		}, want{MatchProbable, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"ledger Message-ID pasted on the form is probable", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelForm, MessageIDs: []string{"x@nowhere.example", " " + mid(1) + " "}}
		}, want{MatchProbable, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"token beats ledger", func(tok, _ string) ReportInput {
			return ReportInput{Channel: ChannelAPI, Token: tok, MessageIDs: []string{mid(1)}}
		}, want{MatchExact, "token", "acct-T", "registration", ""}},
		{"forged token falls through to ledger", func(tok, _ string) ReportInput {
			return ReportInput{Channel: ChannelAPI, Token: forge(tok, 0), MessageIDs: []string{mid(1)}}
		}, want{MatchProbable, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"forged token and a ledger Message-ID on a link are probable", func(tok, _ string) ReportInput {
			return ReportInput{Token: forge(tok, 0), MessageIDs: []string{mid(1)}}
		}, want{MatchProbable, "ledger", "acct-L", "postal_notice", mid(1)}},
		{"ledger beats reporter address", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, MessageIDs: []string{mid(2)}, Reporter: "ledger@example.com"}
		}, want{MatchProbable, "ledger", "acct-N", "newsletter", mid(2)}},
		{"reporter address is a ledger recipient", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, Reporter: " Ledger@Example.COM ", MessageIDs: []string{"<gone@x.example>"}}
		}, want{MatchProbable, "recipient", "acct-L", "postal_notice", mid(1)}},
		{"nothing", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelMail, Reporter: "stranger@example.net"}
		}, want{MatchUnmatched, "none", "", "", ""}},
		{"unknown Message-ID", func(_, _ string) ReportInput {
			return ReportInput{Channel: ChannelForm, MessageIDs: []string{"<gone@x.example>"}}
		}, want{MatchUnmatched, "none", "", "", "gone@x.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDesk(t)
			d.register(t, "<"+mid(1)+">", "acct-L", "ledger@example.com", "postal_notice")
			d.register(t, mid(2), "acct-N", "news@example.com", "newsletter")
			minted := d.mint(t, "acct-T", "registration")
			in := tt.in(minted.Token, minted.MessageID)
			wantMsgID := tt.want.msgID
			if wantMsgID == "minted" {
				wantMsgID = strings.Trim(minted.MessageID, "<>")
			}
			f := d.file(t, in)
			r, c := f.Report, f.Case
			if r.Match != tt.want.match || r.MatchedBy != tt.want.by {
				t.Errorf("FileReport().Report match = %s by %s, want %s by %s", r.Match, r.MatchedBy, tt.want.match, tt.want.by)
			}
			if r.MessageID != wantMsgID {
				t.Errorf("FileReport().Report.MessageID = %q, want %q", r.MessageID, wantMsgID)
			}
			if c.AccountRef != tt.want.account || c.Kind != tt.want.kind || c.Match != tt.want.match {
				t.Errorf("FileReport().Case = account %q kind %q match %s, want %q %q %s",
					c.AccountRef, c.Kind, c.Match, tt.want.account, tt.want.kind, tt.want.match)
			}
			if !f.NewCase || c.Status != StatusNew || c.Tier != TierSecurity {
				t.Errorf("FileReport() = new %v status %s tier %s, want a new case, status new, tier security", f.NewCase, c.Status, c.Tier)
			}
			if tt.want.by == "token" && r.TokenKeyID != 3 {
				t.Errorf("FileReport().Report.TokenKeyID = %d, want 3", r.TokenKeyID)
			}
			stored := d.caseRow(t, f.CaseRef)
			if stored.AccountRef != tt.want.account || stored.Match != tt.want.match || stored.OpenKey == nil || *stored.OpenKey != stored.GroupKey {
				t.Errorf("stored case %+v, want account %q, match %s, open_key = group_key", stored, tt.want.account, tt.want.match)
			}
			if f.CaseRef != ident.NormalizeCaseRef(f.CaseRef) {
				t.Errorf("FileReport().CaseRef = %q, not in its normal form", f.CaseRef)
			}
		})
	}
}

func TestFileReportJoinsOpenCase(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, mid(1), "acct-1", "one@example.com", "registration")
	tok := d.mint(t, "acct-1", "registration").Token

	first := d.file(t, ReportInput{Token: tok})
	again := d.file(t, ReportInput{Token: tok})
	byMail := d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{mid(1)}})
	byAddr := d.file(t, ReportInput{Channel: ChannelMail, Reporter: "one@example.com"})
	for i, f := range []Filed{again, byMail, byAddr} {
		if f.CaseRef != first.CaseRef || f.NewCase {
			t.Errorf("FileReport(#%d about acct-1) = case %s new %v, want to join %s", i+2, f.CaseRef, f.NewCase, first.CaseRef)
		}
	}
	if first.StatusToken == again.StatusToken || first.StatusToken == "" {
		t.Errorf("FileReport() status tokens %q and %q, want two different ones", first.StatusToken, again.StatusToken)
	}
	if n := countRows(t, d.store, "cases"); n != 1 {
		t.Errorf("%d cases after four reports about one account, want 1", n)
	}
	if n := countRows(t, d.store, "reports"); n != 4 {
		t.Errorf("%d reports stored, want 4", n)
	}
	// The probable match on the exact case does not lower it.
	if c := d.caseRow(t, first.CaseRef); c.Match != MatchExact {
		t.Errorf("case match after a probable report = %s, want exact kept", c.Match)
	}
}

func TestFileReportMatchImproves(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, mid(1), "acct-1", "one@example.com", "order_confirmation")
	probable := d.file(t, ReportInput{Channel: ChannelMail, Reporter: "one@example.com"})
	exact := d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{mid(1)}, Reporter: "one@example.com"})
	if exact.CaseRef != probable.CaseRef || exact.Case.Match != MatchExact {
		t.Fatalf("FileReport(exact after probable) = case %s match %s, want %s exact", exact.CaseRef, exact.Case.Match, probable.CaseRef)
	}
	if c := d.caseRow(t, probable.CaseRef); c.Match != MatchExact {
		t.Errorf("stored case match = %s, want exact", c.Match)
	}
	evs := d.events(t, exact.Case.ID)
	if !slices.Contains(evs, EventMatchImproved) {
		t.Errorf("timeline %v, want a %s event", evs, EventMatchImproved)
	}
}

func TestFileReportForgedTokens(t *testing.T) {
	d := newTestDesk(t)
	real := d.mint(t, "acct-1", "registration").Token
	forgedA, forgedB := forge(real, 0), forge(real, 1)
	junk := "not a token at all"

	a1 := d.file(t, ReportInput{Token: forgedA})
	a2 := d.file(t, ReportInput{Token: forgedA})
	b1 := d.file(t, ReportInput{Token: forgedB})
	j1 := d.file(t, ReportInput{Token: junk})
	j2 := d.file(t, ReportInput{Token: junk})
	for name, f := range map[string]Filed{"a1": a1, "a2": a2, "b1": b1, "j1": j1} {
		if f.Report.Match != MatchUnmatched || f.Case.AccountRef != "" {
			t.Errorf("FileReport(forged %s) = match %s account %q, want unmatched and no account", name, f.Report.Match, f.Case.AccountRef)
		}
	}
	if a2.CaseRef != a1.CaseRef || a2.NewCase {
		t.Errorf("FileReport(same forged token twice) = cases %s and %s (new %v), want one case", a1.CaseRef, a2.CaseRef, a2.NewCase)
	}
	if b1.CaseRef == a1.CaseRef || !b1.NewCase {
		t.Errorf("FileReport(other forged token) = case %s, want a case other than %s", b1.CaseRef, a1.CaseRef)
	}
	if j2.CaseRef != j1.CaseRef {
		t.Errorf("FileReport(same junk token twice) = cases %s and %s, want one", j1.CaseRef, j2.CaseRef)
	}

	// Reports with nothing to group them by each get their own case.
	n1 := d.file(t, ReportInput{Channel: ChannelMail})
	n2 := d.file(t, ReportInput{Channel: ChannelMail})
	if n1.CaseRef == n2.CaseRef {
		t.Errorf("FileReport(nothing) twice = one case %s, want two", n1.CaseRef)
	}
	// Unmatched reports of one unknown Message-ID share a case.
	m1 := d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{"<gone@x.example>"}})
	m2 := d.file(t, ReportInput{Channel: ChannelForm, MessageIDs: []string{"gone@x.example"}})
	if m1.CaseRef != m2.CaseRef {
		t.Errorf("FileReport(same unknown Message-ID twice) = cases %s and %s, want one", m1.CaseRef, m2.CaseRef)
	}
}

func TestFileReportSeverity(t *testing.T) {
	tests := []struct {
		kind          string // "" = unmatched
		opened, setPW bool
		want          Severity
	}{
		{"registration", false, false, SeverityHigh},
		{"registration", true, false, SeverityHigh},
		{"registration", false, true, SeverityCritical},
		{"registration", true, true, SeverityCritical},
		{"magic_link", false, false, SeverityLow},
		{"magic_link", true, false, SeverityHigh},
		{"magic_link", false, true, SeverityCritical},
		{"newsletter", false, false, SeverityLow},
		{"newsletter", true, false, SeverityLow},
		{"newsletter", false, true, SeverityHigh},
		{"order_confirmation", false, true, SeverityHigh},
		{"postal_notice", false, false, SeverityHigh},
		{"postal_notice", false, true, SeverityHigh},
		{"", false, false, SeverityNormal},
		{"", false, true, SeverityHigh},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/opened=%v/set_password=%v", orDefault(tt.kind, "unmatched"), tt.opened, tt.setPW)
		t.Run(name, func(t *testing.T) {
			d := newTestDesk(t)
			in := ReportInput{Token: "forged", OpenedLink: tt.opened, SetPassword: tt.setPW}
			if tt.kind != "" {
				in.Token = d.mint(t, "acct-1", tt.kind).Token
			}
			f := d.file(t, in)
			if f.Case.Severity != tt.want {
				t.Errorf("FileReport(%s).Case.Severity = %s, want %s", name, f.Case.Severity, tt.want)
			}
			if want := d.clock.Now().Add(DefaultContainBy()[tt.want]); !f.Case.ContainBy.Equal(want) {
				t.Errorf("FileReport(%s).Case.ContainBy = %v, want now + %v = %v", name, f.Case.ContainBy, DefaultContainBy()[tt.want], want)
			}
			stored := d.caseRow(t, f.CaseRef)
			if stored.Severity != tt.want || !stored.ContainBy.Equal(f.Case.ContainBy) {
				t.Errorf("stored case severity %s contain_by %v, want %s %v", stored.Severity, stored.ContainBy, tt.want, f.Case.ContainBy)
			}
			// A severity above the kind's is explained on the timeline.
			base := SeverityNormal
			if k, ok := d.Kind(tt.kind); ok {
				base = k.Severity
			}
			// Escalation of a possible takeover has its own test.
			// So have the containment requests of an exact match.
			got := slices.DeleteFunc(d.events(t, f.Case.ID), func(e string) bool {
				return e == EventEscalated || e == EventContainmentRequested
			})
			switch {
			case tt.want.rank() > base.rank():
				if want := []string{EventOpened, EventSeverityRaised, EventReportAdded}; !slices.Equal(got, want) {
					t.Errorf("timeline after FileReport(%s) = %v, want %v", name, got, want)
				}
			case !tt.opened && !tt.setPW:
				if want := []string{EventOpened, EventReportAdded}; !slices.Equal(got, want) {
					t.Errorf("timeline after FileReport(%s) = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestContainByConfigured(t *testing.T) {
	clock := newFakeClock()
	svc, err := NewService(Options{
		Store: openTestStore(t), Sealer: svcSealer(t, clock.Now), Kinds: svcKinds,
		PublicURL: "https://desk.example.com", MessageIDDomain: "mail.example.com", Now: clock.Now,
		ContainBy: map[Severity]time.Duration{SeverityHigh: 20 * time.Minute},
	})
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	m, _ := svc.Mint("acct-1", "registration", "")
	f, err := svc.FileReport(context.Background(), ReportInput{Channel: ChannelLink, Token: m.Token})
	if err != nil {
		t.Fatalf("FileReport() = %v", err)
	}
	if want := clock.Now().Add(20 * time.Minute); !f.Case.ContainBy.Equal(want) {
		t.Errorf("FileReport().Case.ContainBy = %v, want the configured now + 20m = %v", f.Case.ContainBy, want)
	}
	_, err = NewService(Options{Store: openTestStore(t), Sealer: svcSealer(t, nil), Kinds: svcKinds,
		PublicURL: "https://x.example", MessageIDDomain: "x.example",
		ContainBy: map[Severity]time.Duration{"urgent": time.Minute}})
	if err == nil {
		t.Errorf("NewService(contain-by for an unknown severity) = nil error")
	}
}

func TestFileReportRaisesSeverity(t *testing.T) {
	d := newTestDesk(t)
	t0 := d.clock.Now()
	news := d.mint(t, "acct-1", "newsletter").Token
	reg := d.mint(t, "acct-1", "registration").Token
	order := d.mint(t, "acct-1", "order_confirmation").Token

	f := d.file(t, ReportInput{Token: news})
	if f.Case.Severity != SeverityLow || !f.Case.ContainBy.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("FileReport(newsletter) = %s due %v, want low due t0+24h", f.Case.Severity, f.Case.ContainBy)
	}

	// An hour later the registration mail is reported: high, due in an hour
	// from now, which is earlier than the low deadline.
	d.clock.Advance(time.Hour)
	f = d.file(t, ReportInput{Token: reg})
	if f.Case.Severity != SeverityHigh || !f.Case.ContainBy.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("FileReport(registration after newsletter) = %s due %v, want high due t0+2h", f.Case.Severity, f.Case.ContainBy)
	}

	// A lower report changes neither.
	d.clock.Advance(30 * time.Minute)
	f = d.file(t, ReportInput{Token: order})
	if f.Case.Severity != SeverityHigh || !f.Case.ContainBy.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("FileReport(order after registration) = %s due %v, want high due t0+2h kept", f.Case.Severity, f.Case.ContainBy)
	}

	// Critical 15 minutes from now (t0+1h45) is still earlier: pulled in.
	f = d.file(t, ReportInput{Token: reg, SetPassword: true})
	if f.Case.Severity != SeverityCritical || !f.Case.ContainBy.Equal(t0.Add(105*time.Minute)) {
		t.Errorf("FileReport(set password) = %s due %v, want critical due t0+1h45", f.Case.Severity, f.Case.ContainBy)
	}
	stored := d.caseRow(t, f.CaseRef)
	if stored.Severity != SeverityCritical || !stored.ContainBy.Equal(t0.Add(105*time.Minute)) || !stored.UpdatedAt.Equal(d.clock.Now()) {
		t.Errorf("stored case = %s due %v updated %v, want critical due t0+1h45 updated now", stored.Severity, stored.ContainBy, stored.UpdatedAt)
	}
	wantEvents := []string{EventOpened, EventReportAdded, EventSeverityRaised, EventReportAdded, EventReportAdded, EventSeverityRaised, EventEscalated, EventReportAdded}
	if got := d.events(t, f.Case.ID); !slices.Equal(got, wantEvents) {
		t.Errorf("timeline = %v, want %v", got, wantEvents)
	}
}

func TestFileReportRaiseNeverDelays(t *testing.T) {
	d := newTestDesk(t)
	t0 := d.clock.Now()
	reg := d.mint(t, "acct-1", "registration").Token
	d.file(t, ReportInput{Token: reg}) // high: due t0+1h
	// 50 minutes on, critical would be due at t0+65m: later than t0+1h.
	d.clock.Advance(50 * time.Minute)
	f := d.file(t, ReportInput{Token: reg, SetPassword: true})
	if f.Case.Severity != SeverityCritical {
		t.Errorf("FileReport(set password).Case.Severity = %s, want critical", f.Case.Severity)
	}
	if !f.Case.ContainBy.Equal(t0.Add(time.Hour)) {
		t.Errorf("FileReport(set password).Case.ContainBy = %v, want t0+1h kept (never later)", f.Case.ContainBy)
	}
	if c := d.caseRow(t, f.CaseRef); !c.ContainBy.Equal(t0.Add(time.Hour)) || c.Severity != SeverityCritical {
		t.Errorf("stored case = %s due %v, want critical due t0+1h", c.Severity, c.ContainBy)
	}
}

// TestClosedCaseTakesNoReports: a dismissed case, or one resolved longer
// ago than the reopen window, never takes a new report.
func TestClosedCaseTakesNoReports(t *testing.T) {
	for _, status := range []Status{StatusResolved, StatusDismissed} {
		t.Run(string(status), func(t *testing.T) {
			d := newTestDesk(t)
			tok := d.mint(t, "acct-1", "registration").Token
			first := d.file(t, ReportInput{Token: tok})
			err := d.store.w.Model(&Case{}).Where("id = ?", first.Case.ID).
				Updates(map[string]any{"status": status, "open_key": nil, "updated_at": d.clock.Now()}).Error
			if err != nil {
				t.Fatalf("close case: %v", err)
			}
			d.clock.Advance(DefaultReopenWindow + time.Minute)
			next := d.file(t, ReportInput{Token: tok})
			if !next.NewCase || next.CaseRef == first.CaseRef {
				t.Errorf("FileReport(after %s) = case %s new %v, want a new case, not %s", status, next.CaseRef, next.NewCase, first.CaseRef)
			}
			var n int64
			if err := d.store.w.Model(&Report{}).Where("case_id = ?", first.Case.ID).Count(&n).Error; err != nil || n != 1 {
				t.Errorf("the %s case has %d reports (%v), want 1", status, n, err)
			}
			again := d.file(t, ReportInput{Token: tok})
			if again.CaseRef != next.CaseRef {
				t.Errorf("FileReport(third) = case %s, want to join the new %s", again.CaseRef, next.CaseRef)
			}
		})
	}
}

func TestFileReportConcurrentOneCase(t *testing.T) {
	d := newTestDesk(t)
	tok := d.mint(t, "acct-1", "registration").Token
	const n = 40
	refs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := d.FileReport(context.Background(), ReportInput{Channel: ChannelLink, Token: tok})
			refs[i], errs[i] = f.CaseRef, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("FileReport(#%d) = %v", i, err)
		} else if refs[i] != refs[0] {
			t.Errorf("FileReport(#%d) = case %s, want %s like #0", i, refs[i], refs[0])
		}
	}
	if c := countRows(t, d.store, "cases"); c != 1 {
		t.Errorf("%d cases after %d concurrent reports of one link, want 1", c, n)
	}
	if r := countRows(t, d.store, "reports"); r != n {
		t.Errorf("%d reports stored, want %d", r, n)
	}
}

func TestStatusByToken(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	t0 := d.clock.Now()
	tok := d.mint(t, "acct-secret", "registration").Token
	f := d.file(t, ReportInput{Token: tok, Note: "hello"})
	d.clock.Advance(time.Minute)
	d.file(t, ReportInput{Token: tok})

	st, err := d.StatusByToken(ctx, f.StatusToken)
	if err != nil {
		t.Fatalf("StatusByToken() = %v", err)
	}
	// Another reporter's report is nothing this reporter may learn of: the
	// page says "updated" only when a person acted after this report.
	want := ReporterStatus{CaseRef: f.CaseRef, Status: StatusNew, ReceivedAt: t0, UpdatedAt: t0}
	if st.CaseRef != want.CaseRef || st.Status != want.Status || !st.ReceivedAt.Equal(want.ReceivedAt) || !st.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("StatusByToken() after another report = %+v, want %+v", st, want)
	}
	d.clock.Advance(time.Minute)
	if _, err := d.Dismiss(ctx, leadActor(), f.CaseRef, "not ours", HoldNone); err != nil {
		t.Fatalf("Dismiss() = %v", err)
	}
	st, err = d.StatusByToken(ctx, f.StatusToken)
	if err != nil || !st.UpdatedAt.Equal(t0.Add(2*time.Minute)) || st.Outcome.Code == OutcomeReceived {
		t.Errorf("StatusByToken() after a lead's dismissal = %+v, %v; want updated at %v, no longer received", st, err, t0.Add(2*time.Minute))
	}
	if s := fmt.Sprintf("%+v", st); strings.Contains(s, "acct-secret") || strings.Contains(s, "registration") {
		t.Errorf("StatusByToken() = %s, shows the account or kind", s)
	}
	for _, bad := range []string{"", "nope", f.StatusToken + "x", strings.Repeat("a", 65), tok} {
		_, err := d.StatusByToken(ctx, bad)
		wantCode(t, fmt.Sprintf("StatusByToken(%.10q…)", bad), err, ENOTFOUND, "")
	}
}

func TestFileReportNote(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	tok := d.mint(t, "acct-1", "newsletter").Token

	long := strings.Repeat("あ", 2001)
	_, err := d.FileReport(ctx, ReportInput{Channel: ChannelLink, Token: tok, Note: long})
	wantCode(t, "FileReport(2001-character note)", err, EINVALID, "2000")
	if n := countRows(t, d.store, "reports"); n != 0 {
		t.Errorf("%d reports stored after a refused note, want 0", n)
	}

	f := d.file(t, ReportInput{Token: tok, Note: strings.Repeat("あ", 2000)})
	if got := len([]rune(f.Report.Note)); got != 2000 {
		t.Errorf("FileReport(2000-character note) kept %d characters, want 2000", got)
	}

	f = d.file(t, ReportInput{Token: tok, Note: "  hi\x00 there\x07\x1b[31m\r\nline 2\tend\xff\u0085 \n"})
	if want := "hi there[31m\nline 2\tend"; f.Report.Note != want {
		t.Errorf("FileReport(note with control characters).Report.Note = %q, want %q", f.Report.Note, want)
	}
	var stored Report
	if err := d.store.w.Where("id = ?", f.Report.ID).Take(&stored).Error; err != nil {
		t.Fatalf("read report: %v", err)
	}
	if stored.Note != f.Report.Note {
		t.Errorf("stored note = %q, want %q", stored.Note, f.Report.Note)
	}

	// Control characters do not count towards the limit.
	f = d.file(t, ReportInput{Token: tok, Note: strings.Repeat("a\x00", 2000)})
	if len(f.Report.Note) != 2000 {
		t.Errorf("FileReport(2000 characters and 2000 NULs) kept %d bytes, want 2000", len(f.Report.Note))
	}
}

func TestFileReportUnknownChannel(t *testing.T) {
	d := newTestDesk(t)
	_, err := d.FileReport(context.Background(), ReportInput{Channel: "pigeon"})
	wantCode(t, "FileReport(channel pigeon)", err, EINVALID, "channel")
}

func TestFileReportTimeline(t *testing.T) {
	d := newTestDesk(t)
	tok := d.mint(t, "acct-1", "registration").Token
	f := d.file(t, ReportInput{Token: tok, Actor: "api:callcentre", OpenedLink: true, NeverSignedUp: true, Note: "x"})
	var evs []Event
	if err := d.store.w.Where("case_id = ?", f.Case.ID).Order("id").Find(&evs).Error; err != nil {
		t.Fatalf("read timeline: %v", err)
	}
	// The containment the exact match requests comes last, by the desk.
	if len(evs) != 5 || evs[4].Type != EventContainmentRequested || evs[4].Actor != "desk" {
		t.Fatalf("timeline has %d events, want opened, severity_raised, escalated, report_added, containment_requested by the desk", len(evs))
	}
	evs = evs[:4]
	if evs[2].Type != EventEscalated {
		t.Fatalf("timeline has %d events, want opened, severity_raised, escalated (possible takeover), report_added", len(evs))
	}
	for _, e := range evs {
		if e.Actor != "api:callcentre" || !e.At.Equal(d.clock.Now()) {
			t.Errorf("event %s by %q at %v, want by api:callcentre at %v", e.Type, e.Actor, e.At, d.clock.Now())
		}
	}
	if !strings.Contains(evs[0].Detail, "exact match by token") || !strings.Contains(evs[0].Detail, "security") {
		t.Errorf("opened event detail %q, want the match and the tier", evs[0].Detail)
	}
	if d := evs[3].Detail; !strings.Contains(d, "opened a link") || !strings.Contains(d, "never signed up") || !strings.Contains(d, "with a note") {
		t.Errorf("report_added detail %q, want the ticks and the note mentioned", d)
	}
	if strings.Contains(evs[3].Detail, "acct-1") {
		t.Errorf("report_added detail %q names the account", evs[3].Detail)
	}
}

// A form sent twice (a double click, or a retry on another instance after
// the first died) files one report; both answers lead to its status page.
func TestFileReportSubmissionOnce(t *testing.T) {
	d := newTestDesk(t)
	m := d.mint(t, "ACC-TWICE", "registration")
	in := ReportInput{Channel: ChannelLink, Token: m.Token, Actor: "reporter", Submission: "form-1\x00csrf-a\x00" + m.Token}
	first := d.file(t, in)
	again := d.file(t, in)
	if first.Again || !again.Again || again.StatusToken != first.StatusToken || again.CaseRef != first.CaseRef || again.Report.ID != first.Report.ID {
		t.Fatalf("filed twice: %+v then %+v; want the second to be the first again", first, again)
	}
	if n := countRows(t, d.store, "reports"); n != 1 {
		t.Fatalf("%d reports after one submission sent twice, want 1", n)
	}
	if st, err := d.StatusByToken(context.Background(), again.StatusToken); err != nil || st.CaseRef != first.CaseRef {
		t.Fatalf("StatusByToken(the second answer's token) = %+v, %v; want case %s", st, err, first.CaseRef)
	}

	// At once from four goroutines: still one report.
	in.Submission = "form-2\x00csrf-a\x00" + m.Token
	var wg sync.WaitGroup
	tokens := make([]string, 4)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := d.FileReport(context.Background(), in)
			if err != nil {
				t.Errorf("FileReport() at once = %v", err)
			}
			tokens[i] = f.StatusToken
		}()
	}
	wg.Wait()
	if n := countRows(t, d.store, "reports"); n != 2 {
		t.Fatalf("%d reports after a second submission sent four times at once, want 2", n)
	}
	for _, tok := range tokens[1:] {
		if tok != tokens[0] {
			t.Fatalf("status tokens %v, want one for the submission", tokens)
		}
	}

	// Another browser's form (another CSRF token), or no submission: new reports.
	d.file(t, ReportInput{Channel: ChannelLink, Token: m.Token, Actor: "reporter", Submission: "form-1\x00csrf-b\x00" + m.Token})
	d.file(t, ReportInput{Channel: ChannelLink, Token: m.Token, Actor: "reporter"})
	if n := countRows(t, d.store, "reports"); n != 4 {
		t.Fatalf("%d reports, want 4: two submissions, another browser's, one without", n)
	}
}
