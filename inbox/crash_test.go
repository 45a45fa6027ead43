package inbox_test

// A desk killed with SIGKILL while it sends acknowledgements and holds its
// mailbox, and started again, as an operator's supervisor restarts it
// (issue 13, "Through a crash, the outbox keeps its promises").

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"notme/app"
	"notme/app/testdb"
	"notme/cases"
)

// longTest skips t unless NOTME_LONG_TESTS=1 (as .ci/run sets) or -run
// names it; app's longTest says the same (docs/testing.md).
func longTest(t *testing.T, takes string) {
	t.Helper()
	if os.Getenv("NOTME_LONG_TESTS") == "1" {
		return
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return
	}
	t.Skipf("long test (%s): runs with NOTME_LONG_TESTS=1, as .ci/run sets, or when -run names it (docs/testing.md)", takes)
}

// crashConfig is one desk's config: its database (SQLite in dir, or the
// PostgreSQL pg), the mailbox, a slow SMTP server, and a mailbox lease far
// longer than the restart may take.
func crashConfig(t *testing.T, dir, pg, tokenKey, mailAddr, user, password, smtpAddr string) string {
	t.Helper()
	db := ""
	if pg != "" {
		db = fmt.Sprintf("database: {url: %q}\n", pg)
	}
	cfg := fmt.Sprintf(`data_dir: %q
log: {level: info, format: json}
http:
  public_url: http://desk.example.com
  insecure_cookies: true
  ops_addr: 127.0.0.1:0
%stokens:
  keys: [{id: 1, secret: %q}]
mail:
  address: notme@desk.example.com
  mailbox_lease: 60s
  ack_domain_per_hour: 1000
  smtp: {addr: %q, security: plain}
  mailboxes:
    - name: reports
      addr: %q
      security: plain
      username: %q
      password: %q
      folder: INBOX
      done_folder: notme/processed
      poll_interval: 30s
`, dir, db, tokenKey, smtpAddr, mailAddr, user, password)
	p := filepath.Join(t.TempDir(), "notme.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// messageID reads the Message-ID field of a delivered mail.
func messageID(t *testing.T, data []byte) string {
	t.Helper()
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(data))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		t.Fatalf("read a delivered mail's header: %v", err)
	}
	return h.Get("Message-ID")
}

