package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
	"golang.org/x/text/encoding/japanese"

	"notme/ui"
)

// The demo's stand-ins for the company's mail: an in-process IMAP server
// holding the desk's mailbox, and an SMTP sink that keeps what the desk
// sends so staff can read it at /demo/outbox.

const (
	demoIMAPUser     = "desk"
	demoIMAPPassword = "demo-imap-password"
)

// demoIMAP is go-imap's in-memory server on a loopback port.
type demoIMAP struct {
	Addr  string
	user  *imapmemserver.User
	close func()
}

func startDemoIMAP() (*demoIMAP, error) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(demoIMAPUser, demoIMAPPassword)
	if err := u.Create("INBOX", nil); err != nil {
		return nil, err
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapMove: {}, imap.CapUIDPlus: {}},
		InsecureAuth: true, // loopback only, and only in the demo
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	return &demoIMAP{Addr: ln.Addr().String(), user: u, close: func() { srv.Close() }}, nil
}

func (d *demoIMAP) deliver(raw []byte) error {
	_, err := d.user.Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{})
	return err
}

// demoOutbox is an SMTP server that keeps every mail it is given.
type demoOutbox struct {
	Addr  string
	mu    sync.Mutex
	mails []ui.OutboxMail
	close func()
}

func startDemoOutbox() (*demoOutbox, error) {
	o := &demoOutbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &outboxSession{o: o}, nil }))
	srv.Domain = "outbox.demo"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	o.Addr, o.close = ln.Addr().String(), func() { srv.Close() }
	return o, nil
}

// Mails returns what the desk sent, newest first.
func (o *demoOutbox) Mails() []ui.OutboxMail {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]ui.OutboxMail, len(o.mails))
	for i, m := range o.mails {
		out[len(o.mails)-1-i] = m
	}
	return out
}

type outboxSession struct {
	o    *demoOutbox
	from string
	to   []string
}

func (s *outboxSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *outboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *outboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return err
	}
	m := ui.OutboxMail{At: time.Now(), From: s.from, To: s.to, Raw: string(b)}
	m.Subject, m.Text = readableMail(b)
	s.o.mu.Lock()
	s.o.mails = append(s.o.mails, m)
	s.o.mu.Unlock()
	return nil
}

// readableMail decodes the subject and the text body of a mail, so that
// staff read the acknowledgement as the reporter will.
func readableMail(raw []byte) (subject, text string) {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && r == nil {
		return "", ""
	}
	subject, _ = r.Header.Subject()
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		if _, ok := p.Header.(*mail.InlineHeader); ok {
			b, _ := io.ReadAll(io.LimitReader(p.Body, 64<<10))
			text = string(b)
			break
		}
	}
	return subject, text
}
func (s *outboxSession) Reset()        { s.from, s.to = "", nil }
func (s *outboxSession) Logout() error { return nil }

// The demo's stand-ins for the company's receiving MTA and a mailbox
// provider's feedback loop (mail.trusted_authserv_ids and
// mail.feedback_loop_senders).
const (
	demoAuthservID   = "mx.demo.localhost"
	demoFeedbackLoop = "provider.example"
)

// demoReportMails are the report mails the demo's mailbox starts with: a
// reply, an inline forward in Japanese (ISO-2022-JP, as Japanese mailers
// send it), an ARF complaint from a mailbox provider, a new mail in
// Japanese from the address an order mail went to, and an out-of-office
// reply the desk must not answer.
func demoReportMails(links []DemoLink, now time.Time) ([][]byte, error) {
	byKind := map[string]DemoLink{}
	for _, l := range links {
		byKind[l.Kind] = l
	}
	date := now.Format(time.RFC1123Z)
	var mails [][]byte
	if l, ok := byKind["registration"]; ok {
		mails = append(mails, []byte(fmt.Sprintf("From: Taro <%s>\r\nTo: notme@localhost\r\n"+
			"Subject: Re: %s\r\nDate: %s\r\nMessage-ID: <demo-reply-1@gmial.com>\r\n"+
			"In-Reply-To: %s\r\nReferences: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
			"Hello, I never signed up for this. Someone typed my address by mistake.\r\n",
			l.Recipient, l.Subject, date, l.MessageID, l.MessageID)))
	}
	if l, ok := byKind["postal_notice"]; ok {
		body := "間違いメールのようです。私はこのサービスに登録していません。\r\n\r\n" +
			"-------- 転送メッセージ --------\r\n" +
			"件名: 会員証を発送しました\r\n" +
			"日付: " + date + "\r\n" +
			"差出人: 会員サービス <no-reply@mail.example.com>\r\n" +
			"宛先: " + l.Recipient + "\r\n\r\n" +
			"会員証を下記のご住所へ発送しました。\r\n" +
			"お心当たりのない方はこちら: " + l.URL + "\r\n"
		enc, err := japanese.ISO2022JP.NewEncoder().String(body)
		if err != nil {
			return nil, err
		}
		mails = append(mails, []byte("From: mika@example.org\r\nTo: notme@localhost\r\n"+
			"Subject: =?ISO-2022-JP?B?GyRCRT5BdxsoQg==?=: =?ISO-2022-JP?B?GyRCMnEwdz5aJHJIL0F3JDckXiQ3JD8bKEI=?=\r\n"+
			"Date: "+date+"\r\nMessage-ID: <demo-fwd-ja-1@example.org>\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"+enc))
	}
	if l, ok := byKind["order_confirmation"]; ok {
		// The demo's MTA (demoAuthservID) verified the provider's DKIM
		// signature: the report is the feedback loop's, not a stranger's.
		mails = append(mails, []byte("Authentication-Results: "+demoAuthservID+"; spf=pass smtp.mailfrom="+demoFeedbackLoop+
			"; dkim=pass header.d="+demoFeedbackLoop+"\r\n"+
			"From: Mailbox provider feedback <fbl@"+demoFeedbackLoop+">\r\nTo: notme@localhost\r\n"+
			"Subject: Complaint about message from mail.example.com\r\nDate: "+date+"\r\n"+
			"Message-ID: <demo-arf-1@provider.example>\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf\"\r\n\r\n"+
			"--arf\r\nContent-Type: text/plain\r\n\r\nA user reported this message as unwanted.\r\n"+
			"--arf\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: demo-fbl/1.0\r\nVersion: 1\r\n\r\n"+
			"--arf\r\nContent-Type: message/rfc822\r\n\r\n"+
			"From: shop@mail.example.com\r\nTo: "+l.Recipient+"\r\nSubject: "+l.Subject+"\r\n"+
			"Message-ID: "+l.MessageID+"\r\nDate: "+date+"\r\n\r\nThank you for your order.\r\n"+
			"--arf--\r\n"))
		// A new mail, no reply and no link, from the address the order
		// mail went to: a report on that account for staff to confirm.
		mails = append(mails, []byte("From: "+l.Recipient+"\r\nTo: notme@localhost\r\n"+
			"Subject: =?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte("お宅からのメールが届き続けています"))+"?=\r\n"+
			"Date: "+date+"\r\nMessage-ID: <demo-new-ja-1@example.net>\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"+
			"注文確認のメールが何通も届きますが、私は注文していませんし、会員でもありません。\r\n"+
			"宛先を確認していただけますか。\r\n"))
	}
	mails = append(mails, []byte("From: k.tanaka@example.com\r\nTo: notme@localhost\r\n"+
		"Subject: Automatic reply: November news\r\nDate: "+date+"\r\nMessage-ID: <demo-ooo-1@example.com>\r\n"+
		"Auto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI am out of the office until Monday.\r\n"))
	return mails, nil
}
