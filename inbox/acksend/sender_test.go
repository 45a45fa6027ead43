package acksend_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"notme/app"
	"notme/app/testdb"
	"notme/cases"
	"notme/inbox/acksend"
)

var updateAckGolden = flag.Bool("update-ack", false, "rewrite the golden files under testdata/ack")

const (
	ackDeskFrom = "notme@desk.example.com"

	// The ledger: what the company sent, and what must never reach a reporter.
	ackLedgerID1, ackLedgerAccount1, ackLedgerRecipient1, ackLedgerKind1 = "orig-1@mail.example.com", "ACC-7781-XQ", "hanako.ledger@example.jp", "registration"
	ackLedgerID2, ackLedgerAccount2, ackLedgerRecipient2, ackLedgerKind2 = "orig-2@mail.example.com", "ACC-9902-ZK", "ken.ledger@example.com", "order_confirmation"
)

// ackDesk is the whole desk on a temporary SQLite file, with two ledger
// messages and a reader for the acks of a case.
type ackDesk struct {
	*app.App
	reader cases.Actor
}

func openAckDesk(t *testing.T) *ackDesk {
	t.Helper()
	ctx := context.Background()
	cfg := app.Defaults()
	cfg.DataDir = t.TempDir()
	if testdb.Postgres() {
		cfg.Database.URL = app.Secret(testdb.NewPostgres(t))
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("app.Open = %v", err)
	}
	t.Cleanup(func() { a.Close() })
	for _, m := range []cases.LedgerMessage{
		{MessageID: ackLedgerID1, AccountRef: ackLedgerAccount1, Recipient: ackLedgerRecipient1, Kind: ackLedgerKind1},
		{MessageID: ackLedgerID2, AccountRef: ackLedgerAccount2, Recipient: ackLedgerRecipient2, Kind: ackLedgerKind2},
	} {
		if _, _, err := a.Service.RegisterMessage(ctx, m); err != nil {
			t.Fatalf("RegisterMessage(%s) = %v", m.MessageID, err)
		}
	}
	_, key, err := a.Service.AddAPIKey(ctx, "ack tests", []cases.Scope{cases.ScopeCasesRead})
	if err != nil {
		t.Fatalf("AddAPIKey = %v", err)
	}
	return &ackDesk{App: a, reader: cases.Actor{APIKey: &key}}
}

// ackReportMail is a reporter's reply to a ledger message, as the parser
// would describe it. Its From's domain passed DMARC at the desk's own
// server, so it is a plausible reporter and acknowledged (the reporters
// here write from addresses the ledger does not know).
func ackReportMail(id, from, subject, lang, original string) cases.InboundMail {
	clean := strings.NewReplacer("\r", "", "\n", "").Replace
	raw := "From: " + clean(from) + "\r\n" +
		"To: " + ackDeskFrom + "\r\n" +
		"Subject: " + mime.BEncoding.Encode("utf-8", subject) + "\r\n" +
		"Date: Sat, 14 Mar 2026 09:12:00 +0900\r\n" +
		"Message-ID: <" + id + ">\r\n" +
		"In-Reply-To: <" + original + ">\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"This is not my account. I never signed up.\r\n"
	return cases.InboundMail{Raw: []byte(raw), Parsed: cases.ParsedMail{
		Class: cases.ClassReport, MessageID: id, From: from, Subject: subject, Lang: lang,
		MessageIDs: []string{original}, ParserVersion: 1, DMARCPass: true,
	}}
}

func (d *ackDesk) ingest(t *testing.T, mails ...cases.InboundMail) []cases.Ingested {
	t.Helper()
	got, err := d.Service.IngestMail(context.Background(), mails)
	if err != nil {
		t.Fatalf("IngestMail(%d mails) = %v", len(mails), err)
	}
	return got
}

func (d *ackDesk) acks(t *testing.T, ref string) []cases.Ack {
	t.Helper()
	ctx := context.Background()
	c, err := d.Service.CaseByRef(ctx, d.reader, ref)
	if err != nil {
		t.Fatalf("CaseByRef(%s) = %v", ref, err)
	}
	as, err := d.Service.AcksOf(ctx, c.Case.ID)
	if err != nil {
		t.Fatalf("AcksOf(%s) = %v", ref, err)
	}
	return as
}

