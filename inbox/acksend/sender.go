// Package acksend sends the desk's mail to reporters: the acknowledgement
// of a report mail (an RFC 3834 auto-reply) and the notice that its case is
// done. cases queues them on its outbox (claims, back-off, dead letters);
// this package composes each mail in the reporter's language and puts it
// on the wire over SMTP.
package acksend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"notme/cases"
	"notme/inbox"
	"notme/internal/backoff"
	"notme/internal/loopback"
	"notme/internal/wake"
)

// SMTPConfig says how acknowledgements reach the submission server.
type SMTPConfig struct {
	Addr string // host:port of the submission server
	// Security is "starttls" (the default), "tls" (implicit TLS, RFC 8314)
	// or "plain", which is refused unless the host is loopback. STARTTLS
	// never falls back to plain text.
	Security  string
	Username  string // optional, for AUTH PLAIN
	Password  string // never logged
	From      string // the desk's address, e.g. notme@desk.example.com; a display name is allowed
	HelloName string // EHLO name; default "localhost"
	TLSConfig *tls.Config
	Timeout   time.Duration // per connection and per command; default 30s
}

// LogValue keeps the password out of logs.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", c.Addr), slog.String("security", c.Security),
		slog.String("username", c.Username), slog.String("from", c.From))
}

// String keeps the password out of %v.
func (c SMTPConfig) String() string {
	return fmt.Sprintf("smtp %s (%s) as %q from %s", c.Addr, c.Security, c.Username, c.From)
}

// Defaults of SMTPConfig; app's configuration asks these.
const (
	DefaultSMTPSecurity  = inbox.SecurityStartTLS
	DefaultSMTPHelloName = "localhost"
)

const (
	// A submission server's security takes the words of a mailbox's.
	smtpSecurityTLS      = inbox.SecurityTLS
	smtpSecuritySTARTTLS = inbox.SecurityStartTLS
	smtpSecurityPlain    = inbox.SecurityPlain

	// batch acks are read per query; maxPerConn are sent over one
	// connection before it is renewed, below the per-session limits
	// submission servers commonly set.
	batch      = 10
	maxPerConn = 100
	// maxIdle bounds the sleep even when nothing is due, so acks queued by
	// another instance of the desk (sharing PostgreSQL, not its Notify) go
	// out within it.
	maxIdle = time.Minute
	// Limits on what goes into header fields (RFC 5322 section 2.1.1: 998
	// octets a line; ids and addresses are not folded).
	maxMsgIDLen = 250
	maxAddrLen  = 254 // RFC 5321 section 4.5.3.1.3: a path is 256 octets with its brackets
	maxLocalLen = 64  // RFC 5321 section 4.5.3.1.1
)

// Sender delivers the acknowledgements cases queues, over SMTP.
type Sender struct {
	cfg     SMTPConfig
	host    string
	from    *netmail.Address
	domain  string // right-hand side of generated Message-IDs
	svc     *cases.Service
	log     *slog.Logger
	notify  wake.Signal
	running atomic.Bool
	// serverFailed (under mu) is set when the server could not be reached
	// or refused the desk, and cleared once a mail goes again: that
	// success makes the acknowledgements waiting out their back-off due
	// at once.
	serverFailed bool
	mu           sync.Mutex         // one delivery at a time: Run and SendDue never send an ack twice
	unmarked     map[int64]struct{} // sent, but the database did not take the news yet
}

