package inbox_test

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"notme/inbox"
)

// freezeProxy forwards TCP connections to a server and can freeze: it then
// stops forwarding in both directions without closing anything, as a
// black-holed network does. Connections made while frozen are accepted and
// left hanging too.
type freezeProxy struct {
	ln     net.Listener
	target string

	accepted atomic.Int32
	noops    chan struct{} // one per NOOP command the client sent

	mu     sync.Mutex
	frozen chan struct{} // non-nil while frozen; closed by thaw
	conns  []net.Conn
	closed bool
}

func startFreezeProxy(tb testing.TB, target string) *freezeProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &freezeProxy{ln: ln, target: target, noops: make(chan struct{}, 1000)}
	go p.serve()
	tb.Cleanup(p.close)
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, s) {
			return
		}
		p.accepted.Add(1)
		go p.pipe(c, s, true)
		go p.pipe(s, c, false)
	}
}

func (p *freezeProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, cs...)
	return true
}

// pipe copies from src to dst, holding each chunk while frozen, and
// counts the client's NOOPs.
func (p *freezeProxy) pipe(src, dst net.Conn, fromClient bool) {
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		p.wait()
		n, err := src.Read(buf)
		if fromClient {
			for range bytes.Count(buf[:n], []byte(" NOOP\r\n")) {
				select {
				case p.noops <- struct{}{}:
				default:
				}
			}
		}
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *freezeProxy) wait() {
	p.mu.Lock()
	ch := p.frozen
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

func (p *freezeProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen == nil {
		p.frozen = make(chan struct{})
	}
}

func (p *freezeProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
}

func (p *freezeProxy) close() {
	p.ln.Close()
	p.thaw()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
}

// A server that stops answering without closing the connection is noticed
// within the IDLE refresh plus the timeout: the mailbox health shows the
// error, and once the network is back the poller reconnects and a new mail
// still becomes a case.
func TestDovecotSilentServerIsDropped(t *testing.T) {
	srv := needDovecot(t)
	u := srv.newUser(t)
	d := newDesk(t)
	ts := threads(t, d, "silent", 2, 2048)
	proxy := startFreezeProxy(t, srv.addr(hostFull, false))
	cfg := inbox.MailboxConfig{
		Name: "silent", Addr: proxy.addr(), Security: inbox.SecurityPlain, Username: u.Name, Password: u.Password,
		PollInterval: time.Hour, FullCheck: time.Hour, IdleRefresh: 500 * time.Millisecond, Timeout: 2 * time.Second,
	}
	startPoller(t, d, cfg)
	u.deliver(t, "", false, ts[0].Reply)
	waitFor(t, 20*time.Second, "the first reply to become a case", func() bool { return d.mailReports(t) == 1 })
	waitFor(t, 10*time.Second, "a round on record", func() bool { return d.mailbox(t, "silent").LastSuccess != nil })
	if m := d.mailbox(t, "silent"); m.LastError != "" {
		t.Fatalf("mailbox health before the freeze: last error %q, want none", m.LastError)
	}

	proxy.freeze()
	frozen := time.Now()
	// Noticed at the next refresh (0.5 s) plus the timeout (2 s); the
	// bounds allow for a loaded machine, far below go-imap's own 30 s,
	// but not for a second timeout.
	m := d.mailbox(t, "silent")
	waitFor(t, 10*time.Second, "the silent server to show in the mailbox health", func() bool {
		m = d.mailbox(t, "silent")
		return m.LastError != "" && m.LastErrorAt != nil && m.LastErrorAt.After(frozen)
	})
	took := time.Since(frozen)
	t.Logf("silence noticed after %v: %s", took.Round(time.Millisecond), m.LastError)
	if limit := cfg.IdleRefresh + cfg.Timeout*3/2; took > limit {
		t.Errorf("silence noticed after %v, want within the refresh and one timeout (%v, allowing up to %v)", took, cfg.IdleRefresh+cfg.Timeout, limit)
	}
	if !strings.Contains(m.LastError, "no answer from the server within 2s") {
		t.Errorf("mailbox last error = %q, want it to say the server did not answer within 2s", m.LastError)
	}

	proxy.thaw()
	u.deliver(t, "", false, ts[1].Reply)
	waitFor(t, 30*time.Second, "the second reply to become a case after the reconnect", func() bool { return d.mailReports(t) == 2 })
	checkReports(t, d, ts)
	waitFor(t, 10*time.Second, "a clean round after the reconnect", func() bool { return d.mailbox(t, "silent").LastError == "" })
}

// Silence is normal while idling: with the refresh longer than the
// timeout, the poller still keeps its one connection, ending IDLE with a
// NOOP at every refresh (RFC 2177 section 3).
func TestDovecotIdleRefreshKeepsTheConnection(t *testing.T) {
	srv := needDovecot(t)
	u := srv.newUser(t)
	d := newDesk(t)
	ts := threads(t, d, "refresh", 1, 2048)
	proxy := startFreezeProxy(t, srv.addr(hostFull, false))
	cfg := inbox.MailboxConfig{
		Name: "refresh", Addr: proxy.addr(), Security: inbox.SecurityPlain, Username: u.Name, Password: u.Password,
		PollInterval: time.Hour, FullCheck: time.Hour, IdleRefresh: 2500 * time.Millisecond, Timeout: time.Second,
	}
	startPoller(t, d, cfg)
	for i := range 2 {
		select {
		case <-proxy.noops:
		case <-time.After(20 * time.Second):
			t.Fatalf("no NOOP #%d within 20s: IDLE is not refreshed", i+1)
		}
	}
	if n := proxy.accepted.Load(); n != 1 {
		t.Errorf("the poller made %d connections across two refreshes, want 1: idle silence must not drop it", n)
	}
	if m := d.mailbox(t, "refresh"); m.LastError != "" {
		t.Errorf("mailbox last error = %q, want none", m.LastError)
	}
	// The refreshed IDLE still hears of new mail.
	u.deliver(t, "", false, ts[0].Reply)
	waitFor(t, 20*time.Second, "the reply to become a case", func() bool { return d.mailReports(t) == 1 })
}