// TestKilledDeskComesBackAtOnce kills a desk with SIGKILL while it sends
// acknowledgements (each takes the SMTP server 100 ms) and polls its
// mailbox, and starts it again. The restarted desk knows its predecessor
// is gone (its process no longer runs): the acknowledgements the dead one
// had claimed go within seconds, not after their 10-minute lease, and the
// mailbox is read again at once, not after its 60-second lease. Every
// reporter gets an answer; one sent twice (sent, and not yet recorded, at
// the kill) carries the same Message-ID, so it is one mail in the
// reporter's client. SQLite, and PostgreSQL with NOTME_TEST_POSTGRES.
func TestKilledDeskComesBackAtOnce(t *testing.T) {
	longTest(t, "two desk processes, one killed, about 15 s")
	srv := needDovecot(t)
	u := srv.newUser(t)
	sink := startAckSink(t, ackSinkOptions{buffer: 1000, delay: 100 * time.Millisecond})
	var key [32]byte
	rand.Read(key[:])
	tokenKey := base64.StdEncoding.EncodeToString(key[:])
	dataDir := t.TempDir()
	pg := ""
	if testdb.Postgres() {
		pg = testdb.NewPostgres(t)
	}

	// The test's own hand on the database: it files the reports whose
	// acknowledgements the desk sends, and reads the outcome.
	cfg := app.Defaults()
	cfg.DataDir = dataDir
	if pg != "" {
		cfg.Database.URL = app.Secret(pg)
	}
	cfg.Tokens.Keys = []app.TokenKeyConfig{{ID: 1, Secret: app.Secret(tokenKey)}}
	cfg.HTTP.PublicURL = "http://desk.example.com"
	cfg.Mail.AckDomainPerHour = 1000 // the reporters share a domain: not what this test measures
	hand, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("app.Open = %v", err)
	}
	defer hand.Close()
	ctx := context.Background()
	const reporters = 60
	var mails []cases.InboundMail
	for i := range reporters {
		orig := fmt.Sprintf("crash-%d@mail.example.com", i)
		if _, _, err := hand.Service.RegisterMessage(ctx, cases.LedgerMessage{MessageID: orig,
			AccountRef: fmt.Sprintf("ACC-CRASH-%d", i), Recipient: fmt.Sprintf("owner%d@example.jp", i), Kind: "registration"}); err != nil {
			t.Fatalf("RegisterMessage() = %v", err)
		}
		from := fmt.Sprintf("reporter%d@example.org", i)
		mails = append(mails, cases.InboundMail{Raw: []byte("From: " + from + "\r\n\r\nnot me\r\n"), Parsed: cases.ParsedMail{
			Class: cases.ClassReport, MessageID: fmt.Sprintf("report-%d@example.org", i), From: from, Subject: "Re: Welcome",
			Lang: "en", MessageIDs: []string{orig}, ParserVersion: 1, DMARCPass: true}})
	}
	if _, err := hand.Service.IngestMail(ctx, mails); err != nil {
		t.Fatalf("IngestMail() = %v", err)
	}
	conf := crashConfig(t, dataDir, pg, tokenKey, srv.addr(hostFull, false), u.Name, u.Password, sink.addr)
	leaseOwner := func() string {
		ls, err := hand.Service.MailboxLeases(ctx)
		if err != nil || len(ls) != 1 || !ls[0].LeaseUntil.After(hand.Service.Now()) {
			return ""
		}
		return ls[0].Owner
	}
	var db *sql.DB
	if pg != "" {
		db, err = app.OpenPostgresSQL(pg)
	} else {
		db, err = sql.Open("sqlite3", "file:"+filepath.Join(dataDir, "notme.db")+"?_busy_timeout=5000")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := &desk{svc: hand.Service, db: db}
	acks := func(where string) int { return d.count(t, "SELECT count(*) FROM acks WHERE "+where) }
	// Claims of a process, by the pid its instance id carries.
	claimedBy := func(p *process) string {
		return "state = 'pending' AND lease_instance LIKE '%" + p.instance() + "%'"
	}

	first := startProcess(t, "first", conf)
	var got []ackDelivery
	waitFor(t, 30*time.Second, "the first desk sending acknowledgements and holding the mailbox", func() bool {
		for len(sink.got) > 0 {
			got = append(got, <-sink.got)
		}
		return len(got) >= 5 && strings.Contains(leaseOwner(), first.instance())
	})
	first.kill(t)
	stranded := acks(claimedBy(first))
	t.Logf("killed the first desk after %d acknowledgements; %d claimed by it, unsent", len(got), stranded)

	start := time.Now()
	second := startProcess(t, "second", conf)
	waitFor(t, 10*time.Second, "the restarted desk polling the mailbox (its lease is 60 s)", func() bool {
		return strings.Contains(leaseOwner(), second.instance())
	})
	mailboxBack := time.Since(start)
	waitFor(t, 30*time.Second, "every acknowledgement sent (a claim's lease is 10 min)", func() bool {
		return acks("state = 'sent'") == reporters
	}, func() string {
		return fmt.Sprintf("; %d sent, %d claimed by the dead desk", acks("state = 'sent'"),
			acks(claimedBy(first)))
	})
	t.Logf("the restarted desk polled the mailbox %v and had sent every acknowledgement %v after it started",
		mailboxBack.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	// What the reporters saw: each at least one mail, and every copy of
	// one acknowledgement under one Message-ID.
	for len(sink.got) > 0 {
		got = append(got, <-sink.got)
	}
	ids := map[string]map[string]bool{}
	for _, dl := range got {
		for _, to := range dl.to {
			if ids[to] == nil {
				ids[to] = map[string]bool{}
			}
			ids[to][messageID(t, dl.data)] = true
		}
	}
	if len(ids) != reporters {
		t.Errorf("%d reporters received an acknowledgement, want %d", len(ids), reporters)
	}
	for to, set := range ids {
		if len(set) != 1 {
			t.Errorf("%s received acknowledgements under %d Message-IDs %v, want one: a resend must be the same mail", to, len(set), set)
		}
	}
	t.Logf("%d mails for %d reporters: %d sent again after the kill, each under its first Message-ID", len(got), len(ids), len(got)-len(ids))
	second.kill(t)
}
