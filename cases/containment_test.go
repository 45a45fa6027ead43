package cases

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// requested lists the actions requested for a case, in order.
func (d *testDesk) requested(t testing.TB, caseID int64) []string {
	t.Helper()
	var acts []ContainmentAction
	if err := d.store.w.Where("case_id = ?", caseID).Order("id").Find(&acts).Error; err != nil {
		t.Fatalf("read containment actions: %v", err)
	}
	out := []string{}
	for _, a := range acts {
		out = append(out, a.Action)
	}
	return out
}

func leadActor() Actor {
	return Actor{User: &User{ID: 2, Email: "lead@desk.example.com", Role: RoleLead, SecurityTrained: true}}
}

func TestAutomaticActions(t *testing.T) {
	for _, tt := range []struct {
		kind []string
		want []string
	}{
		{nil, nil},
		{[]string{ActionRevokePendingLinks, ActionSuppressRecipient}, []string{ActionRevokePendingLinks, ActionSuppressRecipient}},
		// Locking the holder out and contacting them always need a lead.
		{[]string{ActionSuppressRecipient, ActionLockAccount, ActionContactOwner}, []string{ActionSuppressRecipient}},
		{[]string{ActionLockAccount}, nil},
	} {
		if got := AutomaticActions(Kind{Actions: tt.kind}); !slices.Equal(got, tt.want) {
			t.Errorf("AutomaticActions(%v) = %v, want %v", tt.kind, got, tt.want)
		}
	}
}