// ackTo returns the one ack of the case addressed to addr.
func (d *ackDesk) ackTo(t *testing.T, ref, addr string) cases.Ack {
	t.Helper()
	var found []cases.Ack
	for _, a := range d.acks(t, ref) {
		if a.ToAddr == addr {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("acks of %s to %q = %+v, want exactly one", ref, addr, found)
	}
	return found[0]
}

func newAckSender(t *testing.T, d *ackDesk, cfg acksend.SMTPConfig) *acksend.Sender {
	t.Helper()
	if cfg.Security == "" {
		cfg.Security = "plain"
	}
	cfg.From = ackDeskFrom
	cfg.HelloName = "desk.example.com"
	cfg.Timeout = 10 * time.Second
	s, err := acksend.New(cfg, d.Service, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("New(%v) = %v", cfg, err)
	}
	return s
}

// ackSink is a real SMTP server (go-smtp's) on loopback that records every
// mail it accepts.
type ackSink struct {
	addr         string
	got          chan ackDelivery
	mails, rcpts atomic.Int32 // MAIL and RCPT commands seen, accepted or not
	opts         ackSinkOptions
}

type ackSinkOptions struct {
	rcpt        func(to string) error // nil accepts every recipient
	tls         *tls.Config           // offered through STARTTLS, or implicit
	implicitTLS bool
	user, pass  string // require AUTH PLAIN
	// started, when set, receives once a mail's data is in, and the
	// reply to DATA waits for release to be closed.
	started chan struct{}
	release chan struct{}
	buffer  int // mails held unread before the sink stops answering DATA; 0 = 16
}

type ackDelivery struct {
	from string // reverse-path; "" is MAIL FROM:<>
	to   []string
	data []byte
	tls  bool
	user string
}

func startAckSink(t *testing.T, o ackSinkOptions) *ackSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicitTLS {
		ln = tls.NewListener(ln, o.tls)
	}
	sk := &ackSink{addr: ln.Addr().String(), got: make(chan ackDelivery, cmp.Or(o.buffer, 16)), opts: o}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &ackSinkSession{sk: sk, conn: c}, nil
	}))
	srv.Domain = "sink.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if !o.implicitTLS {
		srv.TLSConfig = o.tls
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sk
}

func (sk *ackSink) next(t *testing.T) ackDelivery {
	t.Helper()
	select {
	case d := <-sk.got:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no mail reached the SMTP sink within 10s")
		return ackDelivery{}
	}
}

// none checks that nothing more was delivered. Call it once the sender is
// done (SendDue returned or Run ended): no send can still be in flight.
func (sk *ackSink) none(t *testing.T) {
	t.Helper()
	select {
	case d := <-sk.got:
		t.Fatalf("unexpected mail to %v:\n%s", d.to, d.data)
	default:
	}
}

type ackSinkSession struct {
	sk   *ackSink
	conn *smtp.Conn
	from string
	to   []string
	user string
}

func (s *ackSinkSession) AuthMechanisms() []string {
	if s.sk.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *ackSinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.sk.opts.user || pass != s.sk.opts.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *ackSinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.sk.mails.Add(1)
	if s.sk.opts.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *ackSinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.sk.rcpts.Add(1)
	if s.sk.opts.rcpt != nil {
		if err := s.sk.opts.rcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *ackSinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.sk.opts.started != nil {
		s.sk.opts.started <- struct{}{}
		<-s.sk.opts.release
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.sk.got <- ackDelivery{from: s.from, to: s.to, data: b, tls: isTLS, user: s.user}
	return nil
}

func (s *ackSinkSession) Reset()        { s.from, s.to = "", nil }
func (s *ackSinkSession) Logout() error { return nil }

// readAck parses a delivered ack: its header and its decoded body.
func readAck(t *testing.T, data []byte) (mail.Header, string) {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("mail.CreateReader = %v\n%s", err, data)
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatalf("NextPart = %v\n%s", err, data)
	}
	body, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatalf("reading the body = %v", err)
	}
	return mr.Header, string(body)
}

var ackStatusURLRE = regexp.MustCompile(`https?://[^\s]+/s/[A-Za-z0-9_-]+`)

