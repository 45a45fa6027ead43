package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"notme/cases"
	"notme/inbox"
)

// The default done folder, notme/processed, in Dovecot's Maildir++
// hierarchy, whose delimiter is ".".
const doneIMAP = "notme.processed"

func dovecotMailbox(d *dovecotServer, u *mailUser, name, host, security string) inbox.MailboxConfig {
	return inbox.MailboxConfig{
		Name: name, Addr: d.addr(host, security == inbox.SecurityTLS), Security: security,
		Username: u.Name, Password: u.Password, TLSConfig: d.tlsConfig(),
	}
}

// checkAllMoved checks that the folder read is empty and that every reply
// sits in the done folder (once, unless a crash made the server's own MOVE
// copy twice).
func checkAllMoved(tb testing.TB, u *mailUser, ts []thread, allowCopies bool) {
	tb.Helper()
	c := u.client(tb)
	if n := folderCount(tb, c, "INBOX"); n != 0 {
		tb.Errorf("INBOX holds %d messages after the poller, want 0", n)
	}
	ids, _ := folderMessageIDs(tb, c, doneIMAP)
	missing := 0
	for _, t := range ts {
		n := ids[t.ReplyID]
		if n == 0 || n > 1 && !allowCopies {
			if missing++; missing <= 5 {
				tb.Errorf("reply %s is %d times in %s, want once", t.ReplyID, n, doneIMAP)
			}
		}
	}
	if missing > 5 {
		tb.Errorf("... and %d more replies not moved once", missing-5)
	}
}