// Which actions a filing requests at once: the kind's automatic ones for an
// exact match, none for a probable match (a person confirms first) or for
// an unmatched report.
func TestContainmentOnFiling(t *testing.T) {
	for _, tt := range []struct {
		name string
		file func(d *testDesk) ReportInput
		want []string
	}{
		{"exact by token", func(d *testDesk) ReportInput {
			return ReportInput{Token: d.mint(t, "ACC-1", "registration").Token}
		}, []string{ActionRevokePendingLinks, ActionRequireReverification}},
		{"probable by a ledger Message-ID pasted on the form", func(d *testDesk) ReportInput {
			d.register(t, "<p1@mail.example.com>", "ACC-2", "mika@example.org", "postal_notice")
			return ReportInput{Channel: ChannelForm, MessageIDs: []string{"<p1@mail.example.com>"}}
		}, []string{}},
		{"exact, kind without actions", func(d *testDesk) ReportInput {
			return ReportInput{Token: d.mint(t, "ACC-3", "newsletter").Token}
		}, []string{}},
		{"probable by recipient", func(d *testDesk) ReportInput {
			d.register(t, "<p2@mail.example.com>", "ACC-4", "taro@gmial.com", "registration")
			return ReportInput{Channel: ChannelForm, Reporter: "taro@gmial.com"}
		}, []string{}},
		{"unmatched", func(d *testDesk) ReportInput {
			return ReportInput{Channel: ChannelForm, MessageIDs: []string{"<nobody@example.com>"}}
		}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDesk(t)
			f := d.file(t, tt.file(d))
			if got := d.requested(t, f.Case.ID); !slices.Equal(got, tt.want) {
				t.Errorf("FileReport(%s) requested %v, want %v", tt.name, got, tt.want)
			}
			if f.Requested != len(tt.want) {
				t.Errorf("FileReport(%s).Requested = %d, want %d", tt.name, f.Requested, len(tt.want))
			}
			if n := countRows(t, d.store, "webhook_deliveries"); n != int64(len(tt.want)) {
				t.Errorf("FileReport(%s) queued %d webhooks, want %d", tt.name, n, len(tt.want))
			}
			// A second report on the same case requests nothing twice.
			d.file(t, tt.file(d))
			if got := d.requested(t, f.Case.ID); !slices.Equal(got, tt.want) {
				t.Errorf("second FileReport(%s): requested %v, want still %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestContainmentOnMailBatch(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "<orig-1@mail.example.com>", "ACC-1", "taro@gmial.com", "registration")
	mail := func(uid uint32) InboundMail {
		return InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: uid, Raw: []byte("reply"), Parsed: ParsedMail{
			Class: ClassReport, MessageID: "<r" + string(rune('0'+uid)) + "@gmial.com>", From: "taro@gmial.com",
			MessageIDs: []string{"orig-1@mail.example.com"}}}
	}
	// Two reports on one case in one batch: each action once.
	out := ingest(t, d, mail(1), mail(2))
	c := d.caseRow(t, out[0].CaseRef)
	want := []string{ActionRevokePendingLinks, ActionRequireReverification}
	if got := d.requested(t, c.ID); !slices.Equal(got, want) {
		t.Errorf("IngestMail(two replies) requested %v, want %v", got, want)
	}
	select {
	case <-d.deliveryWake:
	default:
		t.Error("IngestMail(two replies) did not wake the webhook worker")
	}
}

func TestConfirmMatchRequestsContainment(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, "<p2@mail.example.com>", "ACC-4", "taro@gmial.com", "registration")
	f := d.file(t, ReportInput{Channel: ChannelForm, Reporter: "taro@gmial.com"})
	if f.Case.Match != MatchProbable {
		t.Fatalf("FileReport(reporter is a recipient).Case.Match = %s, want probable", f.Case.Match)
	}
	_, err := d.RequestContainment(ctx, trainedAgent(), f.CaseRef, ActionSuppressRecipient)
	wantCode(t, "RequestContainment(probable match)", err, ECONFLICT, "Confirm the match")

	untrained := Actor{User: &User{ID: 9, Email: "parcel@desk.example.com", Role: RoleAgent}}
	_, err = d.ConfirmMatch(ctx, untrained, f.CaseRef)
	wantCode(t, "ConfirmMatch(untrained)", err, EFORBIDDEN, "")

	c, err := d.ConfirmMatch(ctx, trainedAgent(), f.CaseRef)
	if err != nil {
		t.Fatalf("ConfirmMatch() = %v", err)
	}
	if c.Match != MatchExact || d.caseRow(t, f.CaseRef).Match != MatchExact {
		t.Errorf("ConfirmMatch().Match = %s, stored %s; want exact", c.Match, d.caseRow(t, f.CaseRef).Match)
	}
	want := []string{ActionRevokePendingLinks, ActionRequireReverification}
	if got := d.requested(t, f.Case.ID); !slices.Equal(got, want) {
		t.Errorf("after ConfirmMatch() requested %v, want %v", got, want)
	}
	evs := d.events(t, f.Case.ID)
	if !slices.Contains(evs, EventMatchConfirmed) || evs[len(evs)-1] != EventContainmentRequested {
		t.Errorf("timeline after ConfirmMatch() = %v, want match_confirmed then containment_requested", evs)
	}
	_, err = d.ConfirmMatch(ctx, trainedAgent(), f.CaseRef)
	wantCode(t, "ConfirmMatch(again)", err, ECONFLICT, "exact already")

	unmatched := d.file(t, ReportInput{Channel: ChannelForm, MessageIDs: []string{"<nobody@example.com>"}})
	_, err = d.ConfirmMatch(ctx, trainedAgent(), unmatched.CaseRef)
	wantCode(t, "ConfirmMatch(unmatched)", err, ECONFLICT, "not matched")
}

func TestRequestContainmentRoles(t *testing.T) {
	for _, tt := range []struct {
		actor  Actor
		action string
		code   Code // "" = allowed
	}{
		{trainedAgent(), ActionSuppressRecipient, ""},
		{trainedAgent(), ActionLockAccount, EFORBIDDEN},
		{trainedAgent(), ActionContactOwner, EFORBIDDEN},
		{leadActor(), ActionLockAccount, ""},
		{leadActor(), ActionContactOwner, ""},
		{Actor{User: &User{ID: 3, Email: "admin@desk.example.com", Role: RoleAdmin, SecurityTrained: true}}, ActionLockAccount, ""},
		{Actor{User: &User{ID: 4, Email: "untrained-lead@desk.example.com", Role: RoleLead}}, ActionLockAccount, EFORBIDDEN},
		{trainedAgent(), "format_disk", EINVALID},
		// Requested at once on the exact match: never twice.
		{trainedAgent(), ActionRevokePendingLinks, ECONFLICT},
	} {
		d := newTestDesk(t)
		f := d.file(t, ReportInput{Token: d.mint(t, "ACC-1", "registration").Token})
		call := "RequestContainment(" + tt.actor.String() + ", " + tt.action + ")"
		_, err := d.RequestContainment(context.Background(), tt.actor, f.CaseRef, tt.action)
		if tt.code != "" {
			wantCode(t, call, err, tt.code, "")
			continue
		}
		if err != nil {
			t.Errorf("%s = %v, want nil", call, err)
			continue
		}
		if got := d.requested(t, f.Case.ID); !slices.Contains(got, tt.action) {
			t.Errorf("%s: requested %v, want it to include %s", call, got, tt.action)
		}
		_, err = d.RequestContainment(context.Background(), tt.actor, f.CaseRef, tt.action)
		wantCode(t, call+" again", err, ECONFLICT, "already")
	}
}

func TestConfirmContainment(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	f := d.file(t, ReportInput{Token: d.mint(t, "ACC-1", "registration").Token})
	system := Actor{APIKey: &APIKey{Name: "crm", Scopes: "cases:read cases:write"}}

	for _, tt := range []struct {
		name    string
		actor   Actor
		results []ContainmentResult
		code    Code
		mention string
	}{
		{"read-only key", Actor{APIKey: &APIKey{Name: "ro", Scopes: "cases:read"}}, []ContainmentResult{{ActionRevokePendingLinks, ResultDone, ""}}, EFORBIDDEN, "cases:write"},
		{"staff", trainedAgent(), []ContainmentResult{{ActionRevokePendingLinks, ResultDone, ""}}, EFORBIDDEN, ""},
		{"no results", system, nil, EINVALID, "results"},
		{"unknown action", system, []ContainmentResult{{"format_disk", ResultDone, ""}}, EINVALID, "unknown action"},
		{"never requested", system, []ContainmentResult{{ActionLockAccount, ResultDone, ""}}, EINVALID, "never requested"},
		{"bad status", system, []ContainmentResult{{ActionRevokePendingLinks, "ok", ""}}, EINVALID, "status"},
		{"twice", system, []ContainmentResult{{ActionRevokePendingLinks, ResultDone, ""}, {ActionRevokePendingLinks, ResultDone, ""}}, EINVALID, "twice"},
		{"long detail", system, []ContainmentResult{{ActionRevokePendingLinks, ResultDone, strings.Repeat("x", 501)}}, EINVALID, "500"},
	} {
		_, _, err := d.ConfirmContainment(ctx, tt.actor, f.CaseRef, tt.results)
		wantCode(t, "ConfirmContainment("+tt.name+")", err, tt.code, tt.mention)
	}
	if got := d.caseRow(t, f.CaseRef).Status; got != StatusNew {
		t.Fatalf("after refused confirmations status = %s, want new", got)
	}

	// One of two done: still new.
	_, acts, err := d.ConfirmContainment(ctx, system, f.CaseRef, []ContainmentResult{{ActionRevokePendingLinks, ResultDone, "2 links revoked"}})
	if err != nil {
		t.Fatalf("ConfirmContainment(revoke done) = %v", err)
	}
	if acts[0].State != ActionConfirmed || acts[0].ResultDetail != "2 links revoked" || acts[0].ConfirmedAt == nil || acts[1].State != ActionRequested {
		t.Errorf("ConfirmContainment(revoke done) = %+v, want revoke confirmed with its detail, the other requested", acts)
	}
	if got := d.caseRow(t, f.CaseRef).Status; got != StatusNew {
		t.Errorf("with one action of two confirmed, status = %s, want new", got)
	}
	// Failed is no containment.
	if _, _, err := d.ConfirmContainment(ctx, system, f.CaseRef, []ContainmentResult{{ActionRequireReverification, ResultFailed, "account locked"}}); err != nil {
		t.Fatalf("ConfirmContainment(reverify failed) = %v", err)
	}
	if got := d.caseRow(t, f.CaseRef).Status; got != StatusNew {
		t.Errorf("with an action failed, status = %s, want new", got)
	}
	// Both done: the case is contained by itself.
	d.clock.Advance(time.Minute)
	if _, _, err := d.ConfirmContainment(ctx, system, f.CaseRef, []ContainmentResult{{ActionRequireReverification, ResultDone, ""}}); err != nil {
		t.Fatalf("ConfirmContainment(reverify done) = %v", err)
	}
	if got := d.caseRow(t, f.CaseRef).Status; got != StatusContained {
		t.Errorf("with every action confirmed done, status = %s, want contained", got)
	}
	var last Event
	if err := d.store.w.Where("case_id = ?", f.Case.ID).Order("id DESC").Limit(1).Find(&last).Error; err != nil {
		t.Fatal(err)
	}
	if last.Type != EventStatus || last.Actor != "account system" || !strings.Contains(last.Detail, "contained") {
		t.Errorf("last event = %s by %q (%s), want the status change by the account system", last.Type, last.Actor, last.Detail)
	}
	// The same report again changes nothing.
	n := len(d.events(t, f.Case.ID))
	if _, _, err := d.ConfirmContainment(ctx, system, f.CaseRef, []ContainmentResult{{ActionRequireReverification, ResultDone, ""}}); err != nil {
		t.Fatalf("ConfirmContainment(repeated) = %v", err)
	}
	if m := len(d.events(t, f.Case.ID)); m != n {
		t.Errorf("a repeated confirmation added %d events, want none", m-n)
	}
}

// The webhook options' back-off is the one policy of internal/backoff
// with their bounds (its own test checks the draws).
func TestWebhookRetryPolicy(t *testing.T) {
	o := WebhookOptions{BackoffMin: time.Second, BackoffMax: 8 * time.Second}.withDefaults()
	if got := o.retry().Ceiling(4); got != 8*time.Second {
		t.Errorf("retry().Ceiling(4) = %v, want 8s", got)
	}
	if got := o.retry().Ceiling(100); got != 8*time.Second {
		t.Errorf("retry().Ceiling(100) = %v, want the 8s cap", got)
	}
}

// A probable case that a later exact report proves requests its actions
// then; another report on it requests nothing more.
func TestContainmentWhenTheMatchImproves(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "<p2@mail.example.com>", "ACC-4", "taro@gmial.com", "registration")
	f := d.file(t, ReportInput{Channel: ChannelForm, Reporter: "taro@gmial.com"})
	if got := d.requested(t, f.Case.ID); len(got) != 0 {
		t.Fatalf("FileReport(probable) requested %v, want nothing", got)
	}
	tok := d.mint(t, "ACC-4", "registration").Token
	g := d.file(t, ReportInput{Token: tok})
	want := []string{ActionRevokePendingLinks, ActionRequireReverification}
	if g.Case.ID != f.Case.ID || g.Requested != 2 {
		t.Fatalf("FileReport(exact, same account) = case %d requested %d, want case %d requested 2", g.Case.ID, g.Requested, f.Case.ID)
	}
	if got := d.requested(t, f.Case.ID); !slices.Equal(got, want) {
		t.Errorf("after the exact report requested %v, want %v", got, want)
	}
	if h := d.file(t, ReportInput{Token: tok}); h.Requested != 0 {
		t.Errorf("FileReport(exact again).Requested = %d, want 0", h.Requested)
	}
}

// Issue 12: a ledger Message-ID pasted on /report is evidence anyone can
// make (Message-IDs are often guessable), so from the form it is a
// probable match that requests nothing; a sealed token pasted there is
// still exact, since only a holder of the mail has one.
func TestFormPastedMessageIDRequestsNoContainment(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "<order-1002@shop.example>", "ACC-7", "mika@example.org", "registration")
	f := d.file(t, ReportInput{Channel: ChannelForm, MessageIDs: []string{"<order-1002@shop.example>"}})
	if f.Case.Match != MatchProbable || f.Report.Match != MatchProbable {
		t.Errorf("FileReport(form, pasted ledger Message-ID): case %s, report %s; want probable", f.Case.Match, f.Report.Match)
	}
	if got := d.requested(t, f.Case.ID); len(got) != 0 || f.Requested != 0 {
		t.Errorf("FileReport(form, pasted ledger Message-ID) requested %v (%d), want nothing", got, f.Requested)
	}
	if n := countRows(t, d.store, "webhook_deliveries"); n != 0 {
		t.Errorf("FileReport(form, pasted ledger Message-ID) queued %d webhooks, want 0", n)
	}

	tok := d.mint(t, "ACC-8", "registration").Token
	g := d.file(t, ReportInput{Channel: ChannelForm, Tokens: []string{tok}})
	if g.Case.Match != MatchExact {
		t.Errorf("FileReport(form, pasted sealed token).Case.Match = %s, want exact", g.Case.Match)
	}
	want := []string{ActionRevokePendingLinks, ActionRequireReverification}
	if got := d.requested(t, g.Case.ID); !slices.Equal(got, want) {
		t.Errorf("FileReport(form, pasted sealed token) requested %v, want %v", got, want)
	}
}