// checkAck checks one delivered acknowledgement from envelope to body.
func checkAck(t *testing.T, d *ackDesk, dl ackDelivery, to, inReplyTo, ref, lang string, secrets []string) {
	t.Helper()
	if dl.from != "" {
		t.Errorf("MAIL FROM:<%s>, want the null reverse-path <> (RFC 3834 section 3.3)", dl.from)
	}
	if len(dl.to) != 1 || dl.to[0] != to {
		t.Errorf("RCPT TO = %q, want exactly [%s]", dl.to, to)
	}
	h, body := readAck(t, dl.data)
	for k, want := range map[string]string{
		"Auto-Submitted":           "auto-replied",
		"In-Reply-To":              "<" + inReplyTo + ">",
		"References":               "<" + inReplyTo + ">",
		"X-Auto-Response-Suppress": "All",
		"MIME-Version":             "1.0",
		"Content-Type":             "text/plain; charset=UTF-8",
		"To":                       "<" + to + ">",
		"From":                     "<" + ackDeskFrom + ">",
		"Content-Language":         lang,
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"Bcc", "Cc", "Precedence", "Reply-To"} {
		if h.Has(k) {
			t.Errorf("ack has a %s field: %q", k, h.Get(k))
		}
	}
	if id, err := h.MessageID(); err != nil || !strings.HasSuffix(id, "@desk.example.com") {
		t.Errorf("Message-ID = %q, %v; want one at the desk's domain", id, err)
	}
	if _, err := h.Date(); err != nil || !h.Has("Date") {
		t.Errorf("Date = %q, %v", h.Get("Date"), err)
	}
	subject, err := h.Subject()
	if err != nil || !strings.HasSuffix(subject, " ["+ref+"]") || strings.HasPrefix(subject, "Re:") {
		t.Errorf("Subject = %q, %v; want \"<fixed words> [%s]\"", subject, err, ref)
	}
	if !strings.Contains(body, ref) {
		t.Errorf("body does not give the case reference %s:\n%s", ref, body)
	}
	wantLang := map[string]string{"ja": "受付番号", "en": "Your case reference"}[lang]
	if !strings.Contains(body, wantLang) {
		t.Errorf("body is not in %s (no %q):\n%s", lang, wantLang, body)
	}
	if lang == "en" && strings.ContainsFunc(body, func(r rune) bool { return r > 0x7f }) {
		t.Errorf("English body has non-ASCII text:\n%s", body)
	}
	for _, s := range secrets {
		if strings.Contains(strings.ToLower(body), strings.ToLower(s)) || strings.Contains(strings.ToLower(subject), strings.ToLower(s)) {
			t.Errorf("ack tells the reporter about the account holder (%q):\n%s", s, body)
		}
	}
	// The status URL opens the reporter's status page, which names the case.
	raw := ackStatusURLRE.FindString(body)
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		t.Fatalf("body has no status URL:\n%s", body)
	}
	rec := httptest.NewRecorder()
	d.Server.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), ref) {
		t.Errorf("GET %s = %d, want 200 showing %s", u.Path, rec.Code, ref)
	}
}

// ackSecrets lists what the ack of a report on this ledger message must
// never say: the account, where the company sent it, what kind it was.
func ackSecrets(account, recipient, kind string) []string {
	label := map[string]string{"registration": "Registration", "order_confirmation": "Order confirmation"}[kind]
	return []string{account, recipient, kind, label}
}

func TestAckOncePerAddressInTheReportersLanguage(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{})
	got := d.ingest(t,
		ackReportMail("r1@example.org", "reporter@example.org", "ようこそ Example へ", "ja", ackLedgerID1),
		ackReportMail("r2@example.org", "reporter@example.org", "Re: ようこそ Example へ", "ja", ackLedgerID1),
		ackReportMail("e1@example.net", "Other@Example.net", "Re: Your order", "en", ackLedgerID2),
	)
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	s.Notify()
	byTo := map[string]ackDelivery{}
	for range 2 {
		dl := sk.next(t)
		byTo[strings.Join(dl.to, ",")] = dl
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of its context's end")
	}
	sk.none(t) // two report mails from one address: one ack

	ja, ok := byTo["reporter@example.org"]
	if !ok {
		t.Fatalf("no ack to reporter@example.org; got acks to %v", ackKeys(byTo))
	}
	checkAck(t, d, ja, "reporter@example.org", "r1@example.org", got[0].CaseRef, "ja", ackSecrets(ackLedgerAccount1, ackLedgerRecipient1, ackLedgerKind1))
	if want := "ご報告を受け付けました [" + got[0].CaseRef + "]"; ackSubjectOf(t, readAckHeader(t, ja.data)) != want {
		t.Errorf("Japanese subject = %q, want %q", ackSubjectOf(t, readAckHeader(t, ja.data)), want)
	}
	en, ok := byTo["other@example.net"]
	if !ok {
		t.Fatalf("no ack to other@example.net; got acks to %v", ackKeys(byTo))
	}
	checkAck(t, d, en, "other@example.net", "e1@example.net", got[2].CaseRef, "en", ackSecrets(ackLedgerAccount2, ackLedgerRecipient2, ackLedgerKind2))
	if want := "We received your report [" + got[2].CaseRef + "]"; ackSubjectOf(t, readAckHeader(t, en.data)) != want {
		t.Errorf("English subject = %q, want %q", ackSubjectOf(t, readAckHeader(t, en.data)), want)
	}

	states := map[string]int{}
	for _, a := range d.acks(t, got[0].CaseRef) {
		if a.ToAddr == "reporter@example.org" {
			states[a.State]++
			if a.StatusURL != "" {
				t.Errorf("ack %d (%s) still holds the status URL", a.ID, a.State)
			}
		}
	}
	if states[cases.AckSent] != 1 || states[cases.AckSuppressed] != 1 || len(states) != 2 {
		t.Errorf("acks to reporter@example.org by state = %v, want one sent and one suppressed", states)
	}
	if a := d.ackTo(t, got[2].CaseRef, "other@example.net"); a.State != cases.AckSent || a.SentAt == nil {
		t.Errorf("ack to other@example.net = %+v, want sent", a)
	}
}

