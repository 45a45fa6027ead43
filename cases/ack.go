package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"notme/cases/outbox"
	"notme/internal/backoff"
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
	LeaseOwner    string     // the claim that is sending it (DueAcks)
	LeaseInstance string     // the desk instance of that claim
	LeaseUntil    *time.Time // the claim holds until then, unless its instance dies
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
// senders if its instance is not found dead sooner (instance.go): far
// beyond a batch of SMTP exchanges and their time-outs.
const ackLease = 10 * time.Minute

// ackRetry is the back-off of a failed acknowledgement: 30 s doubling to
// 2 h; with MaxAttempts 60 that is about four days.
var ackRetry = backoff.Policy{Min: 30 * time.Second, Max: 2 * time.Hour}

// ackTable is the acknowledgements' outbox table.
var ackTable = outbox.Table{Name: "acks", Pending: AckPending, Sent: AckSent, Dead: AckFailed, SentAt: "sent_at",
	Forget: []string{"status_url"}}

// DueAcks claims up to limit pending acknowledgements whose time has come,
// oldest first, for the caller to send: no other sender (nor another desk
// instance on the same database) takes them while the claim holds.
// AckSentNow, AckAttemptFailed or ReleaseAcks ends it.
func (s *Service) DueAcks(ctx context.Context, limit int) ([]Ack, error) {
	c, err := s.ackQ.Claim(ctx, limit)
	if err != nil {
		return nil, err
	}
	as := []Ack{}
	if c.N == 0 {
		return as, nil // none due
	}
	if err := s.ackQ.Claimed(ctx, c, &as); err != nil {
		return nil, err
	}
	return as, nil
}

// ReleaseAcks ends the claims on acks their sender did not get to (it is
// stopping): they are due again at once, for any sender.
func (s *Service) ReleaseAcks(ctx context.Context, as []Ack) error {
	byOwner := map[string][]int64{}
	for _, a := range as {
		byOwner[a.LeaseOwner] = append(byOwner[a.LeaseOwner], a.ID)
	}
	for owner, ids := range byOwner {
		if err := s.ackQ.Release(ctx, owner, ids); err != nil {
			return err
		}
	}
	return nil
}

// NextAckAt returns when an acknowledgement may next be claimed; ok is
// false when none is pending.
func (s *Service) NextAckAt(ctx context.Context) (time.Time, bool, error) {
	return s.ackQ.NextDue(ctx)
}

// AckSentNow marks an acknowledgement sent and forgets its status URL.
// The sender calls it for each mail as soon as the server took it: a
// crash between the two sends that mail again, under the same Message-ID.
func (s *Service) AckSentNow(ctx context.Context, id int64) error {
	if _, err := s.ackQ.Sent(s.store.w.WithContext(ctx), []int64{id}); err != nil {
		return fmt.Errorf("mark ack %d sent: %w", id, err)
	}
	return nil
}

// AcksRecovered makes the acknowledgements waiting out a back-off due at
// once: the sender has just had one through after the server failed, so
// the rest need not wait for their jittered times. It returns how many.
func (s *Service) AcksRecovered(ctx context.Context) (int64, error) {
	return s.ackQ.Recovered(ctx)
}

// ErrPermanent marks a delivery error that retrying cannot fix (a 5xx
// reply to RCPT, say).
var ErrPermanent = errors.New("permanent failure")

// AckAttemptFailed records a failed send of a claimed acknowledgement:
// retried with back-off and jitter, given up after MaxAttempts or a
// permanent error. A claim that ended meanwhile (its instance was taken
// for dead and another sender has the ack) records nothing.
func (s *Service) AckAttemptFailed(ctx context.Context, a Ack, sendErr error) error {
	_, err := s.ackQ.Failed(s.store.w.WithContext(ctx),
		outbox.Attempt{ID: a.ID, Owner: a.LeaseOwner, Attempts: a.Attempts}, sendErr, errors.Is(sendErr, ErrPermanent))
	return err
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
