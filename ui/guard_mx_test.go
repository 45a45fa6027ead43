package ui_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/miekg/dns"

	"notme/app"
	"notme/cases"
)

// mxServer starts a DNS server on loopback: mx.example has an MX record,
// aonly.example an A record, every other name is NXDOMAIN.
func mxServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 60}
		switch {
		case q.Name == "mx.example." && q.Qtype == dns.TypeMX:
			m.Answer = append(m.Answer, &dns.MX{Hdr: hdr, Preference: 10, Mx: "mail.mx.example."})
		case q.Name == "aonly.example." && q.Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IPv4(192, 0, 2, 1)})
		case q.Name == "mx.example.", q.Name == "aonly.example.":
		default:
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: h}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the test DNS server did not start")
	}
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// With guard.mx_check on, a domain with neither MX nor A/AAAA gets
// no_mail_server and confirm_first; a resolver that never answers adds
// nothing and the answer still comes within the time-out.
func TestAddressGuardMXCheck(t *testing.T) {
	type answer struct {
		Verdict string `json:"verdict"`
		Reasons []struct {
			Code   string `json:"code"`
			Domain string `json:"domain"`
		} `json:"reasons"`
	}
	ask := func(t *testing.T, d *desk, key, addr string) answer {
		t.Helper()
		r := d.api(t, "POST", "/api/v1/addresses/check", key, jsonOf(t, map[string]any{"address": addr}))
		r.wantStatus(t, http.StatusOK)
		var a answer
		r.jsonBody(t, &a)
		return a
	}
	resolver := mxServer(t)
	d := newDesk(t, func(c *app.Config) { c.Guard.MXCheck, c.Guard.Resolver = true, resolver })
	key := d.addKey(t, cases.ScopeAddressesCheck)
	for _, tc := range []struct {
		addr, verdict, code string
	}{
		{"hanako@mx.example", "send", ""},
		{"hanako@aonly.example", "send", ""},
		{"hanako@no-such-domain.example", "confirm_first", "no_mail_server"},
	} {
		a := ask(t, d, key, tc.addr)
		code := ""
		if len(a.Reasons) > 0 {
			code = a.Reasons[0].Code
		}
		if a.Verdict != tc.verdict || code != tc.code || (code != "" && a.Reasons[0].Domain != "no-such-domain.example") {
			t.Errorf("guard(%s) = %+v, want %s with reason %q", tc.addr, a, tc.verdict, tc.code)
		}
	}

	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer silent.Close()
	d = newDesk(t, func(c *app.Config) {
		c.Guard.MXCheck, c.Guard.Resolver, c.Guard.MXTimeout = true, silent.LocalAddr().String(), app.Duration(100*time.Millisecond)
	})
	key = d.addKey(t, cases.ScopeAddressesCheck)
	start := time.Now()
	if a := ask(t, d, key, "hanako@no-such-domain.example"); a.Verdict != "send" || len(a.Reasons) != 0 {
		t.Errorf("guard with a resolver that never answers = %+v, want send with no reason", a)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("guard with a resolver that never answers took %v, want about the 100 ms time-out", el)
	}
}
