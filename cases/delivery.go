package cases

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/outbox"
	"notme/internal/backoff"
	"notme/internal/wake"
)

// The webhook outbox and its worker. cases owns the retry policy; the
// transport is a WebhookSender the app gives it (HTTP in app/webhook).

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead" // gave up after WebhookOptions.MaxAge; staff may retry
)

// WebhookEventContainment is the event field of the webhook body.
const WebhookEventContainment = "containment.requested"

// Delivery is one webhook in the outbox. Its IdempotencyKey is made when
// the row is written and sent with every attempt, across restarts.
type Delivery struct {
	ID             int64
	CaseID         int64
	ActionID       int64
	IdempotencyKey string
	Event          string
	CaseRef        string
	AccountRef     string
	Kind           string
	Action         string
	RequestedAt    time.Time
	State          string
	Attempts       int
	NextAttemptAt  time.Time
	ExpiresAt      time.Time // failing after this, the delivery is dead
	LastError      string
	LeaseOwner     string
	LeaseInstance  string // the desk instance of the claim
	LeaseUntil     *time.Time
	CreatedAt      time.Time
	DeliveredAt    *time.Time
}

func (Delivery) TableName() string { return "webhook_deliveries" }

// WebhookOptions is the retry policy of webhook deliveries.
type WebhookOptions struct {
	// MaxAge: a delivery still failing this long after it was queued (or
	// retried by staff) becomes a dead letter. Default 24h.
	MaxAge time.Duration
	// BackoffMin and BackoffMax bound the exponential back-off: the n-th
	// retry waits a uniformly random time between half and all of
	// min(BackoffMax, BackoffMin·2ⁿ⁻¹) (internal/backoff). Defaults 1s and
	// 15m. Once a webhook goes through after failures, the others waiting
	// go at once rather than at their times.
	BackoffMin, BackoffMax time.Duration
	// Lease is how long a worker holds the deliveries it claimed; a crashed
	// worker's deliveries go again after it. A delivery is only started
	// with half its lease left, so half must exceed the sender's timeout.
	// Default 2m.
	Lease time.Duration
}

// Defaults of WebhookOptions.
const (
	DefaultWebhookMaxAge     = 24 * time.Hour
	DefaultWebhookBackoffMin = time.Second
	DefaultWebhookBackoffMax = 15 * time.Minute
)

func (o WebhookOptions) withDefaults() WebhookOptions {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultWebhookMaxAge
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = DefaultWebhookBackoffMin
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(o.BackoffMin, DefaultWebhookBackoffMax)
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	return o
}

// retry is the back-off policy of failed webhooks.
func (o WebhookOptions) retry() backoff.Policy {
	return backoff.Policy{Min: o.BackoffMin, Max: o.BackoffMax}
}

// hookTable is the webhooks' outbox table.
var hookTable = outbox.Table{Name: "webhook_deliveries", Pending: DeliveryPending, Sent: DeliveryDelivered, Dead: DeliveryDead,
	SentAt: "delivered_at", Expires: true}

func (s *Service) newDelivery(c *Case, act ContainmentAction, now time.Time) Delivery {
	return Delivery{CaseID: c.ID, ActionID: act.ID, IdempotencyKey: "nmd_" + ident.RandomToken(18),
		Event: WebhookEventContainment, CaseRef: c.Ref, AccountRef: c.AccountRef, Kind: c.Kind,
		Action: act.Action, RequestedAt: now, State: DeliveryPending, NextAttemptAt: now,
		ExpiresAt: now.Add(s.webhooks.MaxAge), CreatedAt: now}
}

// Webhook is one delivery as the sender puts it on the wire: the same Key
// and Body on every attempt. Key is the webhook-id of Standard Webhooks
// (and the deprecated Idempotency-Key), inside the signed content.
type Webhook struct {
	ID      int64
	Key     string
	Body    []byte
	Attempt int // 1 for the first
}

// WebhookBody is the JSON the account system receives. It carries only
// what the company knows already: no reporter, no address, no note.
type WebhookBody struct {
	Event       string    `json:"event"`
	DeliveryID  string    `json:"delivery_id"` // = the webhook-id header
	CaseRef     string    `json:"case_ref"`
	AccountRef  string    `json:"account_ref"`
	Kind        string    `json:"kind"`
	Action      string    `json:"action"`
	RequestedAt time.Time `json:"requested_at"`
	ConfirmURL  string    `json:"confirm_url"`
}

