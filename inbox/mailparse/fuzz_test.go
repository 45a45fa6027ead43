package mailparse

import (
	"os"
	"testing"
)

// FuzzParse: whatever the bytes, Parse returns a Result that keeps the
// invariants, and never panics (a recovered panic shows as a problem that
// checkInvariants rejects).
func FuzzParse(f *testing.F) {
	for _, name := range fixtures(f) {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	// Links rewritten by mail filters: the real samples, and Safe Links
	// around Proofpoint v3 around a not-me link.
	for _, smp := range rewriteSamples(f) {
		f.Add(forwardWith(smp.link, false))
		f.Add(forwardWith(smp.link, true))
	}
	f.Add(forwardWith(encodeSafeLinks(encodeV3("https://desk.example.com/r/"+testToken('_')+".")), true))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\n--a--"))
	f.Add([]byte("Subject: =?iso-2022-jp?B?GyRCJCIbKEI=?= =?utf-8*ja?Q?=E3=81=82?=\r\n\r\n"))
	f.Add([]byte("Authentication-Results: mx.desk.example.com 1; (c; \\) x) spf = fail reason=\"a;b\\\"\"; dkim=pass\r\nReturn-Path: <>\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o := Options{MaxSize: 1 << 20, MaxParts: 50, MaxDepth: 6, LinkHosts: []string{"desk.example.com"}, OwnAddresses: []string{"notme@desk.example.com"},
			TrustedAuthservIDs: []string{"mx.desk.example.com"}}
		checkInvariants(t, Parse(raw, o))
	})
}