// New checks cfg and returns a sender. It connects to nothing yet.
func New(cfg SMTPConfig, svc *cases.Service, log *slog.Logger) (*Sender, error) {
	if svc == nil {
		return nil, errors.New("acksend: acknowledgements need the cases service")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("smtp: addr %q must be host:port", cfg.Addr)
	}
	cfg.Security = strings.ToLower(strings.TrimSpace(cfg.Security))
	switch cfg.Security {
	case "":
		cfg.Security = DefaultSMTPSecurity
	case smtpSecurityTLS, smtpSecuritySTARTTLS:
	case smtpSecurityPlain:
		if !loopback.Host(host) {
			return nil, fmt.Errorf("smtp: security plain is only allowed to a loopback host, not %q: use tls or starttls", host)
		}
	default:
		return nil, fmt.Errorf("smtp: security %q: want tls, starttls or plain", cfg.Security)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from %q: %w", cfg.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if at <= 0 || !plainAddress(from.Address) || !validMsgID("x@"+from.Address[at+1:]) {
		return nil, fmt.Errorf("smtp: from %q must be a plain address with an ASCII domain (Message-IDs are made at it)", cfg.From)
	}
	if cfg.HelloName == "" {
		cfg.HelloName = DefaultSMTPHelloName
	}
	if strings.ContainsFunc(cfg.HelloName, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return nil, fmt.Errorf("smtp: hello name %q must be a domain or address literal", cfg.HelloName)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Sender{
		cfg: cfg, host: host, from: from, domain: from.Address[at+1:], svc: svc, log: log,
		notify: wake.NewSignal(), unmarked: map[int64]struct{}{},
	}, nil
}

// Notify tells Run that acknowledgements were queued; it never blocks.
// The ingest path calls it after its transaction commits.
func (s *Sender) Notify() { s.notify.Notify() }

// roundRetry backs off after failed rounds (the database or the server
// away).
var roundRetry = backoff.Policy{Min: 5 * time.Second, Max: 5 * time.Minute}

// Run sends due acknowledgements until ctx is done, then finishes the mail
// in hand and returns nil. Between rounds it sleeps until the next ack is
// due, a Notify, or maxIdle. A database or server outage is logged and
// retried with back-off; it does not end Run.
func (s *Sender) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("acksend: Sender.Run is already running")
	}
	defer s.running.Store(false)
	// A person's sending a held one by hand wakes it too.
	loop := wake.Loop{Name: "acknowledgements", MaxIdle: maxIdle, MinWait: time.Second, Retry: roundRetry,
		Wake: []<-chan struct{}{s.notify, s.svc.AckWake()}, Log: s.log}
	return loop.Run(ctx, func(ctx context.Context) (time.Duration, bool, error) {
		if _, err := s.SendDue(ctx); err != nil {
			return 0, false, err
		}
		next, ok, err := s.svc.NextAckAt(ctx)
		return next.Sub(s.svc.Now()), ok, err
	})
}

// SendDue sends every acknowledgement that is due now, over one connection
// (renewed every maxPerConn mails), and returns how many went out. Each
// outcome is recorded through cases: sent, retried later, or given up. The
// error is for the round (database, or no connection to the server); a
// single mail's failure is recorded on its ack, not returned. When ctx is
// done it finishes the mail in hand and stops.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.markUnmarked(ctx); err != nil {
		return 0, err
	}
	var (
		conn    *smtpConn
		sent    int
		seen    = map[int64]bool{}
		claimed []cases.Ack
		handled = map[int64]bool{}
	)
	defer func() { conn.quit() }()
	// Claimed acks this round did not get to go back at once, not after
	// their claim runs out.
	defer func() {
		var back []cases.Ack
		for _, a := range claimed {
			if !handled[a.ID] {
				back = append(back, a)
			}
		}
		if len(back) == 0 {
			return
		}
		dctx, cancel := s.dbContext(ctx)
		defer cancel()
		if err := s.svc.ReleaseAcks(dctx, back); err != nil {
			s.log.Warn("release claimed acknowledgements", "err", err, "count", len(back))
		}
	}()
	for ctx.Err() == nil {
		due, err := s.svc.DueAcks(ctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return sent, nil
			}
			return sent, err
		}
		claimed = append(claimed, due...)
		var fresh []cases.Ack
		for _, a := range due {
			if !seen[a.ID] {
				seen[a.ID] = true
				fresh = append(fresh, a)
			}
		}
		if len(fresh) == 0 {
			return sent, nil
		}
		for i, a := range fresh {
			if ctx.Err() != nil {
				return sent, nil // the rest stay pending for the next start
			}
			handled[a.ID] = true
			msg, to, err := s.message(a)
			if err != nil {
				if err := s.failed(ctx, a, err); err != nil {
					return sent, err
				}
				continue
			}
			if conn == nil || conn.broken || conn.sent >= maxPerConn {
				conn.quit()
				if conn, err = s.connect(ctx); err != nil {
					if ctx.Err() != nil {
						return sent, nil // stopping is no failure of the acks
					}
					// No server: every ack of this batch is charged an
					// attempt (cases backs them off), and the round ends.
					s.serverFailed = true
					for _, b := range fresh[i:] {
						handled[b.ID] = true
						if err := s.failed(ctx, b, err); err != nil {
							return sent, err
						}
					}
					return sent, err
				}
			}
			sendErr := conn.send(to, msg)
			if sendErr == nil {
				sent++
				// Recorded at once, mail by mail: a crash sends again only
				// the mail in hand, under the same Message-ID.
				if err := s.markSent(ctx, a); err != nil {
					return sent, err
				}
				// An ack that failed before and goes now says the same
				// as a server that failed this process: it is back.
				s.serverFailed = s.serverFailed || a.Attempts > 0
				if err := s.serverBack(ctx); err != nil {
					return sent, err
				}
				continue
			}
			if err := s.failed(ctx, a, sendErr); err != nil {
				return sent, err
			}
			if conn.broken && !errors.Is(sendErr, cases.ErrPermanent) {
				s.serverFailed = true
			}
			if conn.broken && errors.Is(sendErr, errSMTPDeskSide) {
				return sent, sendErr // the server refuses us, not this recipient
			}
		}
	}
	return sent, nil
}