// A thousand replies appended while the poller runs become a thousand
// reports, each on its account's case, and all leave INBOX.
func TestDovecotThousandRepliesBecomeReports(t *testing.T) {
	srv := needDovecot(t)
	u := srv.newUser(t)
	d := newDesk(t)
	ts := threads(t, d, "k", 1000, 2048)

	startPoller(t, d, dovecotMailbox(srv, u, "reports", hostFull, inbox.SecurityTLS))
	start := time.Now()
	appendMails(t, u.client(t), "INBOX", replies(ts))
	waitFor(t, 60*time.Second, "1,000 mail reports", func() bool { return d.mailReports(t) >= len(ts) })
	t.Logf("1,000 APPENDs to reports: %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "an empty INBOX", func() bool { return folderCount(t, u.client(t), "INBOX") == 0 })

	checkReports(t, d, ts)
	checkAllMoved(t, u, ts, false)
	if n := d.count(t, `SELECT count(DISTINCT case_id) FROM reports WHERE channel = 'mail'`); n != 250 {
		t.Errorf("reports are on %d cases, want 250 (one per account)", n)
	}
	if n := d.count(t, `SELECT count(*) FROM mail_messages`); n != len(ts) {
		t.Errorf("mail_messages = %d, want %d", n, len(ts))
	}
	m := d.mailbox(t, "reports")
	if m.LastSuccess == nil || m.LastError != "" || m.UIDValidity == 0 || m.LastUID < uint32(len(ts)) {
		t.Errorf("mailbox health = %+v, want a success with UIDVALIDITY and last UID >= %d", m, len(ts))
	}
}

// Cancelling Run finishes the batch in hand, stored and moved; a new
// poller then takes in the rest. Nothing is lost or doubled.
func TestDovecotRestartLosesNothing(t *testing.T) {
	srv := needDovecot(t)
	u := srv.newUser(t)
	d := newDesk(t)
	ts := threads(t, d, "r", 1500, 2048)
	u.deliver(t, "", false, replies(ts)...)
	cfg := dovecotMailbox(srv, u, "reports", hostFull, inbox.SecurityStartTLS)

	first := startPoller(t, d, cfg)
	waitFor(t, 60*time.Second, "the first reports", func() bool { return d.mailReports(t) >= 200 })
	first.stop(t)
	stored := d.mailReports(t)
	c := u.client(t)
	left, moved := folderCount(t, c, "INBOX"), folderCount(t, c, doneIMAP)
	t.Logf("stopped after %d of %d in %v", stored, len(ts), first.took.Round(time.Millisecond))
	if stored >= len(ts) {
		t.Fatalf("the poller finished all %d before the stop; the test proves nothing", len(ts))
	}
	// A graceful stop leaves nothing stored but unmoved.
	if moved != stored || left != len(ts)-stored {
		t.Errorf("after a graceful stop: %d reports, %d moved, %d left in INBOX; want every stored mail moved and only the rest left", stored, moved, left)
	}

	startPoller(t, d, cfg)
	waitFor(t, 180*time.Second, "all reports", func() bool { return d.mailReports(t) >= len(ts) })
	waitFor(t, 10*time.Second, "an empty INBOX", func() bool { return folderCount(t, c, "INBOX") == 0 })
	checkReports(t, d, ts)
	checkAllMoved(t, u, ts, false)
	if n := d.count(t, `SELECT count(*) FROM mail_messages`); n != len(ts) {
		t.Errorf("mail_messages = %d, want %d: a graceful stop leaves nothing to fetch twice", n, len(ts))
	}
}

// Dovecot killed with SIGKILL in the middle of the work, then started again
// on the same folders and ports: the poller reconnects, and every reply is
// one report and out of INBOX.
func TestDovecotKilledServerLosesNothing(t *testing.T) {
	srv := needDovecot(t)
	u := srv.newUser(t)
	d := newDesk(t)
	ts := threads(t, d, "x", 2000, 2048)
	u.deliver(t, "", false, replies(ts)...)

	startPoller(t, d, dovecotMailbox(srv, u, "reports", hostFull, inbox.SecurityPlain))
	waitFor(t, 60*time.Second, "the first reports", func() bool { return d.mailReports(t) >= 300 })
	srv.kill()
	at := d.mailReports(t)
	t.Logf("killed Dovecot at %d of %d reports", at, len(ts))
	waitFor(t, 10*time.Second, "the failure in the mailbox health", func() bool { return d.mailbox(t, "reports").LastError != "" })
	srv.restart(t)

	waitFor(t, 240*time.Second, "all reports", func() bool { return d.mailReports(t) >= len(ts) })
	waitFor(t, 10*time.Second, "an empty INBOX", func() bool { return folderCount(t, u.client(t), "INBOX") == 0 })
	waitFor(t, 10*time.Second, "a successful round", func() bool { return d.mailbox(t, "reports").LastError == "" })
	if at >= len(ts) {
		t.Fatalf("the poller finished all %d before the kill; the test proves nothing", len(ts))
	}
	checkReports(t, d, ts)
	t.Logf("mail stored: %d rows for %d replies", d.count(t, `SELECT count(*) FROM mail_messages`), len(ts))
	// A MOVE cut by SIGKILL can leave the copy made and the original not
	// yet expunged: then the poller moves the original again.
	checkAllMoved(t, u, ts, true)
}

// With IDLE, a mail APPENDed while the poller waits is a case within two
// seconds (Dovecot itself holds IDLE news back for half a second). Polling
// and full checks are set to an hour, so only IDLE can explain it.
func TestDovecotIdleNewMailIsACaseWithinTwoSeconds(t *testing.T) {
	srv := needDovecot(t)
	u := srv.newUser(t)
	d := newDesk(t)
	ts := threads(t, d, "i", 3, 2048)
	cfg := dovecotMailbox(srv, u, "reports", hostFull, inbox.SecurityTLS)
	cfg.PollInterval, cfg.FullCheck = time.Hour, time.Hour
	startPoller(t, d, cfg)
	waitFor(t, 10*time.Second, "the first round", func() bool { return d.mailbox(t, "reports").LastSuccess != nil })

	c := u.client(t)
	for i, th := range ts {
		start := time.Now()
		appendMails(t, c, "INBOX", [][]byte{th.Reply})
		waitFor(t, 2*time.Second-time.Since(start), "the reply to become a case", func() bool { return d.mailReports(t) == i+1 })
		t.Logf("mail %d: APPEND to case in %v", i+1, time.Since(start).Round(time.Millisecond))
	}
	checkReports(t, d, ts)
	checkAllMoved(t, u, ts, false)
}

// A new UIDVALIDITY makes the old UIDs meaningless. Mail stored under the
// old one but never moved (a crash between commit and move) is seen again
// under new UIDs: the Message-ID keeps its report single, and the rest is
// taken in as usual.
func TestDovecotUIDValidityChange(t *testing.T) {
	srv := needDovecot(t)
	u := srv.newUser(t)
	d := newDesk(t)
	ts := threads(t, d, "v", 60, 2048)
	u.deliver(t, "", false, replies(ts[:30])...)

	// What a poller that crashed after its commit leaves behind: stored
	// under the old UIDVALIDITY, still in INBOX.
	c := u.client(t)
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	stored := fetchAllAsInbound(t, c, "reports:INBOX", sel.UIDValidity)
	if _, err := d.pipe.Ingest(context.Background(), stored); err != nil {
		t.Fatalf("Ingest = %v", err)
	}
	if err := d.svc.RecordMailboxRound(context.Background(), "reports", cases.MailboxRound{UIDValidity: sel.UIDValidity, LastUID: 30}); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()

	newValidity := changeUIDValidity(t, u, sel.UIDValidity)
	u.deliver(t, "", false, replies(ts[30:])...)

	startPoller(t, d, dovecotMailbox(srv, u, "reports", hostFull, inbox.SecurityPlain))
	waitFor(t, 30*time.Second, "all reports", func() bool { return d.mailReports(t) >= len(ts) })
	waitFor(t, 10*time.Second, "an empty INBOX", func() bool { return folderCount(t, u.client(t), "INBOX") == 0 })
	checkReports(t, d, ts)
	checkAllMoved(t, u, ts, false)
	if n := d.count(t, `SELECT count(*) FROM mail_messages WHERE reason = 'duplicate'`); n != 30 {
		t.Errorf("mail seen again under the new UIDVALIDITY: %d stored as duplicates, want 30", n)
	}
	waitFor(t, 5*time.Second, "the new UIDVALIDITY in the mailbox state", func() bool {
		return d.mailbox(t, "reports").UIDValidity == newValidity
	})
}

// changeUIDValidity gives INBOX a new UIDVALIDITY the way a restored backup
// or a rebuilt index does: a new dovecot-uidlist, without the index.
func changeUIDValidity(tb testing.TB, u *mailUser, old uint32) uint32 {
	tb.Helper()
	dir := filepath.Join(u.Home, "Maildir")
	b, err := os.ReadFile(filepath.Join(dir, "dovecot-uidlist"))
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	fields := strings.Fields(lines[0])
	newValidity := old + 1000
	for i, f := range fields {
		if strings.HasPrefix(f, "V") {
			fields[i] = "V" + strconv.FormatUint(uint64(newValidity), 10)
		}
	}
	lines[0] = strings.Join(fields, " ")
	p := filepath.Join(dir, "dovecot-uidlist")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		tb.Fatal(err)
	}
	u.srv.chown(tb, p)
	matches, _ := filepath.Glob(filepath.Join(dir, "dovecot.index*"))
	for _, m := range matches {
		os.Remove(m)
	}
	return newValidity
}

