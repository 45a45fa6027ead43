package inbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"notme/app"
	"notme/app/testdb"
	"notme/cases"
	"notme/inbox"
)

// desk is a whole desk on a SQLite file in a temporary folder (or a fresh
// PostgreSQL database with NOTME_TEST_POSTGRES set), built the way app
// builds it, with a pipeline and a read handle for checks.
type desk struct {
	svc  *cases.Service
	pipe *inbox.Pipeline
	db   *sql.DB
	log  *slog.Logger
}

func newDesk(tb testing.TB) *desk {
	tb.Helper()
	cfg := app.Defaults()
	cfg.DataDir = tb.TempDir()
	pg := ""
	if testdb.Postgres() {
		pg = testdb.NewPostgres(tb)
		cfg.Database.URL = app.Secret(pg)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("app.Open = %v", err)
	}
	tb.Cleanup(func() { a.Close() })
	var db *sql.DB
	if pg != "" {
		db, err = app.OpenPostgresSQL(pg)
	} else {
		db, err = sql.Open("sqlite3", "file:"+filepath.Join(cfg.DataDir, "notme.db")+"?_busy_timeout=5000")
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	return &desk{svc: a.Service, pipe: inbox.NewPipeline(a.Service, inbox.Parser{}.ParseMail, slog.New(slog.DiscardHandler)), db: db, log: log}
}

// thread is one ledger message and the stranger's reply to it.
type thread struct {
	Original string // the company's Message-ID, without brackets
	Account  string
	Reply    []byte
	ReplyID  string // the reply's own Message-ID, without brackets
}

// threads registers n ledger messages for n/4 accounts (at least one) and
// writes a reply of about size bytes to each. tag keeps Message-IDs apart
// between tests and runs.
func threads(tb testing.TB, d *desk, tag string, n, size int) []thread {
	tb.Helper()
	accounts := max(n/4, 1)
	b := d.svc.NewLedgerBatch()
	ctx := context.Background()
	out := make([]thread, n)
	for i := range out {
		t := thread{
			Original: fmt.Sprintf("orig-%s-%d@mail.example.com", tag, i),
			Account:  fmt.Sprintf("ACC-%s-%d", tag, i%accounts),
			ReplyID:  fmt.Sprintf("reply-%s-%d@gmial.example", tag, i),
		}
		if err := b.Add(ctx, cases.LedgerMessage{MessageID: t.Original, AccountRef: t.Account,
			Recipient: fmt.Sprintf("taro%d@gmial.example", i), Kind: "registration", Subject: "Set your password"}); err != nil {
			tb.Fatalf("register ledger message: %v", err)
		}
		t.Reply = replyMail(t, i, size)
		out[i] = t
	}
	if err := b.Flush(ctx); err != nil {
		tb.Fatalf("register ledger messages: %v", err)
	}
	return out
}

// replyMail is a stranger's reply quoting the company's mail, a text and
// an HTML part, padded to about size bytes. It comes from the address the
// company wrote to (the ledger's recipient), so it is an exact match and is
// acknowledged (issue 12).
func replyMail(t thread, i, size int) []byte {
	var body strings.Builder
	quote := "> Welcome! Please set your password within 24 hours: https://account.example.com/set?token=abcdef\r\n"
	for body.Len() < size-900 {
		body.WriteString(quote)
	}
	text := "This is not my account. I never signed up, please stop sending me this.\r\n\r\n" + body.String()
	return []byte(fmt.Sprintf("From: Stranger %[1]d <taro%[1]d@gmial.example>\r\n"+
		"To: notme@desk.example.com\r\n"+
		"Subject: Re: Set your password\r\n"+
		"Date: Mon, 2 Feb 2026 10:%02[2]d:00 +0900\r\n"+
		"Message-ID: <%[3]s>\r\n"+
		"In-Reply-To: <%[4]s>\r\n"+
		"References: <%[4]s>\r\n"+
		"MIME-Version: 1.0\r\n"+
		"Content-Type: multipart/alternative; boundary=\"b%[1]d\"\r\n"+
		"\r\n"+
		"--b%[1]d\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"\r\n"+
		"%[5]s\r\n"+
		"--b%[1]d\r\n"+
		"Content-Type: text/html; charset=utf-8\r\n"+
		"\r\n"+
		"<p>This is not my account.</p>\r\n"+
		"--b%[1]d--\r\n", i, i%60, t.ReplyID, t.Original, text))
}

func replies(ts []thread) [][]byte {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		out[i] = t.Reply
	}
	return out
}