func (s *Service) webhook(d Delivery) (Webhook, error) {
	body, err := json.Marshal(WebhookBody{Event: d.Event, DeliveryID: d.IdempotencyKey, CaseRef: d.CaseRef,
		AccountRef: d.AccountRef, Kind: d.Kind, Action: d.Action, RequestedAt: d.RequestedAt.UTC(),
		ConfirmURL: s.publicURL + "/api/v1/cases/" + d.CaseRef + "/containment"})
	if err != nil {
		return Webhook{}, fmt.Errorf("encode webhook %d: %w", d.ID, err)
	}
	return Webhook{ID: d.ID, Key: d.IdempotencyKey, Body: body, Attempt: d.Attempts + 1}, nil
}

// wakeDeliveries tells the worker that deliveries were queued; called after
// the transaction that queued them commits. It never blocks.
func (s *Service) wakeDeliveries() { s.deliveryWake.Notify() }

// claimDeliveries leases up to limit due deliveries to one claim; two
// workers (or two desks on one PostgreSQL) never hold the same delivery.
func (s *Service) claimDeliveries(ctx context.Context, limit int) ([]Delivery, error) {
	c, err := s.hookQ.Claim(ctx, limit)
	if err != nil {
		return nil, err
	}
	ds := []Delivery{}
	if c.N == 0 {
		return ds, nil // none due
	}
	if err := s.hookQ.Claimed(ctx, c, &ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// deliveriesDone records 2xx answers in one transaction: the deliveries
// and their actions are delivered. It holds even if a lease ran out
// meanwhile: the receiver has the webhook.
func (s *Service) deliveriesDone(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	now := s.clock()
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		pending, err := s.hookQ.Sent(tx, ids)
		if err != nil || len(pending) == 0 {
			return err
		}
		var evs []Event
		var actionIDs []int64
		for _, d := range ds {
			if !slices.Contains(pending, d.ID) {
				continue
			}
			actionIDs = append(actionIDs, d.ActionID)
			evs = append(evs, Event{CaseID: d.CaseID, At: now, Actor: actorDesk, Type: EventContainmentDelivered,
				Detail: fmt.Sprintf("Webhook %s delivered to the account system (attempt %d).", d.Action, d.Attempts+1),
				Code:   CodeWebhookDelivered, Args: Args{"action": d.Action, "attempt": argInt(d.Attempts + 1)}})
		}
		// A confirmation may have come before this mark: keep its state.
		if err := tx.Model(&ContainmentAction{}).Where("id IN ?", actionIDs).Updates(map[string]any{
			"delivered_at": now,
			"state":        gorm.Expr("CASE WHEN state = ? THEN ? ELSE state END", ActionRequested, ActionDelivered),
		}).Error; err != nil {
			return fmt.Errorf("mark actions delivered: %w", err)
		}
		return tx.Create(&evs).Error
	})
}

// deliveryFailed records a failed attempt: retried after a back-off, or a
// dead letter once the delivery's age is up. Only the lease holder may.
func (s *Service) deliveryFailed(ctx context.Context, d Delivery, sendErr error) error {
	now := s.clock()
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		dead, err := s.hookQ.Failed(tx, outbox.Attempt{ID: d.ID, Owner: d.LeaseOwner, Attempts: d.Attempts, ExpiresAt: d.ExpiresAt}, sendErr, false)
		if err != nil || !dead {
			return err
		}
		return tx.Create(&Event{CaseID: d.CaseID, At: now, Actor: actorDesk, Type: EventWebhookDead, Detail: fmt.Sprintf(
			"Webhook %s not delivered after %d attempts since %s; staff can send it again. Last error: %s",
			d.Action, d.Attempts+1, d.CreatedAt.Format(time.RFC3339), truncate(sendErr.Error(), 300)),
			Code: CodeWebhookDead, Args: Args{"action": d.Action, "attempts": argInt(d.Attempts + 1), "since": argTime(d.CreatedAt),
				"error": truncate(sendErr.Error(), 300)}}).Error
	})
}

// releaseDelivery gives a claimed delivery back unsent (the worker is
// stopping), so that the next start sends it at once.
func (s *Service) releaseDelivery(ctx context.Context, d Delivery) error {
	return s.hookQ.Release(ctx, d.LeaseOwner, []int64{d.ID})
}

// nextDeliveryAt returns when the next pending delivery may be claimed.
func (s *Service) nextDeliveryAt(ctx context.Context) (time.Time, bool, error) {
	return s.hookQ.NextDue(ctx)
}

