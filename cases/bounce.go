package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"notme/cases/mask"
	"notme/cases/sealed"
)

// AuditBounceSuppressed is the audit action of an address a bounce put
// on the suppression list.
const AuditBounceSuppressed = "bounce_suppressed"

// suppressBounced lists the recipient of the ledger message a bounce names
// for that message's account (reason bounce, origin desk), when the bounce
// is one the desk may believe: anyone can write a delivery status
// notification naming a Message-ID and an address, and a forged one would
// stop the account's mail to its owner. So it acts only when
//   - a configured bounce sender's DKIM signature was verified by the
//     desk's own MTA (VerifiedBounce),
//   - the status is a permanent failure (RFC 3463 section 3.1: class 5),
//   - the ledger message's recipient is among the failed recipients.
//
// Any other bounce stays evidence on the case, as before. c is the
// account's open case, if any, named as the entry's source.
func (b *mailBatch) suppressBounced(p ParsedMail, m match, c *Case, now time.Time) error {
	if !p.VerifiedBounce || !strings.HasPrefix(strings.TrimSpace(p.BounceStatus), "5.") ||
		m.by != "ledger" || m.recipient == "" || m.accountRef == "" {
		return nil
	}
	if !slices.ContainsFunc(p.BounceRecipients, func(r string) bool { return sameAddress(r, m.recipient) }) {
		return nil
	}
	addr := strings.ToLower(strings.TrimSpace(m.recipient))
	x := Suppression{AddrHash: sealed.RecipientHash(addr), AddrMasked: mask.Address(addr), Domain: ackDomain(addr),
		AccountRef: m.accountRef, Reason: SuppressBounce, Origin: OriginDesk, CreatedBy: actorDesk, CreatedAt: now}
	if c != nil && c.ID != 0 {
		x.CaseID = &c.ID
	}
	x, added, err := b.s.suppress(b.tx, x)
	if err != nil || !added {
		return err
	}
	err = b.tx.Create(&AuditEntry{At: now, Actor: actorDesk, Action: AuditBounceSuppressed,
		Subject: "suppression:" + fmt.Sprint(x.ID),
		Detail:  fmt.Sprintf("%s for %s: bounce %s of %s", x.AddrMasked, accountScope(x.AccountRef), p.BounceStatus, m.messageID),
		Args:    Args{"address": x.AddrMasked, "account": x.AccountRef, "status": p.BounceStatus}}).Error
	if err != nil {
		return fmt.Errorf("audit the bounce's suppression: %w", err)
	}
	return nil
}
