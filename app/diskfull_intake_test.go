package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"notme/cases"
	"notme/inbox"
)

// Mail arrives while the disk is full; then some space comes back, enough
// for a few mails but not for the whole batch, and later all of it. The
// poller must not keep retrying the batch that does not fit: it takes in
// what fits, in smaller batches, and once space is back every mail is one
// report and the folder is empty.
func TestDiskFullMailIntakeResumes(t *testing.T) {
	sqliteOnly(t, "max_page_count is SQLite's full disk")
	ctx := context.Background()
	a, err := Open(ctx, testConfig(t, t.TempDir()), discardLogger())
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer a.Close()
	srv := newMemIMAP(t)

	const mails, size = 40, 16 << 10
	ledger := a.Service.NewLedgerBatch()
	var raw [][]byte
	for i := range mails {
		orig := fmt.Sprintf("orig-full-%d@mail.example.com", i)
		if err := ledger.Add(ctx, cases.LedgerMessage{MessageID: orig, AccountRef: fmt.Sprintf("ACC-MAIL-%d", i%10),
			Recipient: fmt.Sprintf("taro%d@gmial.example", i), Kind: "registration", Subject: "Set your password"}); err != nil {
			t.Fatalf("register ledger message: %v", err)
		}
		raw = append(raw, strangerReply(i, orig, size))
	}
	if err := ledger.Flush(ctx); err != nil {
		t.Fatalf("register ledger messages: %v", err)
	}

	var logs syncBuffer
	p, err := inbox.NewPoller(inbox.MailboxConfig{Name: "reports", Addr: srv.addr, Security: inbox.SecurityPlain,
		Username: "desk", Password: "desk-pw", PollInterval: 50 * time.Millisecond, FullCheck: 50 * time.Millisecond,
		BatchSize: mails}, a.Pipeline, a.Service, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("NewPoller() = %v", err)
	}
	pctx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- p.Run(pctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run() = %v after cancel, want nil", err)
		}
	}()
	count := func(query string) int64 {
		var n int64
		if err := a.DB.writer.Raw(query).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	reports := func() int64 { return count(`SELECT count(*) FROM reports WHERE channel = 'mail'`) }
	waitFor := func(within time.Duration, what string, cond func() bool) {
		t.Helper()
		// The poller works in its own goroutine; the database and the
		// folders show what it did.
		deadline := time.Now().Add(within)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("no %s within %v: %d reports, INBOX %d, done %d; log:\n%s", what, within, reports(), srv.count(t, "INBOX"), srv.count(t, "notme/processed"), logs.String())
			}
			<-tick.C
		}
	}
	waitFor(10*time.Second, "mailbox connected", func() bool { return strings.Contains(logs.String(), "mailbox connected") })

	// The disk is full when the mail comes.
	pages := count(`PRAGMA page_count`)
	setMaxPages(t, a, pages)
	srv.deliver(t, raw...)
	waitFor(10*time.Second, "store failure on the full disk", func() bool {
		return strings.Contains(logs.String(), "database or disk is full") && strings.Contains(logs.String(), "mailbox failed")
	})
	if n := reports(); n != 0 {
		t.Fatalf("reports on a full disk = %d, want 0", n)
	}

	// Some space comes back: a few mails fit, the batch of all does not.
	room := int64(12 * (size/4096 + 2))
	setMaxPages(t, a, pages+room)
	start := time.Now()
	waitFor(20*time.Second, "mail taken in with some space back", func() bool { return reports() >= 4 })
	some := reports()
	t.Logf("%d of %d mails taken in %v with %d pages of room", some, mails, time.Since(start).Round(time.Millisecond), room)
	if some >= mails {
		t.Fatalf("all %d mails fit in %d pages: the test's room must be smaller than the batch", mails, room)
	}

	// All the space comes back.
	setMaxPages(t, a, 1<<30)
	start = time.Now()
	waitFor(30*time.Second, "every mail taken in and moved", func() bool {
		return reports() == mails && srv.count(t, "INBOX") == 0 && srv.count(t, "notme/processed") == mails
	})
	t.Logf("the other %d mails taken in %v after all space came back; %d pages per mail", mails-some,
		time.Since(start).Round(time.Millisecond), (count(`PRAGMA page_count`)-pages)/mails)
	if n := count(`SELECT count(*) FROM mail_messages`); n != mails {
		t.Errorf("mail_messages = %d, want %d: each mail stored once", n, mails)
	}
	if n := count(`SELECT count(DISTINCT message_id) FROM mail_messages WHERE disposition = 'report'`); n != mails {
		t.Errorf("distinct reported mails = %d, want %d", n, mails)
	}
}

// memIMAP is go-imap's in-process server with MOVE, as inbox's tests use it.
type memIMAP struct {
	addr string
	user *imapmemserver.User
}

func newMemIMAP(t *testing.T) *memIMAP {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("desk", "desk-pw")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       nopPrintf{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { srv.Serve(ln); close(served) }()
	t.Cleanup(func() { srv.Close(); <-served })
	return &memIMAP{addr: ln.Addr().String(), user: u}
}

type nopPrintf struct{}

func (nopPrintf) Printf(string, ...any) {}

func (s *memIMAP) deliver(t *testing.T, mails ...[]byte) {
	t.Helper()
	for _, m := range mails {
		if _, err := s.user.Append("INBOX", bytes.NewReader(m), &imap.AppendOptions{}); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
}

func (s *memIMAP) count(t *testing.T, folder string) int {
	t.Helper()
	st, err := s.user.Status(folder, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return -1
	}
	return int(*st.NumMessages)
}

// strangerReply is a stranger's reply to the company's mail orig, from
// the address it was sent to, padded to about size bytes.
func strangerReply(i int, orig string, size int) []byte {
	var body strings.Builder
	for body.Len() < size-600 {
		body.WriteString("> Welcome! Please set your password within 24 hours: https://account.example.com/set?token=abcdef\r\n")
	}
	return fmt.Appendf(nil, "From: Stranger %[1]d <taro%[1]d@gmial.example>\r\n"+
		"To: notme@desk.example.com\r\n"+
		"Subject: Re: Set your password\r\n"+
		"Date: Mon, 2 Feb 2026 10:%02[2]d:00 +0900\r\n"+
		"Message-ID: <reply-full-%[1]d@gmial.example>\r\n"+
		"In-Reply-To: <%[3]s>\r\n"+
		"References: <%[3]s>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"\r\n"+
		"This is not my account. I never signed up, please stop sending me this.\r\n\r\n%[4]s", i, i%60, orig, body.String())
}
