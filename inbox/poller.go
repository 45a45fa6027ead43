package inbox

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"notme/cases"
	"notme/internal/backoff"
	"notme/internal/loopback"
	"notme/internal/wake"
)

// Connection security of a mailbox.
const (
	SecurityTLS      = "tls"      // implicit TLS (RFC 8314), usually port 993
	SecurityStartTLS = "starttls" // STARTTLS (RFC 9051 section 6.2.1), usually port 143
	SecurityPlain    = "plain"    // no TLS: only for a server on loopback
)

// Defaults of MailboxConfig.
const (
	DefaultFolder       = "INBOX"
	DefaultDoneFolder   = "notme/processed"
	DefaultPollInterval = 30 * time.Second
	DefaultFullCheck    = 5 * time.Minute
	DefaultBatchSize    = 100
	DefaultBatchBytes   = 32 << 20
	// DefaultIdleRefresh re-issues IDLE below the idle timeouts of common
	// NATs and firewalls (often 5 minutes), far below RFC 2177's 29.
	DefaultIdleRefresh = 4 * time.Minute
	DefaultTimeout     = time.Minute
)

// Limits of MailboxConfig; app's configuration checks ask these.
const (
	// MaxIdleRefresh: RFC 2177 section 3 lets a server drop a client idle
	// for 30 minutes.
	MaxIdleRefresh = 29 * time.Minute
	// MaxBatchSize bounds the messages of one fetch, transaction and MOVE.
	MaxBatchSize = 1000
)

// reconnectRetry is the back-off between failed connections.
var reconnectRetry = backoff.Policy{Min: time.Second, Max: 2 * time.Minute}

const (
	// shutdownGrace bounds how long a cancelled poller waits for the batch
	// in hand before it closes the connection under it; what was stored
	// but not yet moved is recognised when it is fetched again.
	shutdownGrace = 30 * time.Second
)

// MailboxConfig is one IMAP mailbox the desk reads reports from. Folder
// names use "/" for hierarchy whatever the server's own delimiter.
type MailboxConfig struct {
	Name         string        // unique label, the key of the mailbox's state in the database
	Addr         string        // host:port
	Security     string        // "tls" (default), "starttls", or "plain" (loopback only)
	Username     string        //
	Password     string        // never logged
	Folder       string        // where reports arrive; default "INBOX"
	DoneFolder   string        // where processed mail goes; default "notme/processed", created if missing
	PollInterval time.Duration // between polls when the server lacks IDLE; default 30s
	FullCheck    time.Duration // between full checks even with IDLE; default 5m
	BatchSize    int           // messages per fetch, transaction and move; default 100
	BatchBytes   int64         // bound of a batch's RFC822.SIZE total; default 32 MB; also the most read of one message
	IdleRefresh  time.Duration // IDLE is ended, a NOOP sent and IDLE re-issued this often; default 4m, at most 29m
	Timeout      time.Duration // the most silence while awaiting the server (and per write) before dropping the connection; default 1m
	Instance     string        // this desk instance among those sharing the database; default InstanceID()
	LeaseTTL     time.Duration // the hold on the mailbox lasts this long unless renewed; default 15s
	TLSConfig    *tls.Config   // optional: for example a private CA's pool
}

// LogValue leaves the password out of every log line.
func (c MailboxConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name), slog.String("addr", c.Addr), slog.String("security", c.Security),
		slog.String("username", c.Username), slog.String("folder", c.Folder), slog.String("done_folder", c.DoneFolder),
	)
}

// MailboxDefaults is what a mailbox configured with only its name, address
// and account gets; app's configuration fills in the same.
func MailboxDefaults() MailboxConfig { return MailboxConfig{}.withDefaults() }

func (c MailboxConfig) withDefaults() MailboxConfig {
	c.Security = strings.ToLower(strings.TrimSpace(c.Security))
	if c.Security == "" {
		c.Security = SecurityTLS
	}
	c.Folder = cmp.Or(c.Folder, DefaultFolder)
	c.DoneFolder = cmp.Or(c.DoneFolder, DefaultDoneFolder)
	c.PollInterval = cmp.Or(c.PollInterval, DefaultPollInterval)
	c.FullCheck = cmp.Or(c.FullCheck, DefaultFullCheck)
	c.BatchSize = cmp.Or(c.BatchSize, DefaultBatchSize)
	c.BatchBytes = cmp.Or(c.BatchBytes, DefaultBatchBytes)
	c.IdleRefresh = cmp.Or(c.IdleRefresh, DefaultIdleRefresh)
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	c.Instance = cmp.Or(c.Instance, InstanceID())
	c.LeaseTTL = cmp.Or(c.LeaseTTL, DefaultLeaseTTL)
	return c
}

