package cases

import (
	"context"
	"slices"
	"testing"
)

func TestFindCases(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, "welcome-1@mail.example.com", "acct-ledger", "holder@example.com", "registration")
	d.register(t, "welcome-2@mail.example.com", "acct-ledger", "holder@example.com", "registration")
	byLedger := d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{"<welcome-1@mail.example.com>"},
		Reporter: "Stranger@Example.org"})
	byToken := d.file(t, ReportInput{Token: d.mint(t, "acct-token", "newsletter").Token})
	closed := d.file(t, ReportInput{Token: d.mint(t, "acct-closed", "newsletter").Token})
	if _, err := d.SetStatus(ctx, trainedAgent(), closed.CaseRef, StatusDismissed, "test mail"); err != nil {
		t.Fatalf("SetStatus(dismissed) = %v", err)
	}

	tests := []struct {
		name, query string
		wantRef     string // a reference found: the case to go to
		wantBy      []string
		want        []string
	}{
		{"reference", byToken.CaseRef, byToken.CaseRef, []string{FoundByRef}, []string{byToken.CaseRef}},
		{"reference typed loosely", " " + lowerASCII(byToken.CaseRef[3:]) + " ", byToken.CaseRef, []string{FoundByRef}, []string{byToken.CaseRef}},
		{"report Message-ID in brackets", "<welcome-1@mail.example.com>", "", []string{FoundByMessageID}, []string{byLedger.CaseRef}},
		{"ledger Message-ID no report quoted", "welcome-2@mail.example.com", "", []string{FoundByMessageID}, []string{byLedger.CaseRef}},
		{"account ref", "acct-token", "", []string{FoundByAccount}, []string{byToken.CaseRef}},
		{"closed case by account", "acct-closed", "", []string{FoundByAccount}, []string{closed.CaseRef}},
		{"reporter address, other case", "STRANGER@example.ORG", "", []string{FoundByReporter}, []string{byLedger.CaseRef}},
		{"part of an address", "stranger", "", nil, nil},
		{"part of an account ref", "acct", "", nil, nil},
		{"holder's address is no reporter", "holder@example.com", "", nil, nil},
		{"unknown reference", "NM-0000-0000", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.FindCases(ctx, trainedAgent(), tt.query)
			if err != nil {
				t.Fatalf("FindCases(%q) = %v", tt.query, err)
			}
			if got.Ref != tt.wantRef || !slices.Equal(got.By, tt.wantBy) || !slices.Equal(queueRefs(got.Cases), tt.want) &&
				!(len(tt.want) == 0 && len(got.Cases) == 0) {
				t.Errorf("FindCases(%q) = ref %q by %v cases %v, want ref %q by %v cases %v",
					tt.query, got.Ref, got.By, queueRefs(got.Cases), tt.wantRef, tt.wantBy, tt.want)
			}
		})
	}

	for _, q := range []string{"", "   ", "a\x00b"} {
		_, err := d.FindCases(ctx, trainedAgent(), q)
		wantCode(t, "FindCases("+q+")", err, EINVALID, "")
	}
	untrained := Actor{User: &User{ID: 9, Email: "new@desk.example.com", Role: RoleAgent}}
	_, err := d.FindCases(ctx, untrained, byToken.CaseRef)
	wantCode(t, "FindCases(untrained)", err, EFORBIDDEN, "security-trained")
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestQueueFacets(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	me := trainedAgent()
	reg1 := d.file(t, ReportInput{Token: d.mint(t, "acct-1", "registration").Token})
	reg2 := d.file(t, ReportInput{Token: d.mint(t, "acct-2", "registration").Token})
	d.file(t, ReportInput{Token: d.mint(t, "acct-3", "newsletter").Token})
	d.file(t, ReportInput{Channel: ChannelMail, MessageIDs: []string{"<lost@x.example>"}})
	news := d.file(t, ReportInput{Token: d.mint(t, "acct-4", "newsletter").Token})
	if _, err := d.SetStatus(ctx, me, news.CaseRef, StatusDismissed, "test mail"); err != nil {
		t.Fatalf("SetStatus(dismissed) = %v", err)
	}
	if err := d.store.w.Model(&Case{}).Where("ref = ?", reg1.CaseRef).Update("assignee_id", me.User.ID).Error; err != nil {
		t.Fatalf("assign: %v", err)
	}
	if err := d.store.w.Model(&Case{}).Where("ref = ?", reg2.CaseRef).Update("escalated", true).Error; err != nil {
		t.Fatalf("escalate: %v", err)
	}

	// No filter: open cases per value; status counts every status.
	fc, err := d.QueueFacets(ctx, me, QueueFilter{})
	if err != nil {
		t.Fatalf("QueueFacets() = %v", err)
	}
	check := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("QueueFacets() %s = %d, want %d", what, got, want)
		}
	}
	check("severity high", fc.Severity[SeverityHigh], 2)
	check("severity low", fc.Severity[SeverityLow], 1)
	check("status new", fc.Status[StatusNew], 4)
	check("status dismissed", fc.Status[StatusDismissed], 1)
	check("match unmatched", fc.Match[MatchUnmatched], 1)
	check("escalated", fc.Escalated[true], 1)
	check("kind registration", fc.Kind["registration"], 2)
	check("kind newsletter", fc.Kind["newsletter"], 1)
	check("assigned to me", fc.Assignee[me.User.ID], 1)
	check("unassigned", fc.Assignee[0], 3)

	// Filtered to registration: other facets narrow, the kind facet keeps
	// every kind so the other choices still show their counts.
	fc, err = d.QueueFacets(ctx, me, QueueFilter{Kind: "registration"})
	if err != nil {
		t.Fatalf("QueueFacets(kind) = %v", err)
	}
	check("kind=registration: kind newsletter", fc.Kind["newsletter"], 1)
	check("kind=registration: severity low", fc.Severity[SeverityLow], 0)
	check("kind=registration: unassigned", fc.Assignee[0], 1)
	check("kind=registration: escalated no", fc.Escalated[false], 1)

	// Unassigned and any status: the dismissed newsletter counts.
	fc, err = d.QueueFacets(ctx, me, QueueFilter{Unassigned: true, Statuses: Statuses})
	if err != nil {
		t.Fatalf("QueueFacets(unassigned, all) = %v", err)
	}
	check("unassigned+all: kind newsletter", fc.Kind["newsletter"], 2)
	check("unassigned+all: assigned to me (own facet ignored)", fc.Assignee[me.User.ID], 1)

	// The list agrees with the counts.
	list, err := d.Queue(ctx, me, QueueFilter{Kind: "registration", Unassigned: true})
	if err != nil || len(list) != 1 || list[0].Ref != reg2.CaseRef {
		t.Errorf("Queue(kind registration, unassigned) = %v, %v; want [%s]", queueRefs(list), err, reg2.CaseRef)
	}
	list, err = d.Queue(ctx, me, QueueFilter{AssigneeID: &me.User.ID})
	if err != nil || len(list) != 1 || list[0].Ref != reg1.CaseRef {
		t.Errorf("Queue(assignee me) = %v, %v; want [%s]", queueRefs(list), err, reg1.CaseRef)
	}

	_, err = d.QueueFacets(ctx, Actor{User: &User{ID: 9, Role: RoleAgent}}, QueueFilter{})
	wantCode(t, "QueueFacets(untrained)", err, EFORBIDDEN, "")
}