func ackKeys(m map[string]ackDelivery) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func readAckHeader(t *testing.T, data []byte) mail.Header {
	t.Helper()
	h, _ := readAck(t, data)
	return h
}

func ackSubjectOf(t *testing.T, h mail.Header) string {
	t.Helper()
	s, err := h.Subject()
	if err != nil {
		t.Fatalf("Subject = %q, %v", s, err)
	}
	return s
}

func TestAckRefusedFor550IsGivenUp(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{rcpt: func(string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}})
	got := d.ingest(t, ackReportMail("r1@example.org", "gone@example.org", "Welcome", "en", ackLedgerID1))
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
	ctx := context.Background()

	if n, err := s.SendDue(ctx); n != 0 || err != nil {
		t.Fatalf("SendDue = %d, %v; want 0 sent and no round error (the refusal is the ack's)", n, err)
	}
	a := d.ackTo(t, got[0].CaseRef, "gone@example.org")
	if a.State != cases.AckFailed || a.Attempts != 1 || a.StatusURL != "" || !strings.Contains(a.LastError, "550") {
		t.Fatalf("ack after a 550 = %+v; want failed after one attempt, status URL forgotten, the reply kept", a)
	}
	if n, err := s.SendDue(ctx); n != 0 || err != nil {
		t.Fatalf("second SendDue = %d, %v", n, err)
	}
	if r := sk.rcpts.Load(); r != 1 {
		t.Errorf("the server saw %d RCPT commands, want 1 (no retry after a 5xx)", r)
	}
	sk.none(t)
}

// A submission server that wants a login refuses with a 5xx, but that is
// the desk's fault, not the reporter's: the ack must not be given up.
func TestAckRefusedForWantOfLoginIsRetried(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{rcpt: func(string) error {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}})
	got := d.ingest(t,
		ackReportMail("r1@example.org", "one@example.org", "Welcome", "en", ackLedgerID1),
		ackReportMail("r2@example.org", "two@example.org", "Welcome", "en", ackLedgerID1),
	)
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
	if n, err := s.SendDue(context.Background()); n != 0 || err == nil {
		t.Fatalf("SendDue = %d, %v; want nothing sent and the round to fail", n, err)
	}
	a := d.ackTo(t, got[0].CaseRef, "one@example.org")
	if a.State != cases.AckPending || a.Attempts != 1 {
		t.Errorf("ack after 530 5.7.0 = %+v, want pending after one attempt", a)
	}
	if b := d.ackTo(t, got[0].CaseRef, "two@example.org"); b.Attempts != 0 || sk.rcpts.Load() != 1 {
		t.Errorf("second ack = %+v after %d RCPTs; want the round stopped before it", b, sk.rcpts.Load())
	}
}