func (c MailboxConfig) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Name == "" {
		bad("name is required")
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" {
		bad("addr %q must be host:port", c.Addr)
	}
	switch c.Security {
	case SecurityTLS, SecurityStartTLS:
	case SecurityPlain:
		if err == nil && !loopback.Host(host) {
			bad("security plain is allowed only for a server on loopback, not %s", host)
		}
	default:
		bad("security %q must be tls, starttls or plain", c.Security)
	}
	if c.Username == "" {
		bad("username is required")
	}
	if sameFolder(c.Folder, c.DoneFolder) {
		bad("done folder %q must differ from the folder read", c.DoneFolder)
	}
	if c.PollInterval < 0 || c.FullCheck < 0 {
		bad("poll interval and full check must be positive")
	}
	if c.IdleRefresh < 0 || c.IdleRefresh > MaxIdleRefresh {
		bad("idle refresh %v must be positive and at most %v (RFC 2177)", c.IdleRefresh, MaxIdleRefresh)
	}
	if c.LeaseTTL < 0 || c.LeaseTTL > 0 && c.LeaseTTL < time.Second {
		bad("lease ttl %v must be at least 1s", c.LeaseTTL)
	}
	if c.Timeout < 0 {
		bad("timeout %v must be positive", c.Timeout)
	}
	if c.BatchSize < 0 || c.BatchSize > MaxBatchSize {
		bad("batch size %d must be 1 to %d", c.BatchSize, MaxBatchSize)
	}
	if c.BatchBytes < 0 || c.BatchBytes > 0 && c.BatchBytes < 1<<20 {
		bad("batch bytes %d must be at least 1 MB", c.BatchBytes)
	}
	if len(errs) > 0 {
		return cases.Errorf(cases.EINVALID, "mailbox %s: %v", c.Name, errors.Join(errs...))
	}
	return nil
}

