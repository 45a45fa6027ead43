package cases

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestEventCodesRecorded: every event of a filing says what happened as a
// known code with arguments, keeps its English detail for older readers,
// and never puts the reporter's address in its arguments; a row stored
// before codes existed reads back without code or arguments.
func TestEventCodesRecorded(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	m := d.mint(t, "ACC-1", "registration")
	f := d.file(t, ReportInput{Token: m.Token, Reporter: "stranger@gmial.com", SetPassword: true, OpenedLink: true, Note: "見覚えがありません"})
	if _, err := d.AddNote(ctx, trainedAgent(), f.CaseRef, "リンクを無効化した"); err != nil {
		t.Fatalf("AddNote() = %v", err)
	}
	if err := d.store.w.Exec(`INSERT INTO case_events (case_id, at, actor, type, detail) VALUES (?, ?, ?, ?, ?)`,
		f.Case.ID, d.clock.Now(), "mail", EventNote, "An English sentence from an older release.").Error; err != nil {
		t.Fatalf("insert a row without a code: %v", err)
	}

	var evs []Event
	if err := d.store.w.Where("case_id = ?", f.Case.ID).Order("id").Find(&evs).Error; err != nil {
		t.Fatalf("read timeline: %v", err)
	}
	var codes []string
	for _, e := range evs[:len(evs)-1] {
		codes = append(codes, e.Code)
		if !slices.Contains(EventCodes, e.Code) || e.Detail == "" {
			t.Errorf("event %s: code %q, detail %q; want a code of EventCodes and the English detail", e.Type, e.Code, e.Detail)
		}
		for k, v := range e.Args {
			if strings.Contains(v, "stranger") || strings.Contains(v, "@gmial") {
				t.Errorf("event %s: argument %s = %q names the reporter's address", e.Code, k, v)
			}
		}
	}
	for _, want := range []string{CodeOpened, CodeSeveritySet, CodeEscalatedRule, CodeReportAdded, CodeContainRequested, CodeNote} {
		if !slices.Contains(codes, want) {
			t.Errorf("timeline codes = %v, want %s among them", codes, want)
		}
	}
	for _, e := range evs {
		switch e.Code {
		case CodeReportAdded:
			if e.Args["setpw"] != "1" || e.Args["opened"] != "1" || e.Args["note"] != "1" || e.Args["channel"] != string(ChannelLink) {
				t.Errorf("report.added args = %v, want the ticks, a note flag and the channel", e.Args)
			}
		case CodeSeveritySet:
			if e.Args["why"] != WhySetPasswordCredential || e.Args["severity"] != string(SeverityCritical) {
				t.Errorf("severity.set args = %v, want critical for %s", e.Args, WhySetPasswordCredential)
			}
		case CodeEscalatedRule:
			if e.Args["rule"] != RulePossibleTakeover || e.Args["fact"] != FactTakeoverSetPassword {
				t.Errorf("escalated.rule args = %v, want the takeover rule and its fact", e.Args)
			}
		case CodeNote:
			if e.Args["text"] != "リンクを無効化した" {
				t.Errorf("note args = %v, want the note's text", e.Args)
			}
		}
	}
	if old := evs[len(evs)-1]; old.Code != "" || old.Args != nil || old.Detail != "An English sentence from an older release." {
		t.Errorf("row without a code reads as code %q, args %v, detail %q; want none, none, as stored", old.Code, old.Args, old.Detail)
	}
}

// TestWhyCodesCoverAssess: every reason assess gives for a severity has a
// code, so the timeline never falls back to the kind for a tick.
func TestWhyCodesCoverAssess(t *testing.T) {
	d := newTestDesk(t)
	for _, kind := range []string{"registration", "magic_link", "no_such_kind"} {
		for _, in := range []ReportInput{{}, {OpenedLink: true}, {SetPassword: true}, {OpenedLink: true, SetPassword: true}, {NeverSignedUp: true}} {
			_, why := d.assess(kind, in)
			if _, ok := whyCodes[why]; !ok {
				t.Errorf("assess(%s, %+v) reason %q has no code in whyCodes", kind, in, why)
			}
		}
	}
}

// TestArgsStoredAsJSON: arguments survive the round trip through the
// database as they were, and none are stored as NULL.
func TestArgsStoredAsJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Args
	}{
		{"none", nil},
		{"several", Args{"from": "new", "to": "contained", "reason": "住所が違う \"quoted\""}},
	} {
		v, err := tc.in.Value()
		if err != nil {
			t.Fatalf("%s: Value() = %v", tc.name, err)
		}
		var out Args
		if err := out.Scan(v); err != nil {
			t.Fatalf("%s: Scan(%v) = %v", tc.name, v, err)
		}
		if len(out) != len(tc.in) {
			t.Errorf("%s: round trip = %v, want %v", tc.name, out, tc.in)
		}
		for k, want := range tc.in {
			if out[k] != want {
				t.Errorf("%s: round trip [%s] = %q, want %q", tc.name, k, out[k], want)
			}
		}
	}
}
