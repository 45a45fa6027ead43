// Package outbox is the desk's one engine for things to deliver: rows of a
// table that wait (pending), are claimed by one sender at a time under a
// lease, sent through a transport the caller owns, and recorded as sent,
// retried after a back-off with jitter, or given up (a dead letter) after
// a number of attempts or an age. Acknowledgement mail and webhooks are
// two tables on it; what a row means, and what else is written when it is
// sent or given up, stays with the caller (package cases).
//
// A claim records the owning desk instance: when an instance is found dead
// (cases' instance heartbeats), ReleaseInstance makes its claims due at
// once instead of after their lease.
//
// Every table on the engine has these columns: id, state, attempts,
// next_attempt_at, last_error, lease_owner, lease_instance, lease_until,
// created_at; and, if Table.Expires, expires_at.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"notme/internal/backoff"
)

// Table describes one outbox table.
type Table struct {
	Name    string // the table
	Pending string // state of a row waiting to go
	Sent    string // state once the receiver took it
	Dead    string // state once given up
	SentAt  string // the column stamped when it went
	// Expires: rows carry expires_at, and a row still failing past it is
	// dead.
	Expires bool
	// Forget lists text columns emptied once a row is sent or dead (a
	// secret the mail carried, say).
	Forget []string
}

// ClaimFunc sets set on up to limit rows of table that match where, oldest
// by order first, without two claimers taking the same row, and returns
// how many it set. The store's dialect provides it.
type ClaimFunc func(db *gorm.DB, table, where string, whereArgs []any, order string, limit int, set string, setArgs []any) (int64, error)

// Options configure a Queue.
type Options struct {
	Table Table
	// Writer and Reader are the store's connections.
	Writer, Reader *gorm.DB
	Claim          ClaimFunc
	// Now is the desk's clock (UTC, as stored).
	Now func() time.Time
	// Instance names the desk process; its claims carry it.
	Instance string
	// Lease is how long a claim keeps a row from other senders if its
	// instance is not known dead sooner. It must exceed one send.
	Lease time.Duration
	// Retry is the back-off after failed attempts.
	Retry backoff.Policy
	// MaxAttempts gives a row up after this many failed attempts (0: no
	// bound; then Table.Expires should).
	MaxAttempts int
}

// Queue is one outbox table under the engine.
type Queue struct {
	o Options
}

// New returns the queue of o.Table.
func New(o Options) (*Queue, error) {
	t := o.Table
	if t.Name == "" || t.Pending == "" || t.Sent == "" || t.Dead == "" || t.SentAt == "" {
		return nil, errors.New("outbox: a table needs its name, states and sent-at column")
	}
	if o.Writer == nil || o.Reader == nil || o.Claim == nil || o.Now == nil || o.Instance == "" || o.Lease <= 0 {
		return nil, fmt.Errorf("outbox %s: connections, claim, clock, instance and lease are required", t.Name)
	}
	if o.MaxAttempts <= 0 && !t.Expires {
		return nil, fmt.Errorf("outbox %s: give rows up by attempts or by age", t.Name)
	}
	return &Queue{o: o}, nil
}

// Claim is a claim's handle: the rows whose lease_owner is Owner.
type Claim struct {
	Owner string
	N     int64
}

// Claim leases up to limit due rows, oldest due first, to a new claim of
// this instance. A row is due when pending, its next attempt has come and
// no one else holds a lease on it.
func (q *Queue) Claim(ctx context.Context, limit int) (Claim, error) {
	now := q.o.Now()
	owner := newOwner()
	db := q.o.Writer.WithContext(ctx)
	n, err := q.o.Claim(db, q.o.Table.Name,
		"state = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)", []any{q.o.Table.Pending, now, now},
		"next_attempt_at, id", limit,
		"lease_owner = ?, lease_instance = ?, lease_until = ?", []any{owner, q.o.Instance, now.Add(q.o.Lease)})
	if err != nil {
		return Claim{}, fmt.Errorf("claim from %s: %w", q.o.Table.Name, err)
	}
	return Claim{Owner: owner, N: n}, nil
}

// Claimed reads the rows of claim c into dest (a pointer to a slice of the
// table's model), oldest due first.
func (q *Queue) Claimed(ctx context.Context, c Claim, dest any) error {
	if err := q.o.Writer.WithContext(ctx).Where("lease_owner = ? AND state = ?", c.Owner, q.o.Table.Pending).
		Order("next_attempt_at, id").Find(dest).Error; err != nil {
		return fmt.Errorf("read claimed %s: %w", q.o.Table.Name, err)
	}
	return nil
}