// compose builds one ack's mail; an error is permanent.
func (s *Sender) message(a cases.Ack) ([]byte, string, error) {
	to, err := checkRecipient(a.ToAddr)
	if err != nil {
		return nil, "", err
	}
	if strings.EqualFold(to, s.from.Address) {
		return nil, "", fmt.Errorf("recipient is the desk's own address (a loop): %w", cases.ErrPermanent)
	}
	msg, err := render(a, s.from, time.Now(), stableMessageID(a, s.domain))
	if err != nil {
		return nil, "", err
	}
	return msg, to, nil
}

// dbContext outlives a cancelled ctx: the outcome of a mail that went out
// must be recorded, or it would go out again after a restart.
func (s *Sender) dbContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
}

func (s *Sender) markSent(ctx context.Context, a cases.Ack) error {
	dctx, cancel := s.dbContext(ctx)
	defer cancel()
	if err := s.svc.AckSentNow(dctx, a.ID); err != nil {
		// Remember it, so that the next round records it instead of
		// sending the mail again.
		s.unmarked[a.ID] = struct{}{}
		return fmt.Errorf("ack %d was sent: %w", a.ID, err)
	}
	s.log.Info("acknowledgement sent", "ack_id", a.ID, "case", a.CaseRef, "kind", a.Kind)
	return nil
}

// serverBack makes the acknowledgements backed off while the server
// failed due at once, now that one went through; the claims of this
// round take them.
func (s *Sender) serverBack(ctx context.Context) error {
	if !s.serverFailed {
		return nil
	}
	dctx, cancel := s.dbContext(ctx)
	defer cancel()
	n, err := s.svc.AcksRecovered(dctx)
	if err != nil {
		return fmt.Errorf("acknowledgements waiting for the server: %w", err)
	}
	s.serverFailed = false
	if n > 0 {
		s.log.Info("acknowledgements: the server takes mail again; sending the waiting ones now", "count", n)
	}
	return nil
}

func (s *Sender) markUnmarked(ctx context.Context) error {
	for id := range s.unmarked {
		dctx, cancel := s.dbContext(ctx)
		err := s.svc.AckSentNow(dctx, id)
		cancel()
		if err != nil {
			return fmt.Errorf("ack %d was sent: %w", id, err)
		}
		delete(s.unmarked, id)
	}
	return nil
}

func (s *Sender) failed(ctx context.Context, a cases.Ack, sendErr error) error {
	dctx, cancel := s.dbContext(ctx)
	defer cancel()
	if err := s.svc.AckAttemptFailed(dctx, a, sendErr); err != nil {
		return fmt.Errorf("record failure of ack %d: %w", a.ID, err)
	}
	// The reply text may name the recipient: log only its codes.
	s.log.Warn("acknowledgement not sent", "ack_id", a.ID, "case", a.CaseRef,
		"permanent", errors.Is(sendErr, cases.ErrPermanent), "smtp", smtpCodes(sendErr))
	return nil
}

func smtpCodes(err error) string {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return "none"
	}
	if se.EnhancedCode == (smtp.EnhancedCode{}) || se.EnhancedCode == smtp.NoEnhancedCode {
		return fmt.Sprint(se.Code)
	}
	return fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
}

// errSMTPDeskSide marks a refusal of the desk itself (MAIL FROM, AUTH, TLS):
// retrying later may help once the configuration is fixed, and the next
// mails would meet the same refusal.
var errSMTPDeskSide = errors.New("the submission server refused the desk")

// smtpConn is one session with the submission server.
type smtpConn struct {
	c      *smtp.Client
	sent   int
	broken bool
}

// connect dials and greets the server, secures the connection and logs in.
func (s *Sender) connect(ctx context.Context) (*smtpConn, error) {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	d := net.Dialer{Timeout: s.cfg.Timeout}
	if s.cfg.Security == smtpSecurityPlain {
		// The name said loopback; make sure the address it resolved to is.
		d.Control = func(_, address string, _ syscall.RawConn) error {
			h, _, _ := net.SplitHostPort(address)
			if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("smtp: %s is not loopback; plain text is refused", address)
			}
			return nil
		}
	}
	raw, err := d.DialContext(dctx, "tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: dial %s: %w", s.cfg.Addr, err)
	}
	conn := net.Conn(&smtpDeadlineConn{Conn: raw, timeout: s.cfg.Timeout})
	var c *smtp.Client
	switch s.cfg.Security {
	case smtpSecurityTLS:
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("smtp: TLS with %s: %w", s.cfg.Addr, err)
		}
		c = smtp.NewClient(tc)
	case smtpSecuritySTARTTLS:
		// go-smtp greets with "localhost" before STARTTLS; HelloName is
		// used once the channel is private.
		if c, err = smtp.NewClientStartTLS(conn, s.tlsConfig()); err != nil {
			raw.Close()
			return nil, fmt.Errorf("smtp: STARTTLS with %s: %w: %w", s.cfg.Addr, err, errSMTPDeskSide)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = s.cfg.Timeout, s.cfg.Timeout
	sc := &smtpConn{c: c}
	if err := c.Hello(s.cfg.HelloName); err != nil {
		c.Close()
		return nil, fmt.Errorf("smtp: EHLO to %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.Username != "" {
		if !c.SupportsAuth("PLAIN") {
			c.Close()
			return nil, fmt.Errorf("smtp: %s offers no AUTH PLAIN: %w", s.cfg.Addr, errSMTPDeskSide)
		}
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)); err != nil {
			c.Close()
			return nil, fmt.Errorf("smtp: AUTH as %q at %s: %w: %w", s.cfg.Username, s.cfg.Addr, err, errSMTPDeskSide)
		}
	}
	return sc, nil
}

