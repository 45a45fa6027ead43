package cases

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestDashboardEmpty(t *testing.T) {
	d := newTestDesk(t)
	lead := Actor{User: &User{ID: 9, Email: "lead@desk.example", Role: RoleLead}}
	got, err := d.Dashboard(context.Background(), lead)
	if err != nil {
		t.Fatalf("Dashboard() = %v", err)
	}
	want := []ContainmentStat{{Days: 7}, {Days: 30}}
	if !reflect.DeepEqual(got.Containment, want) {
		t.Errorf("Dashboard().Containment = %+v, want %+v (no data)", got.Containment, want)
	}
	if len(got.Days) != DashboardDays || got.Days[DashboardDays-1].Day != d.clock.Now().Truncate(24*time.Hour) || len(got.Kinds) != 0 {
		t.Errorf("Dashboard().Days = %d days ending %v, kinds %v; want %d empty days ending today", len(got.Days),
			got.Days[len(got.Days)-1].Day, got.Kinds, DashboardDays)
	}
	if len(got.RepeatReporters)+len(got.RepeatAccounts)+len(got.DomainClusters)+len(got.Reveals) != 0 {
		t.Errorf("Dashboard() on an empty desk = %+v, want no alerts", got)
	}
	for _, a := range []Actor{trainedAgent(), {APIKey: &APIKey{Name: "crm", Scopes: string(ScopeCasesRead)}}, {}} {
		_, err := d.Dashboard(context.Background(), a)
		wantCode(t, "Dashboard("+a.String()+")", err, EFORBIDDEN, "")
	}
}

func TestDashboard(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	agent, sess := login(t, d, "agent@desk.example", RoleAgent, true)
	lead := Actor{User: &User{ID: 99, Email: "lead@desk.example", Role: RoleLead}}
	day := 24 * time.Hour
	open := func(account, kind, reporter string) string {
		t.Helper()
		in := ReportInput{Token: d.mint(t, account, kind).Token, Reporter: reporter}
		if reporter != "" {
			in.Channel = ChannelAPI
		}
		return d.file(t, in).CaseRef
	}
	contain := func(ref string) {
		t.Helper()
		if _, err := d.SetStatus(ctx, agent, ref, StatusContained, ""); err != nil {
			t.Fatalf("SetStatus(%s, contained) = %v", ref, err)
		}
	}

	// Day 0: contained after an hour, but more than 30 days before the end.
	a := open("ACC-A", "registration", "")
	d.clock.Advance(time.Hour)
	contain(a)
	// Day 35: two cases contained after 10 and 30 minutes.
	d.clock.Advance(35*day - time.Hour)
	b := open("ACC-B", "registration", "")
	c := open("ACC-C", "postal_notice", "")
	d.clock.Advance(10 * time.Minute)
	contain(b)
	d.clock.Advance(20 * time.Minute)
	contain(c)
	if _, err := d.SetStatus(ctx, agent, b, StatusDismissed, "test mail"); err != nil {
		t.Fatal(err)
	}
	// Day 42: ACC-B again (a second case for the account), contained after
	// 2 hours; one reporter on two cases; three cases to gmial.com in a day.
	d.clock.Advance(7*day - 30*time.Minute)
	dd := open("ACC-B", "registration", "taro@gmial.com")
	e := open("ACC-E", "newsletter", "taro@gmial.com")
	d.register(t, "<f-1@mail.example.com>", "ACC-F", "hanako@gmial.com", "postal_notice")
	f := d.file(t, ReportInput{MessageIDs: []string{"f-1@mail.example.com"}, Channel: ChannelForm}).CaseRef
	open("ACC-G", "newsletter", "jiro@example.org")
	d.clock.Advance(2 * time.Hour)
	contain(dd)
	addrs, err := d.CaseAddresses(ctx, agent, sess, e)
	if err != nil || len(addrs) == 0 {
		t.Fatalf("CaseAddresses(%s) = %+v, %v", e, addrs, err)
	}
	if err := d.RevealAddress(ctx, agent, sess, e, addrs[0].Field, "checking a repeat reporter"); err != nil {
		t.Fatalf("RevealAddress() = %v", err)
	}

	got, err := d.Dashboard(ctx, lead)
	if err != nil {
		t.Fatalf("Dashboard() = %v", err)
	}
	wantStats := []ContainmentStat{
		{Days: 7, N: 1, P50: 2 * time.Hour, P90: 2 * time.Hour},
		{Days: 30, N: 3, P50: 30 * time.Minute, P90: 2 * time.Hour},
	}
	if !reflect.DeepEqual(got.Containment, wantStats) {
		t.Errorf("Dashboard().Containment = %+v, want %+v", got.Containment, wantStats)
	}

	if got.Days[DashboardDays-1].Total != 4 || got.Days[DashboardDays-1].ByKind["newsletter"] != 2 ||
		got.Days[DashboardDays-1].ByKind["registration"] != 1 || got.Days[DashboardDays-1].ByKind["postal_notice"] != 1 {
		t.Errorf("Dashboard().Days[today] = %+v, want 4 reports: 2 newsletter, 1 registration, 1 postal_notice", got.Days[DashboardDays-1])
	}
	if week := got.Days[DashboardDays-1-7]; week.Total != 2 || week.ByKind["registration"] != 1 || week.ByKind["postal_notice"] != 1 {
		t.Errorf("Dashboard().Days[7 days ago] = %+v, want B and C", week)
	}
	total := 0
	for _, x := range got.Days {
		total += x.Total
	}
	if total != 6 {
		t.Errorf("Dashboard().Days hold %d reports, want 6 (the one of day 0 is older than 30 days)", total)
	}
	if want := []string{"newsletter", "postal_notice", "registration"}; !reflect.DeepEqual(got.Kinds, want) {
		t.Errorf("Dashboard().Kinds = %v, want %v", got.Kinds, want)
	}

	for _, tc := range []struct {
		name string
		got  []PatternAlert
		want []PatternAlert
	}{
		{"repeat reporters", got.RepeatReporters, []PatternAlert{{Key: "t***@gmial.com", Cases: []string{dd, e}}}},
		{"repeat accounts", got.RepeatAccounts, []PatternAlert{{Key: "ACC-B", Cases: []string{b, dd}}}},
		{"domain clusters", got.DomainClusters, []PatternAlert{{Key: "gmial.com", Cases: []string{dd, e, f},
			Addresses: []string{"h***@gmial.com", "t***@gmial.com"}}}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("Dashboard() %s = %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
	if len(got.Reveals) != 1 || got.Reveals[0].Actor != "user:agent@desk.example" || got.Reveals[0].Subject != "case:"+e {
		t.Errorf("Dashboard().Reveals = %+v, want the one reveal on %s", got.Reveals, e)
	}
}
