package cases

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/store"
)

// Acknowledgement states.
const (
	AckPending    = "pending"
	AckSent       = "sent"
	AckSuppressed = "suppressed" // never sent: the address had one within the window
	AckFailed     = "failed"     // gave up after retries
)

// Ack kinds.
const (
	AckKindReceived = "received" // the one acknowledgement of a report mail (RFC 3834 auto-reply)
	AckKindOutcome  = "outcome"  // the one notice when the case is done
)

// Ack is an acknowledgement waiting to go out, or its record once sent.
// StatusURL is a secret for the reporter; it is cleared once the mail is
// sent or given up.
type Ack struct {
	ID            int64
	MailID        int64
	CaseID        int64
	Kind          string
	ToAddr        string
	Lang          string
	InReplyTo     string
	Subject       string
	CaseRef       string
	StatusURL     string
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
	LeaseOwner    string // the claim that is sending it (DueAcks)
}

// AckOptions bound acknowledgements.
type AckOptions struct {
	// Window: at most one acknowledgement per address within it (RFC 3834
	// section 2: do not answer the same sender repeatedly). Default 24h.
	Window time.Duration
	// MaxAttempts before an ack is given up. Default 60: with the back-off
	// below that is about four and a half days, as RFC 5321 section
	// 4.5.4.1 suggests for a mail queue.
	MaxAttempts int
	// DomainPerHour: at most this many acknowledgements queued or sent to
	// one recipient domain within an hour; more are held (issue 12,
	// backscatter: a stranger naming many addresses at one domain must
	// not make the desk mail that domain without end). Default 20.
	DomainPerHour int
}

// Reason codes of held acknowledgements, in the metric of held acks. An
// ack held by the domain bound has the code alone as its LastError (the
// console renders it in the reader's language); one held by the sender
// check has AckHeldPrefix and what the mail said.
const (
	AckHeldPrefix = "held back, never sent: "
	// AckHeldDomainLimit: the recipient's domain had DomainPerHour
	// acknowledgements within the hour.
	AckHeldDomainLimit = "domain_hourly_limit"
	// AckHeldSender: the report asked for no answer, or an answer could
	// land on a third party (null reverse path, DMARC or SPF failure).
	AckHeldSender = "sender_check"
	// AckHeldAddressWindow: the address had an acknowledgement within
	// the window.
	AckHeldAddressWindow = "address_window"
	// AckHeldNotPlausible: nothing shows the reporter is who the mail
	// went to: the From is not the ledger recipient of the matched mail,
	// no sealed token names it, and the desk's own receiving server did
	// not see DMARC pass for its domain. Anyone can write any From, so
	// the desk does not mail it unasked (issue 12, backscatter).
	AckHeldNotPlausible = "not_plausible"
)

// AckHandSendable lists the held reasons a person's judgement may
// overrule (SendHeldAck). A sender_check hold never goes: the mail asked
// for no answer or was an auto-reply, a bounce or a list's, or the
// desk's own server saw its From fail.
var AckHandSendable = []string{AckHeldNotPlausible, AckHeldDomainLimit, AckHeldAddressWindow}

// HeldReason is the reason code of an acknowledgement held back (one of
// AckHandSendable, or AckHeldSender); "" when it is not held.
func (a Ack) HeldReason() string {
	switch {
	case a.State != AckSuppressed:
		return ""
	case a.LastError == AckHeldDomainLimit || a.LastError == AckHeldNotPlausible:
		return a.LastError
	case strings.HasPrefix(a.LastError, AckHeldPrefix):
		return AckHeldSender
	}
	return AckHeldAddressWindow
}

// SendableByHand reports whether staff may send this held acknowledgement.
func (a Ack) SendableByHand() bool {
	return a.Kind == AckKindReceived && slices.Contains(AckHandSendable, a.HeldReason())
}

// ackDomainWindow is the span DomainPerHour counts over.
const ackDomainWindow = time.Hour