// A wrong password shows in that mailbox's health, and the desk's other
// mailbox keeps working.
func TestDovecotWrongPasswordDoesNotStopOthers(t *testing.T) {
	srv := needDovecot(t)
	good, bad := srv.newUser(t), srv.newUser(t)
	d := newDesk(t)
	ts := threads(t, d, "w", 20, 2048)
	good.deliver(t, "", false, replies(ts)...)

	wrong := dovecotMailbox(srv, bad, "abuse", hostFull, inbox.SecurityStartTLS)
	wrong.Password = "not-the-password"
	startPoller(t, d, wrong)
	startPoller(t, d, dovecotMailbox(srv, good, "reports", hostFull, inbox.SecurityTLS))

	waitFor(t, 30*time.Second, "the good mailbox's reports", func() bool { return d.mailReports(t) >= len(ts) })
	waitFor(t, 15*time.Second, "the login failure in the health", func() bool { return d.mailbox(t, "abuse").LastError != "" })
	m := d.mailbox(t, "abuse")
	if !strings.Contains(m.LastError, "login") || m.LastSuccess != nil {
		t.Errorf("health of the mailbox with a wrong password = %+v, want a login error and no success", m)
	}
	if strings.Contains(m.LastError, "not-the-password") {
		t.Errorf("the recorded error shows the password: %q", m.LastError)
	}
	checkReports(t, d, ts)
	checkAllMoved(t, good, ts, false)
	if h := d.mailbox(t, "reports"); h.LastError != "" || h.LastSuccess == nil {
		t.Errorf("health of the good mailbox = %+v, want a success", h)
	}
}

