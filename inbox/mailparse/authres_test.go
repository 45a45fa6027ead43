package mailparse

import (
	"strings"
	"testing"
)

// A reply to a ledger message: a person's report, answered unless the
// fields added on top say an answer would be backscatter.
func backscatterMail(top string) []byte {
	return []byte(top +
		"From: Stranger <stranger@gmial.example>\r\n" +
		"To: notme@desk.example.com\r\n" +
		"Subject: Re: Set your password\r\n" +
		"Message-ID: <r1@gmial.example>\r\n" +
		"In-Reply-To: <orig-1@mail.example.com>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"This is not my account.\r\n")
}

func TestBackscatterIsNeverAnswered(t *testing.T) {
	opts := testOptions
	opts.TrustedAuthservIDs = []string{"mx.desk.example.com", "MX2.desk.example.com"}
	for _, tc := range []struct {
		name, top string
		wantAuto  string // "" = may be answered
	}{
		{"no fields", "", ""},
		{"null reverse path", "Return-Path: <>\r\n", "null return-path"},
		{"a real reverse path", "Return-Path: <stranger@gmial.example>\r\n", ""},
		{"all pass",
			"Authentication-Results: mx.desk.example.com; spf=pass smtp.mailfrom=gmial.example; dkim=pass header.d=gmial.example; dmarc=pass header.from=gmial.example\r\n", ""},
		{"dmarc fail",
			"Authentication-Results: mx.desk.example.com; spf=pass smtp.mailfrom=x.example; dkim=none; dmarc=fail (p=reject dis=none) header.from=gmial.example\r\n",
			"dmarc=fail at mx.desk.example.com"},
		{"spf fail, no dkim",
			"Authentication-Results: mx.desk.example.com; spf=fail smtp.mailfrom=gmial.example; dkim=none\r\n",
			"spf=fail and no dkim=pass at mx.desk.example.com"},
		{"spf fail, dkim pass",
			"Authentication-Results: mx.desk.example.com; spf=fail smtp.mailfrom=gmial.example; dkim=pass header.d=gmial.example\r\n", ""},
		{"spf fail, dkim fail",
			"Authentication-Results: mx.desk.example.com; spf=fail smtp.mailfrom=gmial.example; dkim=fail header.d=gmial.example\r\n",
			"spf=fail and no dkim=pass at mx.desk.example.com"},
		{"spf softfail is not fail",
			"Authentication-Results: mx.desk.example.com; spf=softfail smtp.mailfrom=gmial.example\r\n", ""},
		{"forged by the sender: another authserv-id",
			"Authentication-Results: mx.desk.example.com; dmarc=pass header.from=gmial.example\r\n" +
				"Authentication-Results: evil.example; dmarc=fail header.from=gmial.example\r\n", ""},
		{"a sender's own pass does not outweigh ours",
			"Authentication-Results: mx.desk.example.com; dmarc=fail header.from=gmial.example\r\n" +
				"Authentication-Results: gmial.example; dmarc=pass header.from=gmial.example\r\n",
			"dmarc=fail at mx.desk.example.com"},
		{"second trusted server, upper case, version, spaces and comments",
			"Authentication-Results: mx2.DESK.example.com 1; (checked) DMARC = FAIL (p=none; sp=none) header.from=gmial.example\r\n",
			"dmarc=fail at mx2.DESK.example.com"},
		{"folded field",
			"Authentication-Results: mx.desk.example.com;\r\n\tspf=fail smtp.mailfrom=gmial.example;\r\n\tdkim=none\r\n",
			"spf=fail and no dkim=pass at mx.desk.example.com"},
		{"a semicolon in a quoted reason does not start a result",
			"Authentication-Results: mx.desk.example.com; dkim=pass reason=\"good; dmarc=fail\" header.d=gmial.example\r\n", ""},
		{"a semicolon in a comment does not start a result",
			"Authentication-Results: mx.desk.example.com; dkim=pass (note; dmarc=fail) header.d=gmial.example\r\n", ""},
		{"method version",
			"Authentication-Results: mx.desk.example.com; spf/1=fail smtp.mailfrom=gmial.example\r\n",
			"spf=fail and no dkim=pass at mx.desk.example.com"},
		{"no result at all", "Authentication-Results: mx.desk.example.com; none\r\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Parse(backscatterMail(tc.top), opts)
			if r.Auto != tc.wantAuto {
				t.Errorf("Parse().Auto = %q, want %q", r.Auto, tc.wantAuto)
			}
			if r.Class != ClassReport {
				t.Errorf("Parse().Class = %q, want %q: the report still counts", r.Class, ClassReport)
			}
		})
	}
}

// Without trusted authserv-ids configured, no Authentication-Results field
// counts: anyone can write one.
func TestAuthenticationResultsNeedATrustedID(t *testing.T) {
	raw := backscatterMail("Authentication-Results: mx.desk.example.com; dmarc=fail header.from=gmial.example\r\n")
	if r := Parse(raw, testOptions); r.Auto != "" {
		t.Errorf("Parse() without TrustedAuthservIDs: Auto = %q, want \"\"", r.Auto)
	}
}

// An attached or forwarded message's fields are the original's, not ours.
func TestAuthenticationResultsOfAnAttachmentDoNotCount(t *testing.T) {
	opts := testOptions
	opts.TrustedAuthservIDs = []string{"mx.desk.example.com"}
	raw := "From: Stranger <stranger@gmial.example>\r\n" +
		"To: notme@desk.example.com\r\n" +
		"Subject: Fwd: Set your password\r\n" +
		"Message-ID: <f1@gmial.example>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n" +
		"\r\n--b\r\nContent-Type: text/plain\r\n\r\nNot mine.\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" +
		"Authentication-Results: mx.desk.example.com; dmarc=fail header.from=mail.example.com\r\n" +
		"From: Shop <no-reply@mail.example.com>\r\nMessage-ID: <orig-1@mail.example.com>\r\nSubject: Set your password\r\n\r\nHello\r\n" +
		"--b--\r\n"
	r := Parse([]byte(raw), opts)
	if r.Auto != "" || !strings.Contains(strings.Join(r.MessageIDs, " "), "orig-1@mail.example.com") {
		t.Errorf("Parse() = Auto %q, MessageIDs %v; want no Auto and the attached original", r.Auto, r.MessageIDs)
	}
}
