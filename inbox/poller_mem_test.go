package inbox_test

// Unit tests of the poller against go-imap's in-process server: the loop,
// MOVE, and the fallbacks for servers without MOVE or UIDPLUS. The server
// is a test double: it is not used to judge removal counts or speed.

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"notme/app/testdb"
	"notme/cases"
	"notme/inbox"
	"notme/inbox/mailparse"
)

const memDone = "notme/processed" // the in-process server's delimiter is "/"

type memServer struct {
	addr string
	user *imapmemserver.User
}

func newMemServer(tb testing.TB, caps ...imap.Cap) *memServer {
	tb.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("desk", "desk-pw")
	if err := u.Create("INBOX", nil); err != nil {
		tb.Fatal(err)
	}
	mem.AddUser(u)
	set := imap.CapSet{}
	for _, c := range caps {
		set[c] = struct{}{}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         set,
		InsecureAuth: true,
		Logger:       discardPrintf{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan struct{})
	go func() { srv.Serve(ln); close(served) }()
	tb.Cleanup(func() { srv.Close(); <-served })
	return &memServer{addr: ln.Addr().String(), user: u}
}

type discardPrintf struct{}

func (discardPrintf) Printf(string, ...any) {}

func (s *memServer) config(name string) inbox.MailboxConfig {
	return inbox.MailboxConfig{Name: name, Addr: s.addr, Security: inbox.SecurityPlain, Username: "desk", Password: "desk-pw",
		PollInterval: 50 * time.Millisecond, FullCheck: 50 * time.Millisecond, BatchSize: 7}
}

func (s *memServer) deliver(tb testing.TB, flags []imap.Flag, mails ...[]byte) {
	tb.Helper()
	for _, m := range mails {
		if _, err := s.user.Append("INBOX", bytes.NewReader(m), &imap.AppendOptions{Flags: flags}); err != nil {
			tb.Fatalf("append: %v", err)
		}
	}
}

func (s *memServer) count(tb testing.TB, folder string) int {
	tb.Helper()
	st, err := s.user.Status(folder, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return -1
	}
	return int(*st.NumMessages)
}

func TestMemPollerMoves(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps []imap.Cap
		// left is what stays in INBOX: without UIDPLUS the poller's own
		// copied messages stay, flagged \Deleted.
		left func(moved int) int
	}{
		{"move", []imap.Cap{imap.CapIMAP4rev1, imap.CapIMAP4rev2}, func(int) int { return 0 }},
		{"copy-uidplus", []imap.Cap{imap.CapIMAP4rev1, imap.CapUIDPlus}, func(int) int { return 0 }},
		{"copy-only", []imap.Cap{imap.CapIMAP4rev1}, func(moved int) int { return moved }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newMemServer(t, tc.caps...)
			d := newDesk(t)
			ts := threads(t, d, "m"+tc.name, 30, 600)
			srv.deliver(t, nil, replies(ts[:20])...)
			startPoller(t, d, srv.config("reports"))
			waitFor(t, 10*time.Second, "20 reports", func() bool { return d.mailReports(t) >= 20 })

			// More mail while the poller waits: IDLE or the next poll.
			srv.deliver(t, nil, replies(ts[20:])...)
			waitFor(t, 10*time.Second, "30 reports", func() bool { return d.mailReports(t) >= 30 })
			waitFor(t, 10*time.Second, "INBOX emptied of our mail", func() bool { return srv.count(t, "INBOX") == tc.left(30) })
			waitFor(t, 10*time.Second, "30 mails in the done folder", func() bool { return srv.count(t, memDone) == 30 })
			checkReports(t, d, ts)

			waitFor(t, 5*time.Second, "the last UID in the mailbox state", func() bool { return d.mailbox(t, "reports").LastUID == 30 })
			if m := d.mailbox(t, "reports"); m.UIDValidity == 0 || m.LastSuccess == nil || m.LastError != "" || m.Waiting != 0 {
				t.Errorf("mailbox health = %+v, want a success with a UIDVALIDITY and nothing waiting", m)
			}
		})
	}
}

