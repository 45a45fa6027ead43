package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"notme/cases"
)

const replyMail = "From: Taro <taro@gmial.com>\r\n" +
	"To: notme@localhost\r\n" +
	"Subject: Re: Set your password\r\n" +
	"Message-ID: <reply-1@gmial.com>\r\n" +
	"In-Reply-To: <orig-1@mail.example.com>\r\n" +
	"References: <orig-1@mail.example.com>\r\n" +
	"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"This is not my account. I never signed up.\r\n"

func TestCLIParseAndIngest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "reply.eml")
	if err := os.WriteFile(file, []byte(replyMail), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errs := cli(t, dir, "", "parse", "--json", file)
	if code != 0 {
		t.Fatalf("parse = %d %q", code, errs)
	}
	var r struct {
		Class      string            `json:"class"`
		MessageIDs []string          `json:"message_ids"`
		Tokens     []string          `json:"tokens"`
		Sources    map[string]string `json:"sources"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("parse --json printed %q: %v", out, err)
	}
	if r.Class != "report" || len(r.MessageIDs) == 0 || r.MessageIDs[0] != "orig-1@mail.example.com" ||
		r.Sources["orig-1@mail.example.com"] != "in-reply-to" || r.Tokens == nil {
		t.Fatalf("parse --json = %+v; want a report whose first candidate is the In-Reply-To", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "notme.db")); !os.IsNotExist(err) {
		t.Fatalf("parse touched the database (stat: %v)", err)
	}

	a := openTestApp(t, dir)
	if _, _, err := a.Service.RegisterMessage(context.Background(), cases.LedgerMessage{
		MessageID: "orig-1@mail.example.com", AccountRef: "ACC-1", Recipient: "taro@gmial.com", Kind: "registration",
	}); err != nil {
		t.Fatal(err)
	}
	a.Close()

	// From standard input, as an MTA pipe would give it.
	code, out, errs = cli(t, dir, replyMail, "ingest", "--json", "-")
	if code != 0 {
		t.Fatalf("ingest = %d %q", code, errs)
	}
	var in struct {
		Disposition string `json:"disposition"`
		Case        string `json:"case"`
		Acknowledge bool   `json:"acknowledge"`
	}
	if err := json.Unmarshal([]byte(out), &in); err != nil || in.Disposition != "report" || !strings.HasPrefix(in.Case, "NM-") || !in.Acknowledge {
		t.Fatalf("ingest --json = %q (%v); want a report on a case, to be acknowledged", out, err)
	}
	a = openTestApp(t, dir)
	defer a.Close()
	d, err := a.Service.CaseByRef(context.Background(), cases.Actor{User: &cases.User{SecurityTrained: true}}, in.Case)
	if err != nil || d.Case.AccountRef != "ACC-1" || d.Reports[0].Channel != cases.ChannelMail || d.Reports[0].MatchedBy != "ledger" {
		t.Fatalf("case %s = %+v, %v; want ACC-1 with a mail report matched by the ledger", in.Case, d.Case, err)
	}

	// The same mail again (an MTA retry) files nothing new.
	code, out, _ = cli(t, dir, replyMail, "ingest", "-")
	if code != 0 || !strings.Contains(out, "duplicate") {
		t.Fatalf("second ingest = %d %q, want it kept as a duplicate", code, out)
	}
	if code, _, errs := cli(t, dir, "", "parse", filepath.Join(dir, "missing.eml")); code != 1 || !strings.Contains(errs, "missing.eml") {
		t.Fatalf("parse of a missing file = %d %q", code, errs)
	}
}
