package mxcheck

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testDNS starts a DNS server on loopback that knows an MX domain, an
// A-only domain and one that answers SERVFAIL; every other name is
// NXDOMAIN. It counts the questions it was asked.
func testDNS(t *testing.T) (addr string, asked *atomic.Int64) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	asked = new(atomic.Int64)
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		asked.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		switch q.Name {
		case "mx.example.":
			if q.Qtype == dns.TypeMX {
				m.Answer = append(m.Answer, &dns.MX{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60}, Preference: 10, Mx: "mail.mx.example."})
			}
		case "aonly.example.":
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)})
			}
		case "nothing.example.": // exists, but no MX, A or AAAA
		case "broken.example.":
			m.Rcode = dns.RcodeServerFailure
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
	return pc.LocalAddr().String(), asked
}

func TestHasMailServer(t *testing.T) {
	addr, asked := testDNS(t)
	c := &Checker{Server: addr, Timeout: time.Second}
	ctx := context.Background()
	for _, tc := range []struct {
		domain     string
		has, known bool
	}{
		{"mx.example", true, true},
		{"AOnly.Example.", true, true},
		{"nothing.example", false, true},
		{"nxdomain.example", false, true},
		{"broken.example", false, false}, // SERVFAIL: unknown, never "no"
	} {
		has, known := c.HasMailServer(ctx, tc.domain)
		if has != tc.has || known != tc.known {
			t.Errorf("HasMailServer(%s) = %v, %v; want %v, %v", tc.domain, has, known, tc.has, tc.known)
		}
	}
	// Answers are kept for the TTL: asking again asks the server nothing.
	before := asked.Load()
	c.HasMailServer(ctx, "mx.example")
	c.HasMailServer(ctx, "nxdomain.example")
	if n := asked.Load() - before; n != 0 {
		t.Errorf("asking again within the TTL sent %d questions, want 0", n)
	}
	// An unknown answer is not kept.
	c.HasMailServer(ctx, "broken.example")
	if n := asked.Load() - before; n == 0 {
		t.Errorf("a SERVFAIL answer was kept; the next question must ask again")
	}
	// After the TTL the server is asked again.
	now := time.Now().Add(DefaultTTL + time.Minute)
	c.Now = func() time.Time { return now }
	before = asked.Load()
	c.HasMailServer(ctx, "mx.example")
	if asked.Load() == before {
		t.Errorf("an answer older than the TTL was used")
	}
}

// A resolver that never answers costs one timeout and says "unknown".
func TestHasMailServerTimeout(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer pc.Close() // reads nothing, answers nothing
	c := &Checker{Server: pc.LocalAddr().String(), Timeout: 100 * time.Millisecond}
	start := time.Now()
	has, known := c.HasMailServer(context.Background(), "mx.example")
	if has || known {
		t.Errorf("HasMailServer against a silent server = %v, %v; want unknown", has, known)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("HasMailServer against a silent server took %v, want about the 100 ms timeout", d)
	}
}