// Without UIDPLUS nothing is expunged, and messages flagged \Deleted are
// never taken in, so each round copies only new mail and the stranger's
// \Deleted message stays untouched.
func TestMemPollerWithoutUIDPlusLeavesDeletedMailAlone(t *testing.T) {
	srv := newMemServer(t, imap.CapIMAP4rev1)
	d := newDesk(t)
	ts := threads(t, d, "n", 10, 600)
	srv.deliver(t, []imap.Flag{imap.FlagDeleted}, []byte("Message-ID: <theirs@example.org>\r\nSubject: deleted by someone\r\n\r\nx\r\n"))
	srv.deliver(t, nil, replies(ts[:5])...)
	startPoller(t, d, srv.config("reports"))
	waitFor(t, 10*time.Second, "5 copies in the done folder", func() bool { return srv.count(t, memDone) == 5 })
	srv.deliver(t, nil, replies(ts[5:])...)
	waitFor(t, 10*time.Second, "10 copies in the done folder", func() bool { return srv.count(t, memDone) == 10 })
	waitFor(t, 10*time.Second, "10 reports", func() bool { return d.mailReports(t) >= 10 })
	// Rounds keep running every 50 ms: a few more must copy nothing again.
	m := d.mailbox(t, "reports")
	waitFor(t, 5*time.Second, "two more rounds", func() bool {
		n := d.mailbox(t, "reports")
		return n.UpdatedAt.After(m.UpdatedAt.Add(100 * time.Millisecond))
	})
	if n := srv.count(t, memDone); n != 10 {
		t.Errorf("done folder holds %d messages after more rounds, want 10 (no copy twice)", n)
	}
	if n := srv.count(t, "INBOX"); n != 11 {
		t.Errorf("INBOX holds %d messages, want 11: ours flagged, and the stranger's", n)
	}
	if n := d.count(t, `SELECT count(*) FROM mail_messages`); n != 10 {
		t.Errorf("mail_messages = %d, want 10: the \\Deleted message is not ours to take", n)
	}
	checkReports(t, d, ts)
}

// A message that cannot be parsed is stored with a reason and its problems
// and moved like any other; it holds nothing up.
func TestMemPollerUnparsableMailDoesNotBlock(t *testing.T) {
	srv := newMemServer(t, imap.CapIMAP4rev1, imap.CapIMAP4rev2)
	d := newDesk(t)
	ts := threads(t, d, "u", 6, 600)
	mails := replies(ts[:3])
	mails = append(mails, []byte("\x00\x01 this is not mail\r\nno header at all"))
	mails = append(mails, replies(ts[3:])...)
	srv.deliver(t, nil, mails...)
	startPoller(t, d, srv.config("reports"))
	waitFor(t, 10*time.Second, "everything moved", func() bool { return srv.count(t, memDone) == 7 && srv.count(t, "INBOX") == 0 })
	checkReports(t, d, ts)
	if n := d.count(t, `SELECT count(*) FROM mail_messages WHERE disposition = 'ignored' AND reason <> '' AND problems <> ''`); n != 1 {
		t.Errorf("garbage stored as ignored with a reason and its problems = %d, want 1", n)
	}
}

// When storing fails the batch is not moved: the mail waits in INBOX, the
// failure shows in the mailbox health, and once storage works again every
// mail becomes one report.
func TestMemPollerStorageFailureMovesNothing(t *testing.T) {
	srv := newMemServer(t, imap.CapIMAP4rev1, imap.CapIMAP4rev2)
	d := newDesk(t)
	ts := threads(t, d, "s", 12, 600)
	srv.deliver(t, nil, replies(ts)...)
	diskFull := []string{`CREATE TRIGGER disk_full BEFORE INSERT ON mail_messages BEGIN SELECT RAISE(ABORT, 'disk is full'); END`}
	diskFree := `DROP TRIGGER disk_full`
	if testdb.Postgres() {
		diskFull = []string{
			`CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk is full'; END $$`,
			`CREATE TRIGGER disk_full BEFORE INSERT ON mail_messages FOR EACH ROW EXECUTE FUNCTION disk_full()`,
		}
		diskFree = `DROP TRIGGER disk_full ON mail_messages`
	}
	for _, stmt := range diskFull {
		if _, err := d.db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	startPoller(t, d, srv.config("reports"))
	waitFor(t, 10*time.Second, "the storage failure in the health", func() bool {
		return strings.Contains(d.mailbox(t, "reports").LastError, "disk is full")
	})
	if n, done := srv.count(t, "INBOX"), srv.count(t, memDone); n != len(ts) || done > 0 {
		t.Errorf("after a failed store: INBOX %d, done folder %d; want all %d left in INBOX", n, done, len(ts))
	}
	if n := d.mailReports(t); n != 0 {
		t.Errorf("reports after a failed store = %d, want 0", n)
	}
	if _, err := d.db.Exec(diskFree); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "all moved after the retry", func() bool { return srv.count(t, memDone) == len(ts) })
	checkReports(t, d, ts)
}

