package cases

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

type failingSender struct{}

func (failingSender) SendWebhook(context.Context, Webhook) error {
	return errors.New("connection refused")
}

// TestLeadAlerts: a lead sees why each open case is escalated (only the
// reasons since its last de-escalation), the deadlines passed unmet (and
// no longer once met), and the webhooks given up on.
func TestLeadAlerts(t *testing.T) {
	d := newRuleDesk(t, func(o *Options) { o.Escalation = DefaultEscalationRules })
	ctx := context.Background()
	lead := leadActor()

	if _, err := d.LeadAlerts(ctx, trainedAgent()); err == nil {
		t.Fatal("LeadAlerts(agent) = nil error, want EFORBIDDEN")
	} else {
		wantCode(t, "LeadAlerts(agent)", err, EFORBIDDEN, "")
	}

	post := d.file(t, ReportInput{Token: d.mint(t, "A-post", "postal_notice").Token})
	quiet := d.file(t, ReportInput{Token: d.mint(t, "A-news", "newsletter").Token})
	if _, err := d.Escalate(ctx, trainedAgent(), post.CaseRef, "first look"); err != nil {
		t.Fatalf("Escalate() = %v", err)
	}
	if _, err := d.Deescalate(ctx, lead, post.CaseRef, "not needed"); err != nil {
		t.Fatalf("Deescalate() = %v", err)
	}
	if _, err := d.Escalate(ctx, trainedAgent(), post.CaseRef, "the reporter phoned again"); err != nil {
		t.Fatalf("Escalate() = %v", err)
	}

	// Past the postal notice's contain-by (1 h), not the newsletter's (24 h).
	d.clock.Advance(2 * time.Hour)
	if _, _, err := d.MarkBreaches(ctx); err != nil {
		t.Fatalf("MarkBreaches() = %v", err)
	}
	al, err := d.LeadAlerts(ctx, lead)
	if err != nil {
		t.Fatalf("LeadAlerts() = %v", err)
	}
	got := al.Reasons[post.CaseRef]
	manual := len(got) > 0 && got[0].Code == CodeEscalatedManual && got[0].Args["reason"] == "the reporter phoned again" && got[0].Detail == "the reporter phoned again"
	if len(got) != 2 || !manual || !slices.ContainsFunc(got[1:], func(r Event) bool {
		return (r.Code == CodeEscalatedRule || r.Code == CodeEscalatedFurther) && r.Args["rule"] == RuleSLABreach && r.Args["fact"] == FactDeadlinePassed && strings.HasPrefix(r.Detail, "rule sla_breach")
	}) {
		t.Errorf("LeadAlerts().Reasons[%s] = %+v, want the reason since the de-escalation, then the SLA rule (codes, and English detail)", post.CaseRef, got)
	}
	if _, ok := al.Reasons[quiet.CaseRef]; ok {
		t.Errorf("LeadAlerts().Reasons has %s, which is not escalated", quiet.CaseRef)
	}
	if len(al.Breaches) != 1 || al.Breaches[0].CaseRef != post.CaseRef || al.Breaches[0].Deadline != DeadlineContain {
		t.Errorf("LeadAlerts().Breaches = %+v, want %s's contain deadline", al.Breaches, post.CaseRef)
	}

	// The webhook for suppress_recipient fails until it is too old: dead.
	dl := d.NewDeliverer(failingSender{}, DelivererOptions{})
	for range 3 {
		if _, err := dl.DeliverDue(ctx); err != nil {
			t.Fatalf("DeliverDue() = %v", err)
		}
		d.clock.Advance(13 * time.Hour)
	}
	if _, err := dl.DeliverDue(ctx); err != nil {
		t.Fatalf("DeliverDue() = %v", err)
	}
	if _, err := d.Take(ctx, lead, post.CaseRef); err != nil {
		t.Fatalf("Take() = %v", err)
	}
	if _, err := d.SetStatus(ctx, lead, post.CaseRef, StatusContained, ""); err != nil {
		t.Fatalf("SetStatus(contained) = %v", err)
	}
	al, err = d.LeadAlerts(ctx, lead)
	if err != nil {
		t.Fatalf("LeadAlerts() = %v", err)
	}
	for _, b := range al.Breaches {
		if b.CaseRef == post.CaseRef && b.Deadline == DeadlineContain {
			t.Errorf("LeadAlerts().Breaches still lists %s's contain deadline after containment", post.CaseRef)
		}
	}
	if len(al.DeadLetters) != 1 || al.DeadLetters[0].CaseRef != post.CaseRef || al.DeadLetters[0].Action != ActionSuppressRecipient || al.DeadLetters[0].LastError == "" {
		t.Errorf("LeadAlerts().DeadLetters = %+v, want %s's suppress_recipient with its error", al.DeadLetters, post.CaseRef)
	}
}
