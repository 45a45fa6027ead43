package cases

import (
	"context"
	"testing"
)

// The guard's verdicts: send for an address it knows nothing against,
// confirm_first with a suggestion for a likely typo, do_not_send for an
// address its owner said "not me" for, for that account or for all.
func TestCheckAddressVerdicts(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	signup := Actor{APIKey: &APIKey{Name: "signup", Scopes: string(ScopeAddressesCheck)}}

	link, err := d.Mint("ACC-1", "postal_notice", "taro@gmial.com")
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	d.file(t, ReportInput{Token: link.Token}) // suppress_recipient: on the list for ACC-1
	if _, _, err := d.AddSuppression(ctx, leadUser(), SuppressionInput{Address: "hanako@example.jp", Reason: SuppressComplaint}); err != nil {
		t.Fatalf("AddSuppression() = %v", err)
	}

	for _, tt := range []struct {
		in         GuardInput
		verdict    string
		codes      []string
		suggestion string
	}{
		{GuardInput{Address: "jiro@gmail.com"}, VerdictSend, nil, ""},
		{GuardInput{Address: "jiro@gmial.com"}, VerdictConfirmFirst, []string{GuardLikelyTypo}, "jiro@gmail.com"},
		{GuardInput{Address: "jiro@docomo.ne.jo", Kind: "registration"}, VerdictConfirmFirst, []string{GuardLikelyTypo}, "jiro@docomo.ne.jp"},
		// On the list for ACC-1 only: another account may send.
		{GuardInput{Address: "Taro@gmial.com", AccountRef: "ACC-1"}, VerdictDoNotSend, []string{GuardSuppressed, GuardLikelyTypo}, "taro@gmail.com"},
		{GuardInput{Address: "taro@gmial.com", AccountRef: "ACC-2"}, VerdictConfirmFirst, []string{GuardLikelyTypo}, "taro@gmail.com"},
		// On the list for every account.
		{GuardInput{Address: "hanako@example.jp", AccountRef: "ACC-7"}, VerdictDoNotSend, []string{GuardSuppressed}, ""},
		{GuardInput{Address: "hanako@example.jp"}, VerdictDoNotSend, []string{GuardSuppressed}, ""},
	} {
		ans, err := d.CheckAddress(ctx, signup, tt.in)
		if err != nil {
			t.Errorf("CheckAddress(%+v) = %v", tt.in, err)
			continue
		}
		var codes []string
		for _, r := range ans.Reasons {
			codes = append(codes, r.Code)
		}
		if ans.Verdict != tt.verdict || ans.Suggestion != tt.suggestion || len(codes) != len(tt.codes) {
			t.Errorf("CheckAddress(%+v) = %s %v %q; want %s %v %q", tt.in, ans.Verdict, codes, ans.Suggestion, tt.verdict, tt.codes, tt.suggestion)
			continue
		}
		for i := range codes {
			if codes[i] != tt.codes[i] {
				t.Errorf("CheckAddress(%+v) reasons %v, want %v", tt.in, codes, tt.codes)
			}
		}
		for _, r := range ans.Reasons {
			if r.Code == GuardSuppressed && (r.Since == nil || r.Reason == "" || (r.Scope != "all" && r.Scope != "account")) {
				t.Errorf("CheckAddress(%+v) suppressed reason %+v lacks its reason, scope or time", tt.in, r)
			}
		}
	}

	// Only a key with addresses:check may ask: the answer tells who is
	// on the list.
	for _, a := range []Actor{leadUser(), {APIKey: &APIKey{Name: "x", Scopes: string(ScopeSuppressionsRead)}}, {}} {
		_, err := d.CheckAddress(ctx, a, GuardInput{Address: "hanako@example.jp"})
		wantCode(t, "CheckAddress("+a.String()+")", err, EFORBIDDEN, "addresses:check")
	}
	for _, bad := range []GuardInput{{Address: "no-at-sign"}, {Address: "a@example.com", Kind: "spam"}} {
		_, err := d.CheckAddress(ctx, signup, bad)
		wantCode(t, "CheckAddress(bad input)", err, EINVALID, "")
	}

	// The public helper suggests, and says nothing of the list.
	if got, ok, err := d.SuggestDomain(ctx, "hanako@example.jp"); err != nil || ok || got != "" {
		t.Errorf("SuggestDomain(listed address) = %q, %v, %v; want nothing", got, ok, err)
	}
	if got, ok, err := d.SuggestDomain(ctx, "taro@gmial.com"); err != nil || !ok || got != "taro@gmail.com" {
		t.Errorf("SuggestDomain(taro@gmial.com) = %q, %v, %v; want taro@gmail.com", got, ok, err)
	}
}
