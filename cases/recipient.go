package cases

import (
	"bytes"
	"fmt"

	"notme/cases/sealed"
)

// accountLedgerLookup is the optional part of a matchLookup that lists an
// account's ledger messages; the single-report path has it, a mail batch
// (whose reports carry the reporter's address anyway) does not.
type accountLedgerLookup interface {
	ledgerOfAccount(account string, limit int) ([]LedgerMessage, error)
}

func (l txLookup) ledgerOfAccount(account string, limit int) ([]LedgerMessage, error) {
	var ms []LedgerMessage
	err := l.tx.Select("id, message_id, recipient").Where("account_ref = ?", account).
		Order("id DESC").Limit(limit).Find(&ms).Error
	return ms, err
}

// ledgerScan bounds the ledger messages of one account searched for a
// token's message.
const ledgerScan = 500

// withLedgerRecipient fills in the recipient of a token match from the
// ledger message the token was sealed for (its Message-ID hash, else its
// recipient hash), so that link clicks count towards shared_recipient and
// domain_cluster. A click on a token without either, or for mail not in the
// ledger, stays without a recipient: the desk never learns the address.
func (s *Service) withLedgerRecipient(l matchLookup, c sealed.Claims, m match) (match, error) {
	al, ok := l.(accountLedgerLookup)
	if !ok || (c.MessageIDHash == nil && c.RecipientHash == nil) {
		return m, nil
	}
	ms, err := al.ledgerOfAccount(c.AccountRef, ledgerScan)
	if err != nil {
		return match{}, fmt.Errorf("look up the ledger of a token's account: %w", err)
	}
	for _, lm := range ms {
		if (c.MessageIDHash != nil && bytes.Equal(sealed.MessageIDHash(lm.MessageID), c.MessageIDHash)) ||
			(c.RecipientHash != nil && bytes.Equal(sealed.RecipientHash(lm.Recipient), c.RecipientHash)) {
			m.recipient = lm.Recipient
			break
		}
	}
	return m, nil
}