// RetryDelivery sends a dead letter again with the same idempotency key;
// staff may, and it is audited.
func (s *Service) RetryDelivery(ctx context.Context, a Actor, ref string, id int64) (Case, error) {
	c, err := s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		var d Delivery
		if err := tx.Where("id = ? AND case_id = ?", id, c.ID).Limit(1).Find(&d).Error; err != nil {
			return fmt.Errorf("read webhook %d: %w", id, err)
		}
		if d.ID == 0 {
			return Errorf(ENOTFOUND, "no such webhook on this case")
		}
		if d.State != DeliveryDead {
			return Errorf(ECONFLICT, "Only an undelivered (dead) webhook can be sent again; this one is %s.", d.State)
		}
		if _, err := s.hookQ.Requeue(tx, d.ID, DeliveryDead, map[string]any{"expires_at": now.Add(s.webhooks.MaxAge)}); err != nil {
			return err
		}
		if err := tx.Create(&[]Event{event(c, a, now, EventWebhookRetried,
			fmt.Sprintf("Webhook %s sent again (same idempotency key) after %d failed attempts.", d.Action, d.Attempts)).
			with(CodeWebhookRetried, Args{"action": d.Action, "attempts": argInt(d.Attempts)})}).Error; err != nil {
			return err
		}
		return tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditRetryWebhook,
			Subject: "case:" + c.Ref, Detail: fmt.Sprintf("webhook %d (%s)", d.ID, d.Action),
			Args: Args{"webhook": argInt(d.ID), "action": d.Action}}).Error
	})
	if err == nil {
		s.wakeDeliveries()
	}
	return c, err
}

// WebhookSender puts one webhook on the wire. nil means the receiver took
// it (HTTP 2xx); any error is retried under the Service's policy.
type WebhookSender interface {
	SendWebhook(ctx context.Context, w Webhook) error
}

// DelivererOptions configures a Deliverer.
type DelivererOptions struct {
	// Concurrency is how many webhooks are in flight at once. Default 4.
	Concurrency int
	// MaxIdle bounds the sleep when nothing is due, so that deliveries
	// queued by another desk on the same PostgreSQL go out within it.
	// Default 1m.
	MaxIdle time.Duration
	Logger  *slog.Logger
}

// Deliverer sends the outbox's webhooks.
type Deliverer struct {
	svc     *Service
	send    WebhookSender
	conc    int
	maxIdle time.Duration
	log     *slog.Logger
	running atomic.Bool
	// failed is set when a send fails, or a webhook that failed before
	// (maybe on another desk) goes through; the round that has a success
	// then makes the other waiting webhooks due at once, and clears it.
	failed atomic.Bool
}

// NewDeliverer returns the worker that sends webhooks through send.
func (s *Service) NewDeliverer(send WebhookSender, o DelivererOptions) *Deliverer {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Deliverer{svc: s, send: send, conc: o.Concurrency, maxIdle: o.MaxIdle, log: o.Logger}
}

// roundRetry is the back-off after failed rounds (the database away).
var roundRetry = backoff.Policy{Min: time.Second, Max: time.Minute}

// Run delivers until ctx is done, then lets the webhooks in flight finish
// (each bounded by the sender's timeout) and returns nil. It sleeps until
// the next delivery is due, a commit queues one, or MaxIdle.
func (d *Deliverer) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("cases: Deliverer.Run is already running")
	}
	defer d.running.Store(false)
	loop := wake.Loop{Name: "webhooks", MaxIdle: d.maxIdle, MinWait: 50 * time.Millisecond, Retry: roundRetry,
		Wake: []<-chan struct{}{d.svc.deliveryWake}, Log: d.log}
	return loop.Run(ctx, func(ctx context.Context) (time.Duration, bool, error) {
		if _, err := d.DeliverDue(ctx); err != nil {
			return 0, false, err
		}
		next, ok, err := d.svc.nextDeliveryAt(ctx)
		return next.Sub(d.svc.clock()), ok, err
	})
}

