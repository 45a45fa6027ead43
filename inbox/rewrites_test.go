package inbox_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"notme/cases"
	"notme/inbox"
	"notme/inbox/mailparse"
)

// A reporter whose company runs Proofpoint forwards the not-me mail; its
// only link is the desk's /r/<sealed token> rewritten by URL Defense v3
// ("https://urldefense.com/v3/__<link>__;<table>!!<customer>!<signature>$").
// The token inside is evidence of holding the mail: the report is an exact
// match, as if the link had come as sent (issue 12, "Links the mail filters
// rewrite").
func TestProofpointV3LinkIsExactMatch(t *testing.T) {
	d := openAckDesk(t)
	ctx := context.Background()
	reg, _, err := d.Service.RegisterMessage(ctx, cases.LedgerMessage{
		MessageID: "rewrite-1@mail.example.com", AccountRef: "ACC-4410-PP", Recipient: "taro.rw@example.jp", Kind: "registration",
	})
	if err != nil {
		t.Fatalf("RegisterMessage() = %v", err)
	}
	u, err := url.Parse(reg.URL)
	if err != nil || !strings.Contains(u.Path, "/r/") {
		t.Fatalf("RegisterMessage() URL = %q, want a /r/ link", reg.URL)
	}
	rewritten := "https://urldefense.com/v3/__" + reg.URL + "__;!!K4dLjV2jxg!Vq9Ckl1ZC1Nw0Qg6s4cfS6o7KPaKvW1m4w7uVw0e$"
	raw := "From: Taro <taro.rw@example.jp>\r\n" +
		"To: " + ackDeskFrom + "\r\n" +
		"Subject: Fwd: Welcome\r\n" +
		"Message-ID: <fwd-pp3@example.jp>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		"This is not my account.\r\n\r\n" +
		"---------- Forwarded message ---------\r\n" +
		"From: Example Shop <no-reply@mail.example.com>\r\n" +
		"Subject: Welcome\r\n\r\n" +
		"Set your password. Not you? " + rewritten + ".\r\n"
	m := cases.InboundMail{Raw: []byte(raw)}
	m.Parsed = inbox.Parser{Options: mailparse.Options{OwnAddresses: []string{ackDeskFrom}, LinkHosts: []string{u.Hostname()}}}.ParseMail(m.Raw)
	got := d.ingest(t, m)[0]
	if got.Disposition != cases.DispositionReport {
		t.Fatalf("IngestMail() disposition = %q (%s), want a report", got.Disposition, got.Reason)
	}
	c, err := d.Service.CaseByRef(ctx, d.reader, got.CaseRef)
	if err != nil {
		t.Fatalf("CaseByRef(%s) = %v", got.CaseRef, err)
	}
	if c.Case.Match != cases.MatchExact || c.Case.AccountRef != "ACC-4410-PP" {
		t.Errorf("case %s: Match %q, account %q; want %q for ACC-4410-PP (parsed tokens %q)", got.CaseRef, c.Case.Match, c.Case.AccountRef, cases.MatchExact, m.Parsed.Tokens)
	}
}