func TestAckDeferredBy451IsRetriedLater(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{rcpt: func(string) error {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, try again later"}
	}})
	got := d.ingest(t, ackReportMail("r1@example.org", "grey@example.org", "Welcome", "en", ackLedgerID1))
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
	ctx := context.Background()

	if n, err := s.SendDue(ctx); n != 0 || err != nil {
		t.Fatalf("SendDue = %d, %v; want 0 sent, no round error", n, err)
	}
	a := d.ackTo(t, got[0].CaseRef, "grey@example.org")
	if a.State != cases.AckPending || a.Attempts != 1 || !a.NextAttemptAt.After(time.Now()) || a.StatusURL == "" {
		t.Fatalf("ack after a 451 = %+v; want pending, one attempt, next attempt in the future, URL kept for it", a)
	}
	if next, ok, err := d.Service.NextAckAt(ctx); err != nil || !ok || !next.Equal(a.NextAttemptAt) {
		t.Errorf("NextAckAt = %v, %v, %v; want the deferred ack's %v (Run sleeps until then)", next, ok, err, a.NextAttemptAt)
	}
	if n, err := s.SendDue(ctx); n != 0 || err != nil || sk.rcpts.Load() != 1 {
		t.Fatalf("SendDue before the back-off ends = %d, %v with %d RCPTs; want nothing tried", n, err, sk.rcpts.Load())
	}
	sk.none(t)
}

func TestAckResistsHeaderInjection(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{})
	got := d.ingest(t,
		ackReportMail("r1@example.org", "inj@example.org", "Hi\r\nBcc: evil@example.com", "en", ackLedgerID1),
		ackReportMail("r2@example.org", "a@example.org, b@example.org", "Hello", "en", ackLedgerID1),
		ackReportMail("r3@example.org", "x@example.org\r\nBcc: y@z.example", "Hello", "en", ackLedgerID1),
		ackReportMail("r4@example.org", "Mallory <m@example.org>", "Hello", "en", ackLedgerID1),
	)
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
	if n, err := s.SendDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("SendDue = %d, %v; want the one well-addressed ack sent", n, err)
	}
	dl := sk.next(t)
	sk.none(t)
	if len(dl.to) != 1 || dl.to[0] != "inj@example.org" || sk.rcpts.Load() != 1 {
		t.Fatalf("RCPT TO = %v (%d RCPT commands), want only inj@example.org", dl.to, sk.rcpts.Load())
	}
	h, _ := readAck(t, dl.data)
	head, _, _ := bytes.Cut(dl.data, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") || strings.ContainsAny(line, "\r\n") {
			t.Errorf("header line %q: injected", line)
		}
	}
	if want := "We received your report [" + got[0].CaseRef + "]"; ackSubjectOf(t, h) != want {
		t.Errorf("Subject = %q, want the fixed %q (the report's subject is never repeated)", ackSubjectOf(t, h), want)
	}
	for _, a := range d.acks(t, got[0].CaseRef) {
		if a.ToAddr == "inj@example.org" {
			continue
		}
		if a.State != cases.AckFailed || a.Attempts != 1 || !strings.Contains(a.LastError, "recipient refused") {
			t.Errorf("ack to %q = state %s, %d attempts, %q; want refused for good, never sent", a.ToAddr, a.State, a.Attempts, a.LastError)
		}
	}
}

func TestNoAckForAutomaticMail(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{})
	arf := ackReportMail("arf1@fbl.example.net", "fbl@example.net", "FW: Welcome", "en", ackLedgerID1)
	arf.Parsed.Class, arf.Parsed.Auto = cases.ClassARF, "arf"
	ooo := ackReportMail("ooo@example.org", "away@example.org", "Out of office", "en", ackLedgerID1)
	ooo.Parsed.Class, ooo.Parsed.Auto = cases.ClassAutoReply, "auto-submitted: auto-replied"
	got := d.ingest(t, arf, ooo)
	if acks := d.acks(t, got[0].CaseRef); len(acks) != 0 {
		t.Errorf("an ARF report queued acks %+v, want none", acks)
	}
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
	if n, err := s.SendDue(context.Background()); n != 0 || err != nil || sk.mails.Load() != 0 {
		t.Fatalf("SendDue = %d, %v with %d MAIL commands; want nothing sent", n, err, sk.mails.Load())
	}
}