// Without MOVE the poller copies, checks the copy, flags \Deleted and then
// UID EXPUNGEs exactly its own messages; without UIDPLUS it expunges
// nothing at all. Neither purges a stranger's \Deleted message, and a done
// folder deleted under the poller is created again (TRYCREATE).
func TestDovecotWithoutMove(t *testing.T) {
	for _, tc := range []struct {
		name     string
		host     string
		expunges bool
	}{
		{"uidplus", hostNoMove, true},
		{"neither", hostMinimal, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := needDovecot(t)
			u := srv.newUser(t)
			d := newDesk(t)
			ts := threads(t, d, "f"+tc.name, 40, 2048)
			u.deliver(t, "", false, replies(ts[:20])...)
			// A message someone else flagged \Deleted and has not expunged.
			u.deliver(t, "", true, []byte("Message-ID: <keep-me@example.org>\r\nSubject: not ours\r\n\r\nhello\r\n"))

			cfg := dovecotMailbox(srv, u, "reports", tc.host, inbox.SecurityPlain)
			cfg.PollInterval = 100 * time.Millisecond
			startPoller(t, d, cfg)
			waitFor(t, 30*time.Second, "the first reports", func() bool { return d.mailReports(t) >= 20 })

			c := u.client(t)
			if err := c.Delete(doneIMAP).Wait(); err != nil {
				t.Fatalf("DELETE %s: %v", doneIMAP, err)
			}
			appendMails(t, c, "INBOX", replies(ts[20:]))
			waitFor(t, 30*time.Second, "all reports", func() bool { return d.mailReports(t) >= len(ts) })
			// STORE \Deleted and UID EXPUNGE are two commands, and the
			// poller moves committed mail in the background: wait for both.
			waitFor(t, 10*time.Second, "nothing but \\Deleted mail in INBOX, and ours expunged", func() bool {
				if undeleted(t, c, "INBOX") != 0 {
					return false
				}
				ids, _ := folderMessageIDs(t, c, "INBOX")
				return !tc.expunges || sum(ids) == 1
			})
			checkReports(t, d, ts)

			// The poller takes in no message flagged \Deleted and expunges
			// only its own: the stranger's stays where it was.
			ids, deleted := folderMessageIDs(t, c, "INBOX")
			if ids["keep-me@example.org"] != 1 {
				t.Errorf("the stranger's \\Deleted message is gone from INBOX: %v", ids)
			}
			want := 1
			if !tc.expunges {
				want += len(ts) // ours stay too, flagged: there is no safe way to expunge them
			}
			if n := sum(ids); n != want || deleted != want {
				t.Errorf("INBOX holds %d messages, %d flagged \\Deleted; want %d, all flagged", n, deleted, want)
			}
			if n := d.count(t, `SELECT count(*) FROM mail_messages WHERE message_id = 'keep-me@example.org'`); n != 0 {
				t.Errorf("the stranger's \\Deleted message was taken in %d times, want never", n)
			}
			done, _ := folderMessageIDs(t, c, doneIMAP)
			for _, th := range ts[20:] {
				if done[th.ReplyID] != 1 {
					t.Errorf("reply %s is %d times in the recreated %s, want once", th.ReplyID, done[th.ReplyID], doneIMAP)
				}
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// undeleted counts the messages of a folder not flagged \Deleted.
func undeleted(tb testing.TB, c *imapclient.Client, folder string) int {
	tb.Helper()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		tb.Fatalf("EXAMINE %s: %v", folder, err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		tb.Fatalf("SEARCH UNDELETED in %s: %v", folder, err)
	}
	return len(data.AllUIDs())
}