// Defaults of AckOptions.
const (
	DefaultAckWindow        = 24 * time.Hour
	DefaultAckDomainPerHour = 20
)

func (o AckOptions) withDefaults() AckOptions {
	if o.Window <= 0 {
		o.Window = DefaultAckWindow
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 60
	}
	if o.DomainPerHour <= 0 {
		o.DomainPerHour = DefaultAckDomainPerHour
	}
	return o
}

// newAck is the acknowledgement of a new mail report, queued in the
// ingest transaction, or its suppression when the address had one within
// the window (recent). Only acks that went or will go count for the window:
// a suppressed one must not stretch it for someone who writes again a day
// later.
func (s *Service) newAck(mailID, caseID int64, p ParsedMail, caseRef, statusToken string, now time.Time, recent bool) Ack {
	a := Ack{MailID: mailID, CaseID: caseID, Kind: AckKindReceived, ToAddr: p.From, Lang: p.Lang,
		InReplyTo: p.MessageID, Subject: truncate(p.Subject, 200), CaseRef: caseRef,
		State: AckPending, NextAttemptAt: now, CreatedAt: now}
	if recent {
		a.State, a.LastError = AckSuppressed, "an acknowledgement went to this address within the window"
	} else {
		a.StatusURL = s.publicURL + "/s/" + statusToken
	}
	return a
}

// ackLease is how long a claimed acknowledgement is kept from other
// senders: an instance that dies mid-send leaves it to be sent again after
// this, far beyond an SMTP exchange's time-outs.
const ackLease = 10 * time.Minute

// DueAcks claims up to limit pending acknowledgements whose time has come,
// oldest first, for the caller to send: their next attempt moves ackLease
// ahead, so no other sender (nor another desk instance on the same
// database) takes them meanwhile. AckSentNow or AckAttemptFailed ends the
// claim (see dialect.claim).
func (s *Service) DueAcks(ctx context.Context, limit int) ([]Ack, error) {
	now := s.clock()
	owner := ident.RandomToken(12)
	db := s.store.w.WithContext(ctx)
	n, err := store.Claim(db, "acks", "state = ? AND next_attempt_at <= ?", []any{AckPending, now},
		"next_attempt_at, id", limit, "lease_owner = ?, next_attempt_at = ?", []any{owner, now.Add(ackLease)})
	if err != nil {
		return nil, fmt.Errorf("claim due acks: %w", err)
	}
	if n == 0 {
		return []Ack{}, nil // none due
	}
	var as []Ack
	if err := db.Where("lease_owner = ? AND state = ?", owner, AckPending).Order("id").Find(&as).Error; err != nil {
		return nil, fmt.Errorf("read claimed acks: %w", err)
	}
	return as, nil
}

// ReleaseAcks ends the claims on acks their sender did not get to (it is
// stopping): they are due again at once, for any sender.
func (s *Service) ReleaseAcks(ctx context.Context, as []Ack) error {
	for _, a := range as {
		err := s.store.w.WithContext(ctx).Model(&Ack{}).
			Where("id = ? AND state = ? AND lease_owner = ?", a.ID, AckPending, a.LeaseOwner).
			Updates(map[string]any{"lease_owner": "", "next_attempt_at": s.clock()}).Error
		if err != nil {
			return fmt.Errorf("release ack %d: %w", a.ID, err)
		}
	}
	return nil
}

// NextAckAt returns when the next pending acknowledgement is due; ok is
// false when none is pending.
func (s *Service) NextAckAt(ctx context.Context) (time.Time, bool, error) {
	var a Ack
	err := s.store.r.WithContext(ctx).Where("state = ?", AckPending).Order("next_attempt_at").Limit(1).Find(&a).Error
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next ack: %w", err)
	}
	return a.NextAttemptAt, a.ID != 0, nil
}

