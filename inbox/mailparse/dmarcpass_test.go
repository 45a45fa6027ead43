package mailparse

import "testing"

// Only the desk's own receiving server saying dmarc=pass for the From's
// very domain makes the From plausible (issue 12, backscatter): a pass
// the sender wrote, a pass for another domain or one that names no domain
// proves nothing.
func TestDMARCPassIsForTheFromDomainAtATrustedServer(t *testing.T) {
	opts := testOptions
	opts.TrustedAuthservIDs = []string{"mx.desk.example.com"}
	for _, tc := range []struct {
		name, top string
		want      bool
	}{
		{"no fields", "", false},
		{"trusted pass for the From's domain",
			"Authentication-Results: mx.desk.example.com; spf=pass smtp.mailfrom=gmial.example; dmarc=pass (p=reject) header.from=gmial.example\r\n", true},
		{"upper case, spaces and a version",
			"Authentication-Results: MX.desk.example.com 1; DMARC = Pass header.from = GMIAL.example\r\n", true},
		{"quoted domain", "Authentication-Results: mx.desk.example.com; dmarc=pass header.from=\"gmial.example\"\r\n", true},
		{"pass for another domain",
			"Authentication-Results: mx.desk.example.com; dmarc=pass header.from=evil.example\r\n", false},
		{"pass for a parent domain only",
			"Authentication-Results: mx.desk.example.com; dmarc=pass header.from=example\r\n", false},
		{"pass without header.from", "Authentication-Results: mx.desk.example.com; dmarc=pass\r\n", false},
		{"the sender's own field",
			"Authentication-Results: evil.example; dmarc=pass header.from=gmial.example\r\n", false},
		{"a pass inside a comment", "Authentication-Results: mx.desk.example.com; dkim=none (dmarc=pass header.from=gmial.example)\r\n", false},
		{"dmarc fail",
			"Authentication-Results: mx.desk.example.com; dmarc=fail header.from=gmial.example\r\n", false},
		{"pass, but a trusted dmarc=fail too",
			"Authentication-Results: mx.desk.example.com; dmarc=pass header.from=gmial.example\r\n" +
				"Authentication-Results: mx.desk.example.com; dmarc=fail header.from=gmial.example\r\n", false},
		{"pass, but the sender asked for no answer",
			"Authentication-Results: mx.desk.example.com; dmarc=pass header.from=gmial.example\r\nReturn-Path: <>\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := Parse(backscatterMail(tc.top), opts); r.DMARCPass != tc.want {
				t.Errorf("Parse().DMARCPass = %v, want %v (Auto %q)", r.DMARCPass, tc.want, r.Auto)
			}
		})
	}
	raw := backscatterMail("Authentication-Results: mx.desk.example.com; dmarc=pass header.from=gmial.example\r\n")
	if r := Parse(raw, testOptions); r.DMARCPass {
		t.Errorf("Parse() without TrustedAuthservIDs: DMARCPass = true, want false")
	}
}
