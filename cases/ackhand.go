package cases

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"notme/cases/ident"
	"notme/cases/sealed"
)

// EventAckSentByHand is the timeline event of a held acknowledgement a
// person sent.
const EventAckSentByHand = "ack_sent_by_hand"

// AuditSendHeldAck is the audit action of a held acknowledgement sent by
// hand.
const AuditSendHeldAck = "send_held_ack"

// ackPlausible reports whether the report's sender is plausibly who the
// company's mail went to, so that acknowledging it mails that person and
// no one an attacker named (issue 12, backscatter): the From is the
// ledger recipient of the matched mail (recipient), a sealed token in the
// mail was sealed for the From (sealed.Claims.RecipientHash), or the desk's own
// receiving server saw DMARC pass for the From's domain.
func (s *Service) ackPlausible(p ParsedMail, recipient string) bool {
	if p.From == "" {
		return false
	}
	if recipient != "" && strings.EqualFold(strings.TrimSpace(recipient), p.From) {
		return true
	}
	if p.DMARCPass {
		return true
	}
	toks := p.Tokens
	for _, id := range p.MessageIDs {
		if tok := TokenFromMessageID(id); tok != "" {
			toks = append(toks[:len(toks):len(toks)], tok)
		}
	}
	want := sealed.RecipientHash(p.From)
	for i, tok := range toks {
		if i == maxPlausibleTokens {
			break
		}
		if c, err := s.sealer.Open(tok); err == nil && c.RecipientHash != nil && bytes.Equal(c.RecipientHash, want) {
			return true
		}
	}
	return false
}

// maxPlausibleTokens bounds the tokens of one mail ackPlausible opens.
const maxPlausibleTokens = 20

// SendHeldAck sends a held acknowledgement after all: a security-trained
// member of staff judged that the reporter is who they say (AckHandSendable
// lists the reasons a person may overrule; a sender_check hold never
// goes). The ack becomes due at once with a fresh status link (the held
// one kept none), the timeline and the audit log say who sent it, and
// the acknowledgement sender sends it like any other.
func (s *Service) SendHeldAck(ctx context.Context, a Actor, ref string, ackID int64) (Case, error) {
	if !a.canWork() {
		return Case{}, errNotTrained
	}
	c, err := s.inCase(ctx, a, ref, func(tx *gorm.DB, c *Case, now time.Time) error {
		var ack Ack
		if err := tx.Where("id = ? AND case_id = ?", ackID, c.ID).Limit(1).Find(&ack).Error; err != nil {
			return fmt.Errorf("read acknowledgement %d: %w", ackID, err)
		}
		if ack.ID == 0 {
			return Errorf(ENOTFOUND, "no such acknowledgement on this case")
		}
		reason := ack.HeldReason()
		switch {
		case reason == "":
			return Errorf(ECONFLICT, "This acknowledgement is not held back; it is %s.", ack.State)
		case !ack.SendableByHand():
			return Errorf(ECONFLICT, "This acknowledgement is never sent: the mail asked for no answer, or an answer could land on someone who did not write it.")
		}
		statusURL, err := s.freshStatusURL(tx, ack.MailID)
		if err != nil {
			return err
		}
		// Retried by hand on the outbox: due now, for any sender.
		ok, err := s.ackQ.Requeue(tx, ack.ID, AckSuppressed, map[string]any{"last_error": "", "attempts": 0, "status_url": statusURL})
		if err != nil {
			return fmt.Errorf("release acknowledgement %d: %w", ack.ID, err)
		}
		if !ok {
			return Errorf(ECONFLICT, "This acknowledgement was sent meanwhile.")
		}
		if err := tx.Create(&[]Event{event(c, a, now, EventAckSentByHand,
			fmt.Sprintf("Acknowledgement held back (%s) sent by hand.", reason)).
			with(CodeAckSentByHand, Args{"held": reason})}).Error; err != nil {
			return fmt.Errorf("append timeline: %w", err)
		}
		return tx.Create(&AuditEntry{At: now, Actor: a.String(), Action: AuditSendHeldAck,
			Subject: "case:" + c.Ref, Detail: fmt.Sprintf("acknowledgement %d (held: %s)", ack.ID, reason),
			Args: Args{"ack": argInt(ack.ID), "held": reason}}).Error
	})
	if err != nil {
		return c, fmt.Errorf("send held acknowledgement %d: %w", ackID, err)
	}
	s.ackWake.Notify()
	return c, nil
}

// freshStatusURL gives the report of a mail a new status link and returns
// it: a held acknowledgement kept no secret, and the reporter never had
// the old one. "" when the mail filed no report.
func (s *Service) freshStatusURL(tx *gorm.DB, mailID int64) (string, error) {
	var m MailMessage
	if err := tx.Omit("raw").Where("id = ?", mailID).Limit(1).Find(&m).Error; err != nil {
		return "", fmt.Errorf("read mail %d: %w", mailID, err)
	}
	if m.ReportID == nil {
		return "", nil
	}
	tok := ident.RandomToken(18)
	if err := tx.Model(&Report{}).Where("id = ?", *m.ReportID).Update("status_hash", ident.HashSecret(tok)).Error; err != nil {
		return "", fmt.Errorf("new status link: %w", err)
	}
	return s.publicURL + "/s/" + tok, nil
}

// AckWake is signalled when a person releases a held acknowledgement, so
// the acknowledgement sender sends it now rather than at its next round.
func (s *Service) AckWake() <-chan struct{} { return s.ackWake }