// DeliverDue sends every delivery due now, Concurrency at a time, and
// returns how many were delivered. A failed webhook is recorded on its row,
// not returned; the error is for the round (the database). Once ctx is
// done no new webhook starts, and claimed ones not yet sent are released.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	delivered := 0
	// Outcomes are recorded even while stopping: the webhooks went out.
	record := context.WithoutCancel(ctx)
	for ctx.Err() == nil {
		ds, err := d.svc.claimDeliveries(ctx, deliveryBatch*d.conc)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return delivered, err
		}
		if len(ds) == 0 {
			break
		}
		n, err := d.sendAll(ctx, record, ds)
		delivered += n
		if err != nil {
			return delivered, err
		}
		if n > 0 && d.failed.CompareAndSwap(true, false) {
			// The receiver is back: what waits out a back-off goes in the
			// next claim of this loop, not at its jittered time.
			moved, err := d.svc.hookQ.Recovered(record)
			if err != nil {
				d.failed.Store(true)
				return delivered, err
			}
			if moved > 0 {
				d.log.Info("webhooks: the receiver answers again; sending the waiting ones now", "count", moved)
			}
		}
	}
	return delivered, nil
}

// deliveryBatch is how many deliveries per concurrent sender one claim
// takes.
const deliveryBatch = 16

// sendAll sends the claimed deliveries, Concurrency at a time, records
// each outcome, and returns how many the receiver took. Successes are
// recorded by one recorder that commits whatever came in since its last
// commit: a webhook is sent but not yet recorded (and so goes again, under
// its key, if this process dies) only for about one commit, while a fast
// receiver still costs a few commits a claim, not one a webhook, so the
// single SQLite writer keeps up with the filings.
func (d *Deliverer) sendAll(ctx, record context.Context, ds []Delivery) (int, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	sent := make(chan Delivery, len(ds)) // a sender never waits for the recorder
	type result struct {
		n   int
		err error
	}
	recorded := make(chan result, 1)
	go func() {
		n, err := d.recordSent(record, sent)
		recorded <- result{n, err}
	}()
	sem := make(chan struct{}, d.conc)
	for _, dl := range ds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := d.deliver(ctx, record, dl)
			if ok {
				sent <- dl
			}
			if err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(sent)
	r := <-recorded
	return r.n, cmp.Or(r.err, firstErr)
}

// recordSent records the deliveries sent until the channel closes, each
// commit taking all that are waiting.
func (d *Deliverer) recordSent(ctx context.Context, sent <-chan Delivery) (int, error) {
	n := 0
	var firstErr error
	for dl := range sent {
		batch := []Delivery{dl}
	more:
		for {
			select {
			case next, open := <-sent:
				if !open {
					break more
				}
				batch = append(batch, next)
			default:
				break more
			}
		}
		if err := d.svc.deliveriesDone(ctx, batch); err != nil {
			// Left claimed: they go again, under their keys, once the
			// claim runs out.
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		n += len(batch)
		for _, dl := range batch {
			d.log.Info("webhook delivered", "case", dl.CaseRef, "action", dl.Action, "webhook_id", dl.ID, "attempt", dl.Attempts+1)
		}
	}
	return n, firstErr
}

// deliver sends one claimed delivery; it records a failure, and reports a
// success for the caller to record.
func (d *Deliverer) deliver(ctx, record context.Context, dl Delivery) (bool, error) {
	if ctx.Err() != nil {
		return false, d.svc.releaseDelivery(record, dl)
	}
	if dl.LeaseUntil != nil && dl.LeaseUntil.Sub(d.svc.clock()) < d.svc.webhooks.Lease/2 {
		// It waited its turn behind slow receivers: another worker may
		// claim it before this send could end, so give it back.
		return false, d.svc.releaseDelivery(record, dl)
	}
	w, err := d.svc.webhook(dl)
	if err != nil {
		return false, d.svc.deliveryFailed(record, dl, err)
	}
	// The send is not cut short by shutdown: it is the unit in hand, and
	// the sender's own timeout bounds it.
	sendErr := d.send.SendWebhook(record, w)
	if sendErr == nil {
		if dl.Attempts > 0 {
			d.failed.Store(true) // the receiver is back
		}
		return true, nil
	}
	d.failed.Store(true)
	d.log.Warn("webhook failed", "case", dl.CaseRef, "action", dl.Action, "webhook_id", dl.ID, "attempt", w.Attempt, "err", sendErr)
	return false, d.svc.deliveryFailed(record, dl, sendErr)
}

// WebhookBacklog is what an operator alerts on: webhooks waiting, dead
// letters, and how long the oldest waiting one has waited.
type WebhookBacklog = outbox.Backlog

// WebhookBacklog counts the deliveries not delivered, for /metrics.
func (s *Service) WebhookBacklog(ctx context.Context) (WebhookBacklog, error) {
	return s.hookQ.Backlog(ctx)
}