func TestAckRunFinishesTheMailInHandOnStop(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{started: make(chan struct{}, 1), release: make(chan struct{})})
	got := d.ingest(t,
		ackReportMail("r1@example.org", "first@example.org", "Welcome", "en", ackLedgerID1),
		ackReportMail("r2@example.org", "second@example.org", "Welcome", "en", ackLedgerID1),
	)
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-sk.opts.started: // the first mail is with the server
	case <-time.After(10 * time.Second):
		t.Fatal("Run sent nothing within 10s")
	}
	cancel()
	close(sk.opts.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of its context's end")
	}
	if dl := sk.next(t); len(dl.to) != 1 || dl.to[0] != "first@example.org" {
		t.Fatalf("delivered to %v, want first@example.org", dl.to)
	}
	sk.none(t)
	if a := d.ackTo(t, got[0].CaseRef, "first@example.org"); a.State != cases.AckSent {
		t.Errorf("the mail in hand: ack %+v, want recorded as sent", a)
	}
	if a := d.ackTo(t, got[0].CaseRef, "second@example.org"); a.State != cases.AckPending || a.Attempts != 0 {
		t.Errorf("the next mail: ack %+v, want left pending and untried", a)
	}

	// A Run with nothing to do stops at once, too.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr}).Run(ctx2); err != nil {
		t.Errorf("Run on a cancelled context = %v, want nil", err)
	}
}

// ackTestCA returns a server certificate for 127.0.0.1 and a pool that trusts it.
func ackTestCA(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool
}

func TestAckOverTLSWithAuth(t *testing.T) {
	serverTLS, roots := ackTestCA(t)
	for _, tc := range []struct {
		security string
		implicit bool
	}{{"starttls", false}, {"tls", true}} {
		t.Run(tc.security, func(t *testing.T) {
			d := openAckDesk(t)
			sk := startAckSink(t, ackSinkOptions{tls: serverTLS, implicitTLS: tc.implicit, user: "desk", pass: "s3cret-pass"})
			d.ingest(t, ackReportMail("r1@example.org", "reporter@example.org", "Welcome", "en", ackLedgerID1))
			s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr, Security: tc.security, Username: "desk", Password: "s3cret-pass",
				TLSConfig: &tls.Config{RootCAs: roots}})
			if n, err := s.SendDue(context.Background()); n != 1 || err != nil {
				t.Fatalf("SendDue = %d, %v; want 1 sent", n, err)
			}
			if dl := sk.next(t); !dl.tls || dl.user != "desk" {
				t.Errorf("delivery over TLS %v as %q, want TLS and AUTH as desk", dl.tls, dl.user)
			}
		})
	}
}

func TestAckNeverFallsBackToPlainText(t *testing.T) {
	d := openAckDesk(t)
	sk := startAckSink(t, ackSinkOptions{}) // offers no STARTTLS
	got := d.ingest(t, ackReportMail("r1@example.org", "reporter@example.org", "Welcome", "en", ackLedgerID1))
	s := newAckSender(t, d, acksend.SMTPConfig{Addr: sk.addr, Security: "starttls"})
	if n, err := s.SendDue(context.Background()); n != 0 || err == nil {
		t.Fatalf("SendDue to a server without STARTTLS = %d, %v; want nothing sent and an error", n, err)
	}
	if m := sk.mails.Load(); m != 0 {
		t.Errorf("the server saw %d MAIL commands in plain text, want 0", m)
	}
	if a := d.ackTo(t, got[0].CaseRef, "reporter@example.org"); a.State != cases.AckPending || a.Attempts != 1 {
		t.Errorf("ack = %+v, want pending after one failed attempt", a)
	}
}

func TestNewAckSenderChecksItsConfig(t *testing.T) {
	d := openAckDesk(t)
	for _, tc := range []struct {
		cfg acksend.SMTPConfig
		ok  bool
	}{
		{acksend.SMTPConfig{Addr: "127.0.0.1:25", Security: "plain", From: ackDeskFrom}, true},
		{acksend.SMTPConfig{Addr: "localhost:25", Security: "plain", From: ackDeskFrom}, true},
		{acksend.SMTPConfig{Addr: "[::1]:25", Security: "plain", From: ackDeskFrom}, true},
		{acksend.SMTPConfig{Addr: "smtp.example.com:587", From: "Security desk <" + ackDeskFrom + ">"}, true},
		{acksend.SMTPConfig{Addr: "smtp.example.com:465", Security: "tls", From: ackDeskFrom}, true},
		{acksend.SMTPConfig{Addr: "smtp.example.com:25", Security: "plain", From: ackDeskFrom}, false},
		{acksend.SMTPConfig{Addr: "10.0.0.1:25", Security: "plain", From: ackDeskFrom}, false},
		{acksend.SMTPConfig{Addr: "smtp.example.com:587", Security: "ssl", From: ackDeskFrom}, false},
		{acksend.SMTPConfig{Addr: "smtp.example.com", From: ackDeskFrom}, false},
		{acksend.SMTPConfig{Addr: "smtp.example.com:587", From: "not an address"}, false},
		{acksend.SMTPConfig{Addr: "smtp.example.com:587", From: ackDeskFrom, HelloName: "desk\r\nMAIL FROM:<x@y>"}, false},
	} {
		_, err := acksend.New(tc.cfg, d.Service, nil)
		if (err == nil) != tc.ok {
			t.Errorf("New(%+v) = %v, want ok %v", tc.cfg, err, tc.ok)
		}
	}
	cfg := acksend.SMTPConfig{Addr: "smtp.example.com:587", From: ackDeskFrom, Username: "desk", Password: "hunter2-secret"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "smtp", cfg)
	if s := buf.String() + fmt.Sprint(cfg) + fmt.Sprintf("%+v", cfg); strings.Contains(s, "hunter2") {
		t.Errorf("the SMTP password shows in logs or %%v: %s", s)
	}
}