// checkReports checks that every reply became exactly one report, on the
// open case of its ledger message's account, and that nothing else did.
func checkReports(tb testing.TB, d *desk, ts []thread) {
	tb.Helper()
	rows, err := d.db.Query(`SELECT m.message_id, c.account_ref FROM mail_messages m
		JOIN reports r ON r.id = m.report_id JOIN cases c ON c.id = r.case_id
		WHERE m.disposition = 'report'`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	got := map[string][]string{}
	for rows.Next() {
		var id, acc string
		if err := rows.Scan(&id, &acc); err != nil {
			tb.Fatal(err)
		}
		got[id] = append(got[id], acc)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	bad := 0
	for _, t := range ts {
		if accs := got[t.ReplyID]; len(accs) != 1 || accs[0] != t.Account {
			if bad++; bad <= 5 {
				tb.Errorf("reply %s became reports on %v, want one on %s", t.ReplyID, accs, t.Account)
			}
		}
	}
	if n := d.count(tb, `SELECT count(*) FROM reports WHERE channel = 'mail'`); n != len(ts) {
		tb.Errorf("mail reports = %d, want %d (one per reply)", n, len(ts))
	}
	if bad > 5 {
		tb.Errorf("... and %d more replies without exactly one report", bad-5)
	}
}

func (d *desk) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := d.db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

func (d *desk) mailReports(tb testing.TB) int {
	return d.count(tb, `SELECT count(*) FROM reports WHERE channel = 'mail'`)
}

func (d *desk) mailbox(tb testing.TB, name string) cases.Mailbox {
	tb.Helper()
	ms, err := d.svc.Mailboxes(context.Background())
	if err != nil {
		tb.Fatalf("Mailboxes() = %v", err)
	}
	for _, m := range ms {
		if m.Name == name {
			return m
		}
	}
	return cases.Mailbox{}
}

// waitFor polls cond until it holds or the time is up: the poller works in
// its own goroutine, and the database is where its work shows.
func waitFor(tb testing.TB, within time.Duration, what string, cond func() bool, explain ...func() string) {
	tb.Helper()
	deadline := time.Now().Add(within)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			var why string
			for _, e := range explain {
				why += e()
			}
			tb.Fatalf("timed out after %v waiting for %s%s", within, what, why)
		}
		<-t.C
	}
}

// running is a poller in a goroutine; stop cancels it and waits for Run.
type running struct {
	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan error
	took     time.Duration
}

func startPoller(tb testing.TB, d *desk, cfg inbox.MailboxConfig) *running {
	tb.Helper()
	p, err := inbox.NewPoller(cfg, d.pipe, d.svc, d.log)
	if err != nil {
		tb.Fatalf("NewPoller(%s) = %v", cfg.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	tb.Cleanup(func() { r.stop(tb) })
	return r
}

func (r *running) stop(tb testing.TB) {
	tb.Helper()
	r.stopOnce.Do(func() {
		start := time.Now()
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				tb.Errorf("Run() = %v after cancel, want nil", err)
			}
		case <-time.After(45 * time.Second):
			tb.Errorf("Run() did not return within 45s of cancel")
		}
		r.took = time.Since(start)
	})
}

// folderCount is the number of messages in a folder, by STATUS.
func folderCount(tb testing.TB, c *imapclient.Client, folder string) int {
	tb.Helper()
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		tb.Fatalf("STATUS %s: %v", folder, err)
	}
	return int(*st.NumMessages)
}

// folderMessageIDs returns how often each Message-ID occurs in a folder,
// and how many of its messages are flagged \Deleted.
func folderMessageIDs(tb testing.TB, c *imapclient.Client, folder string) (ids map[string]int, deleted int) {
	tb.Helper()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		tb.Fatalf("EXAMINE %s: %v", folder, err)
	}
	ids = map[string]int{}
	if sel.NumMessages == 0 {
		return ids, 0
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		tb.Fatalf("FETCH %s: %v", folder, err)
	}
	for _, m := range msgs {
		for _, f := range m.Flags {
			if f == imap.FlagDeleted {
				deleted++
			}
		}
		h, err := mail.ReadMessage(bytes.NewReader(append(m.FindBodySection(section), '\r', '\n')))
		if err != nil {
			tb.Fatalf("read header: %v", err)
		}
		ids[cases.NormalizeMessageID(h.Header.Get("Message-Id"))]++
	}
	return ids, deleted
}

// appendMails APPENDs mails to a folder, pipelining a few at a time.
func appendMails(tb testing.TB, c *imapclient.Client, folder string, mails [][]byte) {
	tb.Helper()
	const inFlight = 32
	var pending []*imapclient.AppendCommand
	flush := func() {
		for _, cmd := range pending {
			if _, err := cmd.Wait(); err != nil {
				tb.Fatalf("APPEND to %s: %v", folder, err)
			}
		}
		pending = pending[:0]
	}
	for _, m := range mails {
		cmd := c.Append(folder, int64(len(m)), nil)
		if _, err := cmd.Write(m); err != nil {
			tb.Fatalf("APPEND to %s: %v", folder, err)
		}
		if err := cmd.Close(); err != nil {
			tb.Fatalf("APPEND to %s: %v", folder, err)
		}
		if pending = append(pending, cmd); len(pending) == inFlight {
			flush()
		}
	}
	flush()
}

// fetchAllAsInbound fetches every message of the selected folder the way
// the poller does, as mail from the mailbox name.
func fetchAllAsInbound(tb testing.TB, c *imapclient.Client, name string, uidValidity uint32) []cases.InboundMail {
	tb.Helper()
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		tb.Fatalf("FETCH: %v", err)
	}
	out := make([]cases.InboundMail, len(msgs))
	for i, m := range msgs {
		out[i] = cases.InboundMail{Mailbox: name, UIDValidity: uidValidity, UID: uint32(m.UID), Raw: m.FindBodySection(section)}
	}
	return out
}
