package inbox

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// errConnClosed says the server or the network ended the connection.
var errConnClosed = errors.New("connection closed")

// mailConn is one logged-in IMAP connection and what the poller learnt of
// the server: its capabilities after login and the names of the folders in
// the server's own hierarchy delimiter.
type mailConn struct {
	c    *imapclient.Client
	dc   *deadlineConn // under c: drops the connection when the server falls silent
	caps imap.CapSet
	// folder and done are the configured folder names with "/" replaced by
	// the server's delimiter.
	folder, done string
}

// dialIMAP connects and logs in. ctx bounds only the connect and the login:
// once it returns, the connection outlives ctx until closed. Each EXISTS
// the server sends (RFC 9051 section 7.4.1: new mail) becomes a
// non-blocking signal on wake; the handler runs on go-imap's reader
// goroutine, so it must neither block nor call the client.
func dialIMAP(ctx context.Context, cfg MailboxConfig, wake chan<- struct{}) (*mailConn, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mailbox address %q: %w", cfg.Addr, err)
	}
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Addr, err)
	}
	// Until the login is done, cancelling ctx closes the connection, which
	// ends any blocked handshake or command.
	raw := conn // the closure must not see conn reassigned below
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	dc := newDeadlineConn(conn, cfg.Timeout)
	conn = dc
	// From the greeting to the folder names, the poller awaits answers.
	defer dc.await()()

	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(m *imapclient.UnilateralDataMailbox) {
				if m.NumMessages == nil {
					return // FLAGS or PERMANENTFLAGS, not new mail
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			},
		},
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}

	var c *imapclient.Client
	switch cfg.Security {
	case SecurityTLS:
		if tlsConfig.NextProtos == nil {
			tlsConfig.NextProtos = []string{"imap"} // ALPN, as imapclient.DialTLS does
		}
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS with %s: %w", cfg.Addr, err)
		}
		c = imapclient.New(tc, opts)
	case SecurityStartTLS:
		opts.TLSConfig = tlsConfig
		// NewStartTLS refuses a PREAUTH greeting (RFC 9051 section 7.1.4)
		// and fails when the server does not offer STARTTLS: nothing is
		// sent in the clear.
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", cfg.Addr, ctxErr(ctx, err))
		}
	case SecurityPlain:
		if !loopbackConn(conn) {
			conn.Close()
			return nil, fmt.Errorf("connect to %s: plain IMAP is allowed only on loopback, and the server is at %s", cfg.Addr, conn.RemoteAddr())
		}
		c = imapclient.New(conn, opts)
	default:
		conn.Close()
		return nil, fmt.Errorf("unknown security %q", cfg.Security)
	}

	mc := &mailConn{c: c, dc: dc}
	if err := mc.login(ctx, cfg.Username, cfg.Password); err != nil {
		c.Close()
		return nil, mc.explain(err)
	}
	if err := mc.resolveFolders(cfg.Folder, cfg.DoneFolder); err != nil {
		c.Close()
		return nil, mc.explain(ctxErr(ctx, err))
	}
	return mc, nil
}

// login authenticates; the password goes into no error or log line.
func (mc *mailConn) login(ctx context.Context, user, password string) error {
	if err := mc.c.WaitGreeting(); err != nil {
		return fmt.Errorf("greeting: %w", ctxErr(ctx, err))
	}
	if mc.c.Caps().Has(imap.CapLoginDisabled) {
		return fmt.Errorf("the server refuses LOGIN on this connection (LOGINDISABLED)")
	}
	if err := mc.c.Login(user, password).Wait(); err != nil {
		return fmt.Errorf("login as %s: %w", user, ctxErr(ctx, err))
	}
	// Dovecot and most servers send the capabilities after login in the
	// tagged OK; otherwise Caps asks for them.
	mc.caps = mc.c.Caps()
	if mc.caps == nil {
		return fmt.Errorf("read capabilities: %w", errConnClosed)
	}
	return nil
}

// ctxErr prefers the context's error: a connection closed because ctx was
// cancelled reports as the cancellation, not as a broken pipe.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func loopbackConn(conn net.Conn) bool {
	a, ok := conn.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// resolveFolders turns the configured names, which use "/" for hierarchy,
// into the server's names: LIST "" "" answers with the delimiter (RFC 9051
// section 6.3.9). Dovecot's Maildir++ uses ".", Gmail and Exchange "/".
func (mc *mailConn) resolveFolders(folder, done string) error {
	list, err := mc.c.List("", "", nil).Collect()
	if err != nil {
		return fmt.Errorf("ask the hierarchy delimiter: %w", err)
	}
	var delim rune
	if len(list) > 0 {
		delim = list[0].Delim
	}
	name := func(s string) string {
		if delim == 0 || delim == '/' || strings.EqualFold(s, "INBOX") {
			return s
		}
		return strings.ReplaceAll(s, "/", string(delim))
	}
	mc.folder, mc.done = name(folder), name(done)
	return nil
}