// sameFolder compares folder names; INBOX is case-insensitive (RFC 9051
// section 5.1).
func sameFolder(a, b string) bool {
	if strings.EqualFold(a, "INBOX") || strings.EqualFold(b, "INBOX") {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// Poller reads one mailbox: it takes each message in through the Pipeline
// and then moves it out of the folder, so the folder holds only mail not
// yet taken in. One Poller serves one mailbox with one Run at a time; the
// desk runs one per configured mailbox, so a failing mailbox stops none of
// the others.
//
// Storing comes first and moving second, so a crash between them leaves a
// stored message in the folder; fetched again, it is recognised by mailbox,
// UIDVALIDITY and UID (or, after a UIDVALIDITY change, by its Message-ID)
// and only moved. Nothing is lost and no report is doubled.
type Poller struct {
	cfg  MailboxConfig
	pipe *Pipeline
	svc  *cases.Service
	log  *slog.Logger
	wake chan struct{}
	// source names the folder in the keys of stored mail: a UID means
	// something only with its folder and UIDVALIDITY (RFC 9051 section
	// 2.3.1.1), so the label alone would let another folder's message pass
	// for one already stored if the config pointed the label elsewhere.
	source string
	// uidValidity is the last UIDVALIDITY seen, to notice a change.
	uidValidity uint32
	// lease makes this the one desk instance polling the mailbox.
	lease *mailboxLease
	// batch is the batch size in use, kept across rounds and sessions
	// (batchSize).
	batch batchSize
}

// NewPoller checks cfg, fills its defaults and returns a poller for it.
func NewPoller(cfg MailboxConfig, pipe *Pipeline, svc *cases.Service, log *slog.Logger) (*Poller, error) {
	if pipe == nil || svc == nil {
		return nil, errors.New("inbox: NewPoller needs a pipeline and a service")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("mailbox", cfg.Name)
	return &Poller{
		cfg:    cfg,
		pipe:   pipe,
		svc:    svc,
		log:    log,
		wake:   make(chan struct{}, 1),
		source: cfg.Name + ":" + cfg.Folder,
		lease:  &mailboxLease{svc: svc, name: cfg.Name, owner: cfg.Instance, ttl: cfg.LeaseTTL, log: log},
	}, nil
}

// Run polls the mailbox until ctx is done, then returns nil. It reconnects
// after any failure with the desk's back-off (reconnectRetry: 1 s doubling
// to 2 min, with jitter), and records each round's health, failures included, with
// RecordMailboxRound. When ctx is cancelled it finishes the batch in hand,
// stored and moved, and logs out.
//
// It polls only while it holds the mailbox's lease (several desk instances
// may share the database): it waits for the lease, renews it while polling,
// stops before the next batch once it is lost, and gives it up on return.
// storageRetry bounds the wait after a round the database refused for
// want of space (cases.EUNAVAILABLE).
const storageRetry = 5 * time.Second

func (p *Poller) Run(ctx context.Context) error {
	defer p.lease.release(ctx)
	failures := 0
	for {
		if !p.lease.await(ctx) {
			return nil
		}
		p.loadState(ctx)
		progressed, err := p.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errLeaseLost) {
			p.log.Info("mailbox handed over; waiting for its lease")
			continue
		}
		if progressed {
			failures = 0
		}
		failures++
		wait := reconnectRetry.Delay(failures)
		if cases.ErrorCode(err) == cases.EUNAVAILABLE {
			// The disk is full: a try costs one small transaction, and
			// space that comes back should be used at once.
			wait = min(wait, storageRetry)
		}
		p.log.Warn("mailbox failed; will reconnect", "err", err, "retry_in", wait.Round(time.Millisecond))
		p.record(ctx, cases.MailboxRound{Err: err})
		if !wake.Sleep(ctx, wait) {
			return nil
		}
	}
}

// loadState reads the UIDVALIDITY stored by an earlier run.
func (p *Poller) loadState(ctx context.Context) {
	ms, err := p.svc.Mailboxes(ctx)
	if err != nil {
		p.log.Debug("read mailbox state", "err", err)
		return
	}
	for _, m := range ms {
		if m.Name == p.cfg.Name {
			p.uidValidity = m.UIDValidity
		}
	}
}

// record saves a round's health; it outlives ctx so the last round of a
// shutdown is kept too.
func (p *Poller) record(ctx context.Context, r cases.MailboxRound) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.svc.RecordMailboxRound(ctx, p.cfg.Name, r); err != nil {
		p.log.Error("record mailbox health", "err", err)
	}
}

// session is one connection: rounds, and between them IDLE or the poll
// interval, until an error or ctx. progressed says whether a round
// succeeded, which resets the back-off.
func (p *Poller) session(ctx context.Context) (progressed bool, err error) {
	kctx, stopKeep := context.WithCancel(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		p.lease.keep(kctx, p.poke)
	}()
	defer func() {
		stopKeep()
		<-kept
	}()
	mc, err := dialIMAP(ctx, p.cfg, p.wake)
	if err != nil {
		return false, err
	}
	defer func() { err = mc.explain(err) }()
	// Once ctx is done the batch in hand may finish, but not forever.
	ended := make(chan struct{})
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.NewTimer(shutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			mc.c.Close()
		case <-ended:
		}
	})
	defer func() {
		stopGrace()
		close(ended)
		mc.logout()
	}()

	p.log.Info("mailbox connected", "idle", mc.caps.Has(imap.CapIdle), "move", mc.caps.Has(imap.CapMove),
		"uidplus", mc.caps.Has(imap.CapUIDPlus), "folder", mc.folder, "done_folder", mc.done)
	if !mc.canExpunge() {
		p.log.Warn("server has neither MOVE nor UIDPLUS: processed mail is copied and stays in the folder flagged \\Deleted")
	}
	if err := mc.ensureDone(); err != nil {
		return false, err
	}
	for {
		select {
		case <-p.wake: // this round sees whatever that was about
		default:
		}
		if !p.lease.held() {
			return progressed, errLeaseLost
		}
		r, err := p.round(ctx, mc)
		if err != nil {
			return progressed, err
		}
		progressed = true
		p.record(ctx, cases.MailboxRound{UIDValidity: r.uidValidity, LastUID: r.lastUID, Waiting: int64(r.waiting), Err: r.problem})
		if r.problem != nil {
			p.log.Warn("mailbox round incomplete", "err", r.problem, "waiting", r.waiting)
		}
		if ctx.Err() != nil {
			return true, nil
		}
		if mc.caps.Has(imap.CapIdle) {
			err = mc.idle(ctx, p.wake, p.cfg.FullCheck, p.cfg.IdleRefresh)
		} else {
			err = p.sleep(ctx, mc)
		}
		if ctx.Err() != nil {
			return true, nil
		}
		if err != nil {
			return true, err
		}
	}
}

// sleep waits for the next poll on a server without IDLE.
func (p *Poller) sleep(ctx context.Context, mc *mailConn) error {
	t := time.NewTimer(p.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return nil
	case <-p.wake:
		return nil
	case <-mc.c.Closed():
		return errConnClosed
	}
}

// poke wakes the poller out of IDLE or its wait; it never blocks.
func (p *Poller) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// roundResult is what one round did.
type roundResult struct {
	uidValidity uint32
	lastUID     uint32
	fetched     int
	reports     int
	ignored     int
	again       int
	moved       int
	waiting     int   // messages found but not taken in and moved
	problem     error // a failure that spared the connection: some mail waits
}

