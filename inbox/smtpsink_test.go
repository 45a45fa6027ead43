package inbox_test

import (
	"cmp"
	"io"
	"log"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// ackSink is a real SMTP server (go-smtp's) on loopback that records every
// mail a desk process sends it (the acknowledgement sender's own tests,
// with more options, are in inbox/acksend).
type ackSink struct {
	addr string
	got  chan ackDelivery
	opts ackSinkOptions
}

type ackSinkOptions struct {
	buffer int           // mails held unread before the sink stops answering DATA; 0 = 16
	delay  time.Duration // each DATA is answered this late: a slow server, so a kill lands mid-send
}

type ackDelivery struct {
	to   []string
	data []byte
	at   time.Time
}

func startAckSink(t *testing.T, o ackSinkOptions) *ackSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sk := &ackSink{addr: ln.Addr().String(), got: make(chan ackDelivery, cmp.Or(o.buffer, 16)), opts: o}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &ackSinkSession{sk: sk}, nil }))
	srv.Domain = "sink.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sk
}

type ackSinkSession struct {
	sk *ackSink
	to []string
}

func (s *ackSinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *ackSinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *ackSinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.sk.opts.delay > 0 {
		time.Sleep(s.sk.opts.delay) // the server's own pace, not a test's synchronisation
	}
	s.sk.got <- ackDelivery{to: s.to, data: b, at: time.Now()}
	return nil
}
func (s *ackSinkSession) Reset()        { s.to = nil }
func (s *ackSinkSession) Logout() error { return nil }