// ensureDone creates the folder processed mail goes to, unless it exists.
func (mc *mailConn) ensureDone() error {
	defer mc.dc.await()()
	list, err := mc.c.List("", mc.done, nil).Collect()
	if err != nil {
		return fmt.Errorf("look for folder %s: %w", mc.done, err)
	}
	for _, l := range list {
		if l.Mailbox == mc.done && !slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) {
			return nil
		}
	}
	return mc.create(mc.done)
}

func (mc *mailConn) create(name string) error {
	err := mc.c.Create(name, nil).Wait()
	if err != nil && !hasCode(err, imap.ResponseCodeAlreadyExists) {
		return fmt.Errorf("create folder %s: %w", name, err)
	}
	return nil
}

// hasCode reports whether err is a tagged NO or BAD with this response code.
func hasCode(err error, code imap.ResponseCode) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Code == code
}

// isStatusError reports whether err is the server's NO or BAD for one
// command, after which the connection is still usable.
func isStatusError(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie)
}

// selectFolder opens the folder read-write.
func (mc *mailConn) selectFolder() (*imap.SelectData, error) {
	defer mc.dc.await()()
	sel, err := mc.c.Select(mc.folder, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", mc.folder, err)
	}
	return sel, nil
}

// searchAfter returns the UIDs of the messages to take in, ascending: all
// of them when after is 0, else those above after. A message flagged
// \Deleted is left alone: someone decided it should go, or the poller
// itself copied it out on a server it cannot expunge on (see move).
func (mc *mailConn) searchAfter(after imap.UID) ([]imap.UID, error) {
	defer mc.dc.await()()
	crit := imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}
	if after > 0 {
		crit.UID = []imap.UIDSet{{{Start: after + 1, Stop: 0}}}
	}
	data, err := mc.c.UIDSearch(&crit, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", mc.folder, err)
	}
	// "UID n:*" always includes the last message, even when its UID is
	// below n (RFC 9051 section 6.4.9): keep only what is really new.
	uids := slices.DeleteFunc(data.AllUIDs(), func(u imap.UID) bool { return u <= after })
	slices.Sort(uids)
	return uids, nil
}

// canExpunge reports whether the poller can remove exactly its own
// messages from the folder: with MOVE (RFC 6851) or UID EXPUNGE (RFC 4315).
func (mc *mailConn) canExpunge() bool {
	return mc.caps.Has(imap.CapMove) || mc.caps.Has(imap.CapUIDPlus)
}

type sizedUID struct {
	uid  imap.UID
	size int64
}

// sizes asks the RFC822.SIZE of each message, so that batches can be
// bounded in bytes before any body is fetched. A message expunged in the
// meantime is simply missing from the answer.
func (mc *mailConn) sizes(uids []imap.UID) ([]sizedUID, error) {
	defer mc.dc.await()()
	cmd := mc.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true})
	defer cmd.Close()
	out := make([]sizedUID, 0, len(uids))
	for m := cmd.Next(); m != nil; m = cmd.Next() {
		var s sizedUID
		for item := m.Next(); item != nil; item = m.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				s.uid = it.UID
			case imapclient.FetchItemDataRFC822Size:
				s.size = it.Size
			}
		}
		if s.uid != 0 {
			out = append(out, s)
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetch sizes: %w", err)
	}
	slices.SortFunc(out, func(a, b sizedUID) int { return cmp.Compare(a.uid, b.uid) })
	return out, nil
}

type fetchedMail struct {
	uid imap.UID
	raw []byte
}

// fetchBodies fetches whole messages with BODY.PEEK[] (RFC 9051 section
// 6.4.5: PEEK leaves \Seen alone), reading each literal as it streams in
// and draining the whole response: go-imap deadlocks if a FETCH is left
// unread before the next command is waited on. No message is read past
// maxBytes; a longer one is cut there, and the parser's own size limit,
// lower than maxBytes, marks it too large. A NO for some messages (a
// corrupt file on the server, say) returns what did arrive together with
// the error: the others are not held back.
func (mc *mailConn) fetchBodies(uids []imap.UID, maxBytes int64, cut bool) ([]fetchedMail, error) {
	defer mc.dc.await()()
	section := &imap.FetchItemBodySection{Peek: true}
	if cut {
		section.Partial = &imap.SectionPartial{Offset: 0, Size: maxBytes}
	}
	cmd := mc.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	})
	defer cmd.Close()
	out := make([]fetchedMail, 0, len(uids))
	var readErr error
	for m := cmd.Next(); m != nil; m = cmd.Next() {
		var f fetchedMail
		for item := m.Next(); item != nil; item = m.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				f.uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue // NIL: the server cannot give this body now
				}
				n := min(it.Literal.Size(), maxBytes)
				f.raw = make([]byte, n)
				if _, err := io.ReadFull(it.Literal, f.raw); err != nil && readErr == nil {
					readErr = fmt.Errorf("read message body: %w", err)
				}
			}
		}
		if f.uid != 0 && f.raw != nil {
			out = append(out, f)
		}
	}
	err := cmd.Close()
	if err == nil {
		err = readErr
	}
	if err != nil {
		if isStatusError(err) && readErr == nil {
			slices.SortFunc(out, func(a, b fetchedMail) int { return cmp.Compare(a.uid, b.uid) })
			return out, fmt.Errorf("fetch: %w", err)
		}
		return nil, fmt.Errorf("fetch: %w", err) // the connection broke: keep nothing
	}
	slices.SortFunc(out, func(a, b fetchedMail) int { return cmp.Compare(a.uid, b.uid) })
	return out, nil
}