// goldenAck is the ack of the golden tests.
func goldenAck(kind, lang, subject string) cases.Ack {
	return cases.Ack{ID: 1, Kind: kind, ToAddr: "reporter@example.org", Lang: lang,
		InReplyTo: "r1@example.org", Subject: subject, CaseRef: "NM-7K3Q-9XRD",
		StatusURL: "https://desk.example.com/s/q3ZC9vXh2mJt0aKLp8WbRg4Y", State: cases.AckPending}
}

var ackGoldenTime = time.Date(2026, 3, 14, 9, 30, 0, 0, time.FixedZone("JST", 9*60*60))

func TestComposeAckGolden(t *testing.T) {
	for _, tc := range []struct{ name, kind, lang, subject, auto string }{
		{"ja", cases.AckKindReceived, "ja", "【Example】会員登録のご案内", "auto-replied"},
		{"en", cases.AckKindReceived, "en", "Welcome to Example - set your password", "auto-replied"},
		{"ja-outcome", cases.AckKindOutcome, "ja", "【Example】会員登録のご案内", "auto-generated"},
		{"en-outcome", cases.AckKindOutcome, "en", "Welcome to Example - set your password", "auto-generated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := acksend.Compose(goldenAck(tc.kind, tc.lang, tc.subject), ackDeskFrom, ackGoldenTime, "<ack.NM-7K3Q-9XRD.TESTID@desk.example.com>")
			if err != nil {
				t.Fatalf("Compose = %v", err)
			}
			h, body := readAck(t, msg)
			if got := h.Get("Auto-Submitted"); got != tc.auto {
				t.Errorf("Auto-Submitted = %q, want %q (RFC 3834 section 5)", got, tc.auto)
			}
			for name, got := range map[string][]byte{tc.name + ".eml": msg, tc.name + ".body.txt": []byte(body)} {
				path := filepath.Join("testdata", "ack", name)
				if *updateAckGolden {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -run ComposeAckGolden -update-ack ./inbox to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("Compose %s differs from %s:\n--- got\n%s\n--- want\n%s", tc.lang, path, got, want)
				}
			}
			for i, line := range strings.Split(strings.TrimSuffix(string(msg), "\r\n"), "\r\n") {
				if len(line) > 78 {
					t.Errorf("line %d is %d octets long (RFC 5322 section 2.1.1: SHOULD be at most 78): %q", i+1, len(line), line)
				}
				if strings.ContainsAny(line, "\r\n") || strings.ContainsFunc(line, func(r rune) bool { return r > 0x7e }) {
					t.Errorf("line %d has a bare CR or LF or non-ASCII: %q", i+1, line)
				}
			}
		})
	}
}