func (s *Sender) tlsConfig() *tls.Config {
	var c *tls.Config
	if s.cfg.TLSConfig != nil {
		c = s.cfg.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = s.host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// send runs one mail transaction. Its error wraps cases.ErrPermanent when
// the server refused this recipient or this mail for good (a 5xx reply to
// RCPT or DATA); 4xx replies and network errors are retried later.
func (sc *smtpConn) send(to string, msg []byte) error {
	var opts *smtp.MailOptions
	if !isASCII(to) {
		if ok, _ := sc.c.Extension("SMTPUTF8"); !ok {
			return fmt.Errorf("smtp: the server cannot take the non-ASCII address (no SMTPUTF8): %w", cases.ErrPermanent)
		}
		opts = &smtp.MailOptions{UTF8: true} // RFC 6531
	}
	// RFC 3834 section 3.3: an auto-reply goes out with a null
	// reverse-path, so that no bounce or vacation reply answers it.
	if err := sc.c.Mail("", opts); err != nil {
		return sc.fail("MAIL FROM:<>", err, true)
	}
	if err := sc.c.Rcpt(to, nil); err != nil {
		return sc.fail("RCPT", err, false)
	}
	w, err := sc.c.Data()
	if err != nil {
		return sc.fail("DATA", err, false)
	}
	if _, err := w.Write(msg); err != nil {
		sc.broken = true
		return fmt.Errorf("smtp: writing the mail: %w", err)
	}
	if err := w.Close(); err != nil {
		return sc.fail("end of DATA", err, false)
	}
	sc.sent++
	return nil
}

// fail classifies a failed command and leaves the session ready for the
// next mail, or marks it broken.
func (sc *smtpConn) fail(stage string, err error, deskSide bool) error {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		sc.broken = true // network or protocol trouble: the session is gone
		return fmt.Errorf("smtp: %s: %w", stage, err)
	}
	if se.Code == 421 { // RFC 5321 section 3.8: the server is closing the channel
		sc.broken = true
		return fmt.Errorf("smtp: %s: %w", stage, err)
	}
	if rerr := sc.c.Reset(); rerr != nil {
		sc.broken = true
	}
	switch {
	case deskSide || smtpRefusesDesk(se):
		// A refusal of MAIL FROM:<>, or a demand to log in or encrypt, is
		// about the desk, never about the reporter: retry, and stop this
		// round, or every ack would be given up for a configuration error.
		sc.broken = true
		return fmt.Errorf("smtp: %s: %w: %w", stage, err, errSMTPDeskSide)
	case se.Code >= 500 && se.Code < 600:
		return fmt.Errorf("smtp: %s: %w: %w", stage, err, cases.ErrPermanent)
	default:
		return fmt.Errorf("smtp: %s: %w", stage, err)
	}
}

// smtpRefusesDesk reports replies that blame the client, not the recipient:
// 530 and 5.7.0 "authentication required", 535 and 5.7.8 "bad
// credentials", 538 and 5.7.9 to 5.7.11 "encryption or a stronger
// mechanism needed" (RFC 4954 section 6, RFC 3463, RFC 5248). "Relaying
// denied" (5.7.1) is left permanent: servers also use it for a refused
// recipient.
func smtpRefusesDesk(se *smtp.SMTPError) bool {
	switch se.Code {
	case 530, 535, 538:
		return true
	}
	e := se.EnhancedCode
	return e[0] == 5 && e[1] == 7 && (e[2] == 0 || e[2] >= 8 && e[2] <= 11)
}

func (sc *smtpConn) quit() {
	if sc == nil {
		return
	}
	if sc.broken || sc.c.Quit() != nil {
		sc.c.Close()
	}
}

// smtpDeadlineConn bounds every read and write, including the mail body, which
// go-smtp writes without a deadline of its own.
type smtpDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *smtpDeadlineConn) Read(b []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(b)
}

func (c *smtpDeadlineConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}