// AckSentNow marks an acknowledgement sent and forgets its status URL.
func (s *Service) AckSentNow(ctx context.Context, id int64) error {
	now := s.clock()
	err := s.store.w.WithContext(ctx).Model(&Ack{}).Where("id = ? AND state = ?", id, AckPending).
		Updates(map[string]any{"state": AckSent, "sent_at": now, "status_url": "", "last_error": "", "attempts": gorm.Expr("attempts + 1")}).Error
	if err != nil {
		return fmt.Errorf("mark ack %d sent: %w", id, err)
	}
	return nil
}

// ErrPermanent marks a delivery error that retrying cannot fix (a 5xx
// reply to RCPT, say).
var ErrPermanent = errors.New("permanent failure")

// AckAttemptFailed records a failed send: retried with exponential
// back-off and jitter, given up after MaxAttempts or a permanent error.
func (s *Service) AckAttemptFailed(ctx context.Context, id int64, sendErr error) error {
	return s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a Ack
		if err := tx.Where("id = ?", id).Take(&a).Error; err != nil {
			return fmt.Errorf("read ack %d: %w", id, err)
		}
		if a.State != AckPending {
			return nil // sent or given up meanwhile: nothing to retry
		}
		a.Attempts++
		// The attempt ends the claim.
		upd := map[string]any{"attempts": a.Attempts, "last_error": truncate(sendErr.Error(), 1000), "lease_owner": ""}
		if a.Attempts >= s.acks.MaxAttempts || errors.Is(sendErr, ErrPermanent) {
			upd["state"], upd["status_url"] = AckFailed, ""
		} else {
			upd["next_attempt_at"] = s.clock().Add(backoff(a.Attempts))
		}
		return tx.Model(&Ack{}).Where("id = ?", id).Updates(upd).Error
	})
}

// backoff is 30 s doubling per attempt, at most 2 h, with ±20 % jitter so
// retries from many instances do not march in step.
func backoff(attempt int) time.Duration {
	d := 30 * time.Second << min(attempt-1, 8)
	if d > 2*time.Hour {
		d = 2 * time.Hour
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// HeldAckCount is how many acknowledgements were held for one reason.
type HeldAckCount struct {
	Reason string
	N      int64
}

// HeldAckCounts counts the suppressed acknowledgements by reason code
// (AckHeldDomainLimit, AckHeldSender, AckHeldAddressWindow,
// AckHeldNotPlausible), for
// /metrics; every reason is listed, with 0 where none was held.
func (s *Service) HeldAckCounts(ctx context.Context) ([]HeldAckCount, error) {
	var rows []struct {
		Reason string
		N      int64
	}
	err := s.store.r.WithContext(ctx).Raw(`SELECT reason, COUNT(*) AS n FROM (
		SELECT CASE WHEN last_error = ? THEN ? WHEN last_error = ? THEN ? WHEN last_error LIKE ? THEN ? ELSE ? END AS reason
		FROM acks WHERE state = ?) held GROUP BY reason`,
		AckHeldDomainLimit, AckHeldDomainLimit, AckHeldNotPlausible, AckHeldNotPlausible, AckHeldPrefix+"%", AckHeldSender, AckHeldAddressWindow,
		AckSuppressed).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count held acks: %w", err)
	}
	out := []HeldAckCount{{Reason: AckHeldDomainLimit}, {Reason: AckHeldSender}, {Reason: AckHeldAddressWindow}, {Reason: AckHeldNotPlausible}}
	for _, r := range rows {
		for i := range out {
			if out[i].Reason == r.Reason {
				out[i].N += r.N
			}
		}
	}
	return out, nil
}

// ackDomain is the lower-case domain of an address, "" if it has none.
func ackDomain(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(addr[at+1:])
}

// AcksOf lists a case's acknowledgements, for staff.
func (s *Service) AcksOf(ctx context.Context, caseID int64) ([]Ack, error) {
	var as []Ack
	if err := s.store.r.WithContext(ctx).Where("case_id = ?", caseID).Order("id").Find(&as).Error; err != nil {
		return nil, fmt.Errorf("list acks: %w", err)
	}
	return as, nil
}