// Sent records that the receiver took the rows ids, in tx (the caller may
// write more in the same transaction), and returns those it marked: a row
// sent meanwhile by another claimer (after a lost lease) is left alone. It
// holds whoever holds the lease now: the receiver has it.
func (q *Queue) Sent(tx *gorm.DB, ids []int64) ([]int64, error) {
	pending := []int64{}
	if len(ids) == 0 {
		return pending, nil
	}
	t := q.o.Table
	// Under the transaction's write lock what this read finds pending is
	// what the UPDATE changes.
	if err := tx.Table(t.Name).Where("id IN ? AND state = ?", ids, t.Pending).Pluck("id", &pending).Error; err != nil {
		return nil, fmt.Errorf("read %s to mark sent: %w", t.Name, err)
	}
	if len(pending) == 0 {
		return pending, nil
	}
	upd := map[string]any{"state": t.Sent, t.SentAt: q.o.Now(), "attempts": gorm.Expr("attempts + 1"), "last_error": ""}
	q.endLease(upd)
	q.forget(upd)
	if err := tx.Table(t.Name).Where("id IN ? AND state = ?", pending, t.Pending).Updates(upd).Error; err != nil {
		return nil, fmt.Errorf("mark %s sent: %w", t.Name, err)
	}
	return pending, nil
}

// Attempt is what Failed needs to know of a row.
type Attempt struct {
	ID        int64
	Owner     string // the claim that sent it
	Attempts  int    // failed attempts before this one
	ExpiresAt time.Time
}

// Failed records a failed attempt in tx: the row is due again after the
// back-off, or dead when the attempts or the age are up or the failure is
// permanent. Only the claim's owner may; dead reports whether this call
// made the row dead (the caller writes what a dead letter means).
func (q *Queue) Failed(tx *gorm.DB, a Attempt, sendErr error, permanent bool) (dead bool, err error) {
	t := q.o.Table
	now := q.o.Now()
	n := a.Attempts + 1
	upd := map[string]any{"attempts": n, "last_error": truncate(sendErr.Error(), 1000)}
	q.endLease(upd)
	dead = permanent || q.o.MaxAttempts > 0 && n >= q.o.MaxAttempts || t.Expires && !now.Before(a.ExpiresAt)
	if dead {
		upd["state"] = t.Dead
		q.forget(upd)
	} else {
		next := now.Add(q.o.Retry.Delay(n))
		if t.Expires && next.After(a.ExpiresAt) {
			next = a.ExpiresAt // one last attempt at the deadline
		}
		upd["next_attempt_at"] = next
	}
	res := tx.Table(t.Name).Where("id = ? AND state = ? AND lease_owner = ?", a.ID, t.Pending, a.Owner).Updates(upd)
	if res.Error != nil {
		return false, fmt.Errorf("record failed %s %d: %w", t.Name, a.ID, res.Error)
	}
	return dead && res.RowsAffected == 1, nil
}

// Release gives claimed rows back unsent (their sender is stopping, or
// will not get to them in time): due again at once, for any sender.
func (q *Queue) Release(ctx context.Context, owner string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	upd := map[string]any{}
	q.endLease(upd)
	err := q.o.Writer.WithContext(ctx).Table(q.o.Table.Name).
		Where("id IN ? AND state = ? AND lease_owner = ?", ids, q.o.Table.Pending, owner).Updates(upd).Error
	if err != nil {
		return fmt.Errorf("release %s: %w", q.o.Table.Name, err)
	}
	return nil
}

// ReleaseInstance ends, in tx, every claim a dead instance held: its rows
// are due at once. It returns how many.
func (q *Queue) ReleaseInstance(tx *gorm.DB, instance string) (int64, error) {
	upd := map[string]any{}
	q.endLease(upd)
	res := tx.Table(q.o.Table.Name).Where("state = ? AND lease_instance = ?", q.o.Table.Pending, instance).Updates(upd)
	if res.Error != nil {
		return 0, fmt.Errorf("release the %s of instance %s: %w", q.o.Table.Name, instance, res.Error)
	}
	return res.RowsAffected, nil
}

// recoverBound bounds the rows one Recovered call makes due: a large
// backlog goes in rounds, each at once after the one before.
const recoverBound = 1000