// round takes in everything in the folder: first all it holds, then, until
// nothing more came, what arrived meanwhile. The folder holds only mail
// not yet processed, because processed mail is moved out; a message that
// could not be moved is simply fetched again next round.
func (p *Poller) round(ctx context.Context, mc *mailConn) (roundResult, error) {
	start := time.Now()
	sel, err := mc.selectFolder()
	if err != nil {
		return roundResult{}, err
	}
	r := roundResult{uidValidity: sel.UIDValidity}
	if p.uidValidity != 0 && p.uidValidity != sel.UIDValidity {
		// RFC 9051 section 2.3.1.1: the old UIDs mean nothing now. The
		// folder still holds exactly the mail not yet moved out; what of it
		// was stored before is recognised by its Message-ID.
		p.log.Warn("UIDVALIDITY changed; taking in what the folder holds", "old", p.uidValidity, "new", sel.UIDValidity)
	}
	p.uidValidity = sel.UIDValidity
	if sel.NumMessages == 0 {
		return r, nil
	}
	var after imap.UID
	for {
		uids, err := mc.searchAfter(after)
		if err != nil {
			return r, err
		}
		if len(uids) == 0 {
			break
		}
		waiting := r.waiting
		err = p.takeIn(ctx, mc, &r, uids)
		if errors.Is(err, errSmallerBatches) && !errors.Is(err, errLeaseLost) && ctx.Err() == nil {
			// What was stored is moved; the rest is searched again from
			// the same point and taken in smaller batches, now.
			p.log.Warn("a batch was not stored; taking the rest in smaller batches",
				"err", err, "batch_size", p.batch.count, "batch_bytes", p.batch.bytes)
			r.waiting = waiting
			continue
		}
		if err != nil {
			return r, err
		}
		after = uids[len(uids)-1]
		if ctx.Err() != nil {
			break
		}
	}
	if r.fetched > 0 || r.problem != nil {
		p.log.Info("mailbox round", "fetched", r.fetched, "reports", r.reports, "ignored", r.ignored,
			"again", r.again, "moved", r.moved, "waiting", r.waiting, "took", time.Since(start).Round(time.Millisecond))
	}
	return r, nil
}

// planBatches cuts the messages into batches of at most size messages and,
// unless a single message is larger, at most maxBytes.
func planBatches(msgs []sizedUID, size int, maxBytes int64) [][]sizedUID {
	var out [][]sizedUID
	for len(msgs) > 0 {
		n := firstBatch(msgs, size, maxBytes)
		out = append(out, msgs[:n:n])
		msgs = msgs[n:]
	}
	return slices.Clip(out)
}

// firstBatch is how many of msgs the next batch takes: at most size and,
// unless the first message alone is larger, at most maxBytes; at least one.
func firstBatch(msgs []sizedUID, size int, maxBytes int64) int {
	var bytes int64
	for i, m := range msgs {
		if i > 0 && (i == size || bytes+m.size > maxBytes) {
			return i
		}
		bytes += m.size
	}
	return len(msgs)
}

// errSmallerBatches marks a round's store failure after which the batch
// size was halved: the round goes on with smaller batches at once rather
// than failing, so a batch too large for what the disk has left (a full
// disk with some space back, a transaction too big for the database)
// never stalls intake. A single message that fails fails the round, and
// the connection is retried with back-off.
var errSmallerBatches = errors.New("the batch was not stored; smaller batches follow")

// minBatchBytes is the least byte bound a failing batch shrinks to.
const minBatchBytes = 64 << 10

// batchSize is the poller's batch bound: the configured one at first,
// halved (in messages and in bytes) from a batch whose transaction
// failed, down to single messages, and doubled after each stored batch
// back up to the configuration.
type batchSize struct {
	count int
	bytes int64
}

// batchBound is the bound in use; the zero value is the configured one.
func (p *Poller) batchBound() batchSize {
	if p.batch.count == 0 {
		p.batch = batchSize{count: p.cfg.BatchSize, bytes: p.cfg.BatchBytes}
	}
	return p.batch
}

// batchStored doubles the bound after a stored batch, up to the
// configured one.
func (p *Poller) batchStored() {
	b := p.batchBound()
	p.batch = batchSize{count: min(b.count*2, p.cfg.BatchSize), bytes: min(b.bytes*2, p.cfg.BatchBytes)}
}

// batchFailed halves the bound to below the failed batch of n messages
// and size bytes, and says whether a smaller batch is left to try.
func (p *Poller) batchFailed(n int, size int64) (smaller bool) {
	b := p.batchBound()
	p.batch = batchSize{count: max(1, min(b.count, n/2)), bytes: max(minBatchBytes, min(b.bytes, size/2))}
	return n > 1
}