// The subject is the desk's own words in the reporter's language and the
// case reference, whatever the report's subject was: none of it reaches
// the answer, so nobody can make the desk mail their words (issue 12).
func TestComposeAckSubject(t *testing.T) {
	const ref = "NM-7K3Q-9XRD"
	for _, tc := range []struct{ kind, lang, in, want string }{
		{cases.AckKindReceived, "en", "Welcome", "We received your report [" + ref + "]"},
		{cases.AckKindReceived, "en", "Re: Welcome [" + ref + "]", "We received your report [" + ref + "]"},
		{cases.AckKindReceived, "en", "Hi\r\nBcc: evil@example.com", "We received your report [" + ref + "]"},
		{cases.AckKindReceived, "en", "=?utf-8?q?Bcc:_x?=", "We received your report [" + ref + "]"},
		{cases.AckKindReceived, "en", "", "We received your report [" + ref + "]"},
		{cases.AckKindReceived, "ja", "Ｒｅ：ようこそ", "ご報告を受け付けました [" + ref + "]"},
		{cases.AckKindReceived, "ja-JP", "   ", "ご報告を受け付けました [" + ref + "]"},
		{cases.AckKindOutcome, "en", "Welcome", "Your report is closed [" + ref + "]"},
		{cases.AckKindOutcome, "ja", "会員登録", "ご報告の対応が完了しました [" + ref + "]"},
	} {
		msg, err := acksend.Compose(cases.Ack{Kind: tc.kind, ToAddr: "r@example.org", Lang: tc.lang, InReplyTo: "r1@example.org", Subject: tc.in,
			CaseRef: ref, StatusURL: "https://desk.example.com/s/x"}, ackDeskFrom, ackGoldenTime, "ack.1@desk.example.com")
		if err != nil {
			t.Errorf("Compose(%s, subject %q) = %v", tc.kind, tc.in, err)
			continue
		}
		h, _ := readAck(t, msg)
		if got := ackSubjectOf(t, h); got != tc.want {
			t.Errorf("Compose(%s %s, subject %q): Subject = %q, want %q", tc.kind, tc.lang, tc.in, got, tc.want)
		}
		if raw := h.Get("Subject"); !strings.HasSuffix(raw, " ["+ref+"]") {
			t.Errorf("raw Subject %q: want the reference unencoded", raw)
		}
		if h.Get("In-Reply-To") != "<r1@example.org>" || h.Get("References") != "<r1@example.org>" {
			t.Errorf("Compose(%s): In-Reply-To %q, References %q; want the report threaded", tc.kind, h.Get("In-Reply-To"), h.Get("References"))
		}
	}
}

func TestComposeAckRefusesBadInput(t *testing.T) {
	ok := cases.Ack{ToAddr: "r@example.org", Lang: "en", InReplyTo: "r1@example.org", Subject: "Hi", CaseRef: "NM-7K3Q-9XRD"}
	for _, to := range []string{
		"", "a@example.org, b@example.org", "x@example.org\r\nBcc: y@z.example", "Mallory <m@example.org>",
		`"a b"@example.org`, "a@[127.0.0.1]", "a@example.org (comment)", "MAILER-DAEMON@example.org",
		"no-reply@example.com", "owner-list@example.org", "list-request@example.org", strings.Repeat("a", 65) + "@example.org",
	} {
		a := ok
		a.ToAddr = to
		if _, err := acksend.Compose(a, ackDeskFrom, ackGoldenTime, "ack.1@desk.example.com"); !errors.Is(err, cases.ErrPermanent) {
			t.Errorf("Compose(to %q) = %v, want a permanent refusal", to, err)
		}
	}
	unknown := ok
	unknown.Kind = "reminder"
	if _, err := acksend.Compose(unknown, ackDeskFrom, ackGoldenTime, "ack.1@desk.example.com"); !errors.Is(err, cases.ErrPermanent) {
		t.Errorf("Compose(kind %q) = %v, want a permanent refusal", unknown.Kind, err)
	}
	bad := ok
	bad.CaseRef = "NM-1\r\nBcc: x"
	if _, err := acksend.Compose(bad, ackDeskFrom, ackGoldenTime, "ack.1@desk.example.com"); !errors.Is(err, cases.ErrPermanent) {
		t.Errorf("Compose(case ref %q) = %v, want a permanent refusal", bad.CaseRef, err)
	}
	if _, err := acksend.Compose(ok, ackDeskFrom, ackGoldenTime, "no id\r\n"); !errors.Is(err, cases.ErrPermanent) {
		t.Errorf("Compose(bad Message-ID) = %v, want a refusal", err)
	}
	// A report without a usable Message-ID still gets its ack, unthreaded.
	odd := ok
	odd.InReplyTo = "x>\r\nBcc: <y@z"
	msg, err := acksend.Compose(odd, ackDeskFrom, ackGoldenTime, "ack.1@desk.example.com")
	if err != nil {
		t.Fatalf("Compose(in-reply-to %q) = %v", odd.InReplyTo, err)
	}
	if h, _ := readAck(t, msg); h.Has("In-Reply-To") || h.Has("References") || h.Has("Bcc") {
		t.Errorf("Compose(in-reply-to %q) threads under it: %q / %q", odd.InReplyTo, h.Get("In-Reply-To"), h.Get("References"))
	}
}
