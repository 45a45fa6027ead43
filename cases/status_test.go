package cases

import (
	"context"
	"strings"
	"testing"
)

func TestReporterStage(t *testing.T) {
	for _, tc := range []struct {
		status   Status
		assigned bool
		want     ReporterStage
	}{
		{StatusNew, false, StageReceived},
		{StatusNew, true, StageHandling},
		{StatusContained, false, StageHandling},
		{StatusContained, true, StageHandling},
		{StatusResolved, true, StageDone},
		{StatusDismissed, true, StageClosed},
		{StatusDismissed, false, StageClosed},
	} {
		if got := reporterStage(tc.status, tc.assigned); got != tc.want {
			t.Errorf("reporterStage(%s, assigned %v) = %s, want %s", tc.status, tc.assigned, got, tc.want)
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

func TestStatusByTokenStages(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	f := d.file(t, ReportInput{Token: d.mint(t, "acct-1", "registration").Token})
	agent := trainedAgent()
	step := func(name string, do func() error, want ReporterStage) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatalf("%s = %v", name, err)
		}
		st, err := d.StatusByToken(ctx, f.StatusToken)
		if err != nil || st.Stage != want {
			t.Fatalf("after %s: StatusByToken().Stage = %q, %v; want %q", name, st.Stage, err, want)
		}
	}
	step("nothing", func() error { return nil }, StageReceived)
	step("Take", func() error { _, err := d.Take(ctx, agent, f.CaseRef); return err }, StageHandling)
	step("SetStatus(contained)", func() error { _, err := d.SetStatus(ctx, agent, f.CaseRef, StatusContained, ""); return err }, StageHandling)
	step("SetStatus(resolved)", func() error { _, err := d.SetStatus(ctx, agent, f.CaseRef, StatusResolved, ""); return err }, StageDone)

	g := d.file(t, ReportInput{Token: d.mint(t, "acct-2", "registration").Token})
	if _, err := d.SetStatus(ctx, agent, g.CaseRef, StatusDismissed, "test mail"); err != nil {
		t.Fatalf("SetStatus(dismissed) = %v", err)
	}
	st, err := d.StatusByToken(ctx, g.StatusToken)
	if err != nil || st.Stage != StageClosed {
		t.Fatalf("StatusByToken(dismissed).Stage = %q, %v; want %q", st.Stage, err, StageClosed)
	}
	if strings.Contains(fmtStatus(st), "test mail") {
		t.Errorf("StatusByToken(dismissed) = %+v, carries the internal reason", st)
	}
}

func fmtStatus(st ReporterStatus) string {
	return st.CaseRef + " " + string(st.Status) + " " + string(st.Stage)
}
