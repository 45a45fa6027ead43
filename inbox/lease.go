package inbox

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"notme/cases"
	"notme/internal/wake"
)

// DefaultLeaseTTL is how long a poller's hold on its mailbox lasts unless
// renewed: another desk instance takes the mailbox over this long after the
// holder stopped renewing.
const DefaultLeaseTTL = 15 * time.Second

// errLeaseLost ends a session whose mailbox another instance has taken.
var errLeaseLost = errors.New("the mailbox lease went to another instance")

// InstanceID names this process among the desk instances sharing a
// database (cases.NewInstanceID).
func InstanceID() string { return cases.NewInstanceID() }

// mailboxLease is a poller's hold on its mailbox in the database.
type mailboxLease struct {
	svc   *cases.Service
	name  string
	owner string
	ttl   time.Duration
	log   *slog.Logger
	// until is when the lease runs out as last taken or renewed (unix nano);
	// zero when not held. The poller checks it before every batch.
	until atomic.Int64
}

// held reports whether the lease is ours with time left: a poller whose
// renewals fail stops before the lease could have passed to another.
func (l *mailboxLease) held() bool {
	u := l.until.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// await takes the lease, waiting for the holder's to run out as often as
// needed; false once ctx is done.
func (l *mailboxLease) await(ctx context.Context) bool {
	for {
		wait, err := l.take(ctx)
		if err == nil && wait == 0 {
			return true
		}
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			l.log.Warn("take the mailbox lease", "err", err)
			wait = l.ttl / 3
		}
		if !wake.Sleep(ctx, wait) {
			return false
		}
	}
}

// take tries once; wait is zero when the lease is ours, else how long until
// the holder's runs out.
func (l *mailboxLease) take(ctx context.Context) (wait time.Duration, err error) {
	start := time.Now()
	lease, ok, err := l.svc.TakeMailboxLease(ctx, l.name, l.owner, l.ttl)
	if err != nil {
		return 0, err
	}
	if !ok {
		l.until.Store(0)
		// The holder's time by the database's clock, a little over: the
		// holder may renew meanwhile, or stop.
		return max(lease.LeaseUntil.Sub(l.svc.Now()), 0) + 100*time.Millisecond, nil
	}
	// Counted from before the call, so the hold never outlasts the row.
	if l.until.Swap(start.Add(l.ttl).UnixNano()) == 0 {
		l.log.Info("mailbox lease taken", "instance", l.owner)
	}
	return 0, nil
}

// keep renews the lease every third of its time until ctx is done or it is
// lost; lost is called once, when it is.
func (l *mailboxLease) keep(ctx context.Context, lost func()) {
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wait, err := l.take(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			l.log.Warn("renew the mailbox lease", "err", err)
		}
		if wait > 0 || !l.held() {
			l.until.Store(0)
			l.log.Warn("mailbox lease lost; polling stops", "instance", l.owner)
			lost()
			return
		}
	}
}

// release lets another instance take the mailbox at once.
func (l *mailboxLease) release(ctx context.Context) {
	if l.until.Swap(0) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.svc.ReleaseMailboxLease(ctx, l.name, l.owner); err != nil {
		l.log.Warn("release the mailbox lease", "err", err)
	}
}
