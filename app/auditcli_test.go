package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCLIAuditExport(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := cli(t, dir, "a-long-enough-password\n", "user", "add", "lead@example.com", "--role", "lead", "--password-stdin"); code != 0 {
		t.Fatalf("user add = %d %q", code, errs)
	}
	a := openTestApp(t, dir)
	if _, _, err := a.Service.Login(context.Background(), "lead@example.com", "a-long-enough-password", time.Hour); err != nil {
		t.Fatal(err)
	}
	a.Close()

	lines := func(out string) []map[string]any {
		t.Helper()
		var got []map[string]any
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var e map[string]any
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("export line %q is not JSON: %v", l, err)
			}
			got = append(got, e)
		}
		return got
	}
	code, out, errs := cli(t, dir, "", "audit", "export", "--since", time.Now().UTC().Add(-time.Hour).Format(time.DateOnly))
	if code != 0 {
		t.Fatalf("audit export = %d, stderr %q", code, errs)
	}
	// The export is recorded before it reads: its own last line.
	got := lines(out)
	if len(got) != 2 || got[1]["action"] != "audit_exported" || got[1]["actor"] != "cli" || got[0]["action"] != "sign_in" || got[0]["actor"] != "user:lead@example.com" || !strings.HasSuffix(got[0]["at"].(string), "Z") {
		t.Fatalf("audit export printed %q, want the lead's sign-in, at in UTC, and the export by cli", out)
	}
	for _, k := range []string{"id", "at", "actor", "action", "subject", "detail", "args"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("export line %v has no %q", got[0], k)
		}
	}
	if !strings.Contains(errs, "2 entries") {
		t.Errorf("audit export stderr = %q, want the count", errs)
	}
	// Both exports are on the record.
	code, out, _ = cli(t, dir, "", "audit", "export", "--since", "2026-01-01", "--until", time.Now().UTC().Add(time.Hour).Format(time.RFC3339))
	if got := lines(out); code != 0 || len(got) != 3 || got[1]["action"] != "audit_exported" || got[2]["action"] != "audit_exported" {
		t.Fatalf("second audit export = %d %q, want the sign-in and both exports", code, out)
	}
	if code, out, _ := cli(t, dir, "", "audit", "export", "--since", "2026-01-01", "--until", "2026-01-02"); code != 0 || out != "" {
		t.Errorf("audit export of an empty day = %d %q, want 0 and nothing", code, out)
	}

	for _, tc := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"audit", "export"}, 2, "usage: notme audit export --since DATE"},
		{[]string{"audit", "export", "--since", "last week"}, 1, `--since "last week" is not a date`},
		{[]string{"audit", "export", "--since", "2026-12-01", "--until", "12/24/2026"}, 1, `--until "12/24/2026" is not a date`},
		{[]string{"audit", "export", "--since", "2026-12-02", "--until", "2026-12-01"}, 1, "until must be after since"},
		{[]string{"audit"}, 2, "usage: notme audit export"},
	} {
		code, _, errs := cli(t, dir, "", tc.args...)
		if code != tc.want || !strings.Contains(errs, tc.msg) {
			t.Errorf("notme %v = %d %q, want %d and %q", tc.args, code, errs, tc.want, tc.msg)
		}
	}
	if code, out, _ := cli(t, dir, "", "help", "audit"); code != 0 || !strings.Contains(out, "Usage: notme audit export --since DATE") {
		t.Errorf("notme help audit = %d %q, want the export's help", code, out)
	}
}