func TestNewPollerChecksConfig(t *testing.T) {
	d := newDesk(t)
	good := inbox.MailboxConfig{Name: "reports", Addr: "imap.example.com:993", Username: "desk", Password: "pw"}
	for _, tc := range []struct {
		name   string
		change func(*inbox.MailboxConfig)
		want   string // "" = accepted
	}{
		{"defaults", func(*inbox.MailboxConfig) {}, ""},
		{"starttls", func(c *inbox.MailboxConfig) { c.Security = "STARTTLS" }, ""},
		{"plain on loopback", func(c *inbox.MailboxConfig) { c.Security, c.Addr = "plain", "127.0.0.1:143" }, ""},
		{"plain on localhost", func(c *inbox.MailboxConfig) { c.Security, c.Addr = "plain", "localhost:143" }, ""},
		{"plain on ::1", func(c *inbox.MailboxConfig) { c.Security, c.Addr = "plain", "[::1]:143" }, ""},
		{"plain on LOCALHOST", func(c *inbox.MailboxConfig) { c.Security, c.Addr = "plain", "LOCALHOST:143" }, ""},
		{"plain on a name that merely starts with localhost", func(c *inbox.MailboxConfig) { c.Security, c.Addr = "plain", "localhost.example.com:143" }, "loopback"},
		{"plain elsewhere", func(c *inbox.MailboxConfig) { c.Security = "plain" }, "loopback"},
		{"unknown security", func(c *inbox.MailboxConfig) { c.Security = "ssl3" }, "security"},
		{"no name", func(c *inbox.MailboxConfig) { c.Name = "" }, "name"},
		{"no port", func(c *inbox.MailboxConfig) { c.Addr = "imap.example.com" }, "host:port"},
		{"no username", func(c *inbox.MailboxConfig) { c.Username = "" }, "username"},
		{"done is the folder", func(c *inbox.MailboxConfig) { c.DoneFolder = "inbox" }, "differ"},
		{"done is a named folder", func(c *inbox.MailboxConfig) { c.Folder, c.DoneFolder = "Reports", "Reports" }, "differ"},
		{"largest batch", func(c *inbox.MailboxConfig) { c.BatchSize = inbox.MaxBatchSize }, ""},
		{"one past the largest batch", func(c *inbox.MailboxConfig) { c.BatchSize = inbox.MaxBatchSize + 1 }, "batch size"},
		{"huge batch", func(c *inbox.MailboxConfig) { c.BatchSize = 1 << 20 }, "batch size"},
		{"tiny batch bytes", func(c *inbox.MailboxConfig) { c.BatchBytes = 1000 }, "batch bytes"},
		{"idle refresh at RFC 2177's bound", func(c *inbox.MailboxConfig) { c.IdleRefresh = 29 * time.Minute }, ""},
		{"idle refresh past RFC 2177's bound", func(c *inbox.MailboxConfig) { c.IdleRefresh = 30 * time.Minute }, "idle refresh"},
		{"negative timeout", func(c *inbox.MailboxConfig) { c.Timeout = -time.Second }, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			_, err := inbox.NewPoller(cfg, d.pipe, d.svc, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("NewPoller() = %v, want it accepted", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("NewPoller() = %v, want an error about %q", err, tc.want)
			case tc.want != "" && cases.ErrorCode(err) != cases.EINVALID:
				t.Errorf("NewPoller() error code = %s, want %s", cases.ErrorCode(err), cases.EINVALID)
			}
			if err != nil && strings.Contains(err.Error(), cfg.Password) {
				t.Errorf("NewPoller() error shows the password: %v", err)
			}
		})
	}
}

// A message larger than a batch may hold is read only up to that bound:
// memory stays bounded, the message is stored cut (the parser's own, lower
// limit calls it too large) and moved, and the mail around it goes on.
func TestPollerCutsAnOversizedMessage(t *testing.T) {
	for _, server := range []string{"mem", "dovecot"} {
		t.Run(server, func(t *testing.T) {
			d := newDesk(t)
			d.pipe = inbox.NewPipeline(d.svc, inbox.Parser{Options: mailparse.Options{MaxSize: 256 << 10}}.ParseMail, nil)
			ts := threads(t, d, "o", 3, 600)
			huge := threads(t, d, "oh", 1, 3<<19)[0] // 1.5 MB
			mails := [][]byte{ts[0].Reply, huge.Reply, ts[1].Reply, ts[2].Reply}
			var cfg inbox.MailboxConfig
			var moved func() bool
			if server == "mem" {
				srv := newMemServer(t, imap.CapIMAP4rev1, imap.CapIMAP4rev2)
				srv.deliver(t, nil, mails...)
				cfg = srv.config("reports")
				moved = func() bool { return srv.count(t, memDone) == 4 && srv.count(t, "INBOX") == 0 }
			} else {
				srv := needDovecot(t)
				u := srv.newUser(t)
				u.deliver(t, "", false, mails...)
				cfg = dovecotMailbox(srv, u, "reports", hostFull, inbox.SecurityPlain)
				c := u.client(t)
				moved = func() bool { return folderCount(t, c, "INBOX") == 0 }
			}
			cfg.BatchBytes = 1 << 20
			startPoller(t, d, cfg)
			waitFor(t, 10*time.Second, "everything moved", moved)
			checkReports(t, d, ts)
			var size int
			var reason string
			if err := d.db.QueryRow(`SELECT size, reason FROM mail_messages WHERE message_id = $1`, huge.ReplyID).Scan(&size, &reason); err != nil {
				t.Fatalf("the oversized mail was not stored: %v", err)
			}
			if size != 1<<20 || reason != cases.ReasonTooLarge {
				t.Errorf("oversized mail stored with %d bytes and reason %q, want the first %d bytes and %q", size, reason, 1<<20, cases.ReasonTooLarge)
			}
		})
	}
}