// move takes messages the desk has stored out of the folder.
//
// With MOVE (RFC 6851) that is one atomic command. Without it, go-imap's
// Client.Move would pipeline COPY, STORE \Deleted and EXPUNGE without
// waiting for the COPY, so a failed COPY still deleted the source, and its
// plain EXPUNGE purges every \Deleted message in the folder, not only
// ours. So here each step waits for the one before: COPY (creating the
// folder on TRYCREATE, RFC 9051 section 7.1), then STORE +FLAGS.SILENT
// \Deleted only once the copy exists, then UID EXPUNGE of exactly these
// UIDs (RFC 4315 section 2.1), and with no UIDPLUS no expunge at all: the
// flagged messages stay, and searchAfter skips them.
func (mc *mailConn) move(uids []imap.UID) error {
	defer mc.dc.await()()
	set := imap.UIDSetNum(uids...)
	if mc.caps.Has(imap.CapMove) {
		_, err := mc.c.Move(set, mc.done).Wait()
		if hasCode(err, imap.ResponseCodeTryCreate) {
			if err := mc.create(mc.done); err != nil {
				return err
			}
			_, err = mc.c.Move(set, mc.done).Wait()
		}
		if err != nil {
			return fmt.Errorf("move %d messages to %s: %w", len(uids), mc.done, err)
		}
		return nil
	}

	_, err := mc.c.Copy(set, mc.done).Wait()
	if hasCode(err, imap.ResponseCodeTryCreate) {
		if err := mc.create(mc.done); err != nil {
			return err
		}
		_, err = mc.c.Copy(set, mc.done).Wait()
	}
	if err != nil {
		return fmt.Errorf("copy %d messages to %s: %w", len(uids), mc.done, err)
	}
	store := mc.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil)
	if err := store.Close(); err != nil {
		return fmt.Errorf("flag %d copied messages \\Deleted: %w", len(uids), err)
	}
	if !mc.caps.Has(imap.CapUIDPlus) {
		return nil
	}
	if err := mc.c.UIDExpunge(set).Close(); err != nil {
		return fmt.Errorf("expunge %d copied messages: %w", len(uids), err)
	}
	return nil
}

// idle waits in IDLE (RFC 2177) until new mail, the full check is due,
// ctx or the end of the connection. Every refresh it ends the IDLE, sends a
// NOOP and idles again: RFC 2177 section 3 asks to re-issue IDLE at least
// every 29 minutes, and both answers come under the watchdog's deadline,
// so a server that went silent is noticed then at the latest.
func (mc *mailConn) idle(ctx context.Context, wake <-chan struct{}, fullCheck, refresh time.Duration) error {
	due := time.Now().Add(fullCheck)
	for {
		again, err := mc.idleOnce(ctx, wake, min(refresh, time.Until(due)))
		if err != nil || !again || ctx.Err() != nil || time.Until(due) <= 0 {
			return err
		}
		if err := mc.noop(); err != nil {
			return err
		}
	}
}

// idleOnce is one IDLE of at most d; again says it ended only because d
// was up.
func (mc *mailConn) idleOnce(ctx context.Context, wake <-chan struct{}, d time.Duration) (again bool, err error) {
	done := mc.dc.await()
	cmd, err := mc.c.Idle()
	done()
	if err != nil {
		return false, fmt.Errorf("idle: %w", err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	closed := false
	select {
	case <-wake:
	case <-t.C:
		again = true
	case <-ctx.Done():
	case <-mc.c.Closed():
		closed = true
	}
	defer mc.dc.await()()
	if err := cmd.Close(); err != nil {
		return false, fmt.Errorf("end idle: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return false, fmt.Errorf("idle: %w", err)
	}
	if closed {
		return false, fmt.Errorf("idle: %w", errConnClosed)
	}
	return again, nil
}

// noop asks the server for a sign of life (RFC 9051 section 6.1.2).
func (mc *mailConn) noop() error {
	defer mc.dc.await()()
	if err := mc.c.Noop().Wait(); err != nil {
		return fmt.Errorf("noop: %w", err)
	}
	return nil
}

// explain says when an error came from the server falling silent.
func (mc *mailConn) explain(err error) error {
	if err != nil && mc.dc.silent.Load() {
		return fmt.Errorf("no answer from the server within %v, connection dropped: %w", mc.dc.timeout, err)
	}
	return err
}

// logout says goodbye when the connection still works, then closes it.
func (mc *mailConn) logout() {
	select {
	case <-mc.c.Closed():
	default:
		done := mc.dc.await()
		_ = mc.c.Logout().Wait()
		done()
	}
	_ = mc.c.Close()
}