// Recovered makes rows waiting out a back-off due now, up to a bound:
// the caller has just had a send through after failures, so the endpoint
// they failed on is back and they need not wait for their jittered times.
// One UPDATE; it returns how many rows it moved.
func (q *Queue) Recovered(ctx context.Context) (int64, error) {
	now := q.o.Now()
	t := q.o.Table
	res := q.o.Writer.WithContext(ctx).Exec(`UPDATE `+t.Name+` SET next_attempt_at = ? WHERE id IN (SELECT id FROM `+t.Name+
		` WHERE state = ? AND attempts > 0 AND next_attempt_at > ? ORDER BY next_attempt_at LIMIT ?)`, now, t.Pending, now, recoverBound)
	if res.Error != nil {
		return 0, fmt.Errorf("make waiting %s due: %w", t.Name, res.Error)
	}
	return res.RowsAffected, nil
}

// NextDue returns when a row may next be claimed: the earliest next
// attempt of a row no one holds, or the earliest end of a lease someone
// holds (a crashed sender's row goes again then, if its instance is not
// found dead sooner). ok is false when nothing is pending.
func (q *Queue) NextDue(ctx context.Context) (next time.Time, ok bool, err error) {
	now := q.o.Now()
	t := q.o.Table
	db := q.o.Reader.WithContext(ctx)
	var free, leased []time.Time
	if err := db.Table(t.Name).Where("state = ? AND (lease_until IS NULL OR lease_until <= ?)", t.Pending, now).
		Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &free).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("next due %s: %w", t.Name, err)
	}
	if err := db.Table(t.Name).Where("state = ? AND lease_until > ?", t.Pending, now).
		Order("lease_until").Limit(1).Pluck("lease_until", &leased).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("next leased %s: %w", t.Name, err)
	}
	switch {
	case len(free) > 0 && len(leased) > 0 && leased[0].Before(free[0]):
		return leased[0], true, nil
	case len(free) > 0:
		return free[0], true, nil
	case len(leased) > 0:
		return leased[0], true, nil
	}
	return time.Time{}, false, nil
}

// Requeue puts row id, in state from, back in the queue in tx, due now
// with no lease: a person sends a dead letter (or a held row) again. set
// holds further columns to change. ok is false when the row was not in
// state from.
func (q *Queue) Requeue(tx *gorm.DB, id int64, from string, set map[string]any) (ok bool, err error) {
	upd := map[string]any{"state": q.o.Table.Pending, "next_attempt_at": q.o.Now()}
	q.endLease(upd)
	for k, v := range set {
		upd[k] = v
	}
	res := tx.Table(q.o.Table.Name).Where("id = ? AND state = ?", id, from).Updates(upd)
	if res.Error != nil {
		return false, fmt.Errorf("requeue %s %d: %w", q.o.Table.Name, id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// Backlog is what an operator alerts on: rows waiting, dead letters, and
// when the oldest waiting one was queued.
type Backlog struct {
	Pending, Dead int64
	OldestPending *time.Time
}

// Backlog counts the rows not sent, for /metrics.
func (q *Queue) Backlog(ctx context.Context) (Backlog, error) {
	var b Backlog
	t := q.o.Table
	var rows []struct {
		State string
		N     int64
	}
	db := q.o.Reader.WithContext(ctx)
	// Sent rows are most of the table; the (state, …) index skips them.
	if err := db.Table(t.Name).Select("state, COUNT(*) AS n").Where("state IN ?", []string{t.Pending, t.Dead}).
		Group("state").Scan(&rows).Error; err != nil {
		return b, fmt.Errorf("count %s: %w", t.Name, err)
	}
	for _, r := range rows {
		switch r.State {
		case t.Pending:
			b.Pending = r.N
		case t.Dead:
			b.Dead = r.N
		}
	}
	if b.Pending > 0 {
		var oldest []time.Time
		if err := db.Table(t.Name).Where("state = ?", t.Pending).Order("created_at, id").Limit(1).
			Pluck("created_at", &oldest).Error; err != nil {
			return b, fmt.Errorf("oldest pending %s: %w", t.Name, err)
		}
		if len(oldest) > 0 {
			b.OldestPending = &oldest[0]
		}
	}
	return b, nil
}

func (q *Queue) endLease(upd map[string]any) {
	upd["lease_owner"], upd["lease_instance"], upd["lease_until"] = "", "", nil
}

func (q *Queue) forget(upd map[string]any) {
	for _, c := range q.o.Table.Forget {
		upd[c] = ""
	}
}

// newOwner names one claim: unguessable, so no two claims share it.
func newOwner() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
