package mailparse

import (
	"os"
	"testing"
)

// An abuse report is a provider's only when the desk's own MTA verified the
// provider's DKIM signature: anyone can send an ARF report with any From and
// any Authentication-Results field of their own.
func TestFeedbackLoopNeedsTrustedDKIM(t *testing.T) {
	arf, err := os.ReadFile("testdata/arf_en.eml") // From: fbl@fbl.mailbox.example
	if err != nil {
		t.Fatal(err)
	}
	reply := backscatterMail("Authentication-Results: mx.desk.example.com; dkim=pass header.d=gmial.example\r\n")
	trusted := []string{"mx.desk.example.com"}
	for _, tc := range []struct {
		name    string
		top     string
		raw     []byte // default: the ARF report with top prepended
		senders []string
		authIDs []string
		want    string
	}{
		{name: "dkim=pass from the configured domain",
			top:     "Authentication-Results: mx.desk.example.com; spf=pass; dkim=pass (2048-bit key) header.d=fbl.mailbox.example header.s=s1\r\n",
			senders: []string{"mailbox.example"}, authIDs: trusted, want: "fbl.mailbox.example"},
		{name: "relaxed alignment up to the configured domain",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=mailbox.example\r\n",
			senders: []string{"mailbox.example"}, authIDs: trusted, want: "mailbox.example"},
		{name: "header.i only, CFWS around =",
			top:     "Authentication-Results: mx.desk.example.com; dkim = pass header.i = \"@fbl.mailbox.example\"\r\n",
			senders: []string{"FBL@fbl.mailbox.example"}, authIDs: trusted, want: "fbl.mailbox.example"},
		{name: "the configured address, signed by its domain",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=fbl.mailbox.example\r\n",
			senders: []string{"fbl@fbl.mailbox.example"}, authIDs: trusted, want: "fbl.mailbox.example"},
		{name: "another address at the domain than the configured one",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=fbl.mailbox.example\r\n",
			senders: []string{"abuse@fbl.mailbox.example"}, authIDs: trusted},
		{name: "a parent domain signs for a configured address",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=mailbox.example\r\n",
			senders: []string{"fbl@fbl.mailbox.example"}, authIDs: trusted},
		{name: "signed by a domain above the configured one",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=example\r\n",
			senders: []string{"mailbox.example"}, authIDs: trusted},
		{name: "signed by the attacker's own domain",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=evil.example\r\n",
			senders: []string{"mailbox.example"}, authIDs: trusted},
		{name: "untrusted authserv-id",
			top:     "Authentication-Results: mx.evil.example; dkim=pass header.d=fbl.mailbox.example\r\n",
			senders: []string{"mailbox.example"}, authIDs: trusted},
		{name: "no trusted authserv-id configured",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=fbl.mailbox.example\r\n",
			senders: []string{"mailbox.example"}},
		{name: "dkim failed",
			top:     "Authentication-Results: mx.desk.example.com; dkim=fail header.d=fbl.mailbox.example\r\n",
			senders: []string{"mailbox.example"}, authIDs: trusted},
		{name: "header.d only inside a quoted reason",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass reason=\"header.d=fbl.mailbox.example\" header.d=evil.example\r\n",
			senders: []string{"mailbox.example"}, authIDs: trusted},
		{name: "header.d only inside a comment",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass (header.d=fbl.mailbox.example) header.d=evil.example\r\n",
			senders: []string{"mailbox.example"}, authIDs: trusted},
		{name: "From is not a configured sender",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=fbl.mailbox.example\r\n",
			senders: []string{"other.example"}, authIDs: trusted},
		{name: "no senders configured",
			top:     "Authentication-Results: mx.desk.example.com; dkim=pass header.d=fbl.mailbox.example\r\n",
			authIDs: trusted},
		{name: "a person's reply is never a feedback loop",
			raw: reply, senders: []string{"gmial.example"}, authIDs: trusted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions
			o.TrustedAuthservIDs, o.FeedbackLoopSenders = tc.authIDs, tc.senders
			raw := tc.raw
			if raw == nil {
				raw = append([]byte(tc.top), arf...)
			}
			if r := Parse(raw, o); r.FeedbackLoop != tc.want {
				t.Errorf("Parse().FeedbackLoop = %q (class %s), want %q", r.FeedbackLoop, r.Class, tc.want)
			}
		})
	}
}
