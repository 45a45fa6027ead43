package inbox

import (
	"notme/cases"
	"notme/inbox/mailparse"
)

// Parser adapts the mail parser to the domain.
type Parser struct {
	Options mailparse.Options
}

// ParseMail parses raw with the parser's options and says what the domain
// needs to know. Mail over the size limit is still stored: with what was
// found in its first MaxSize bytes and the reason "too-large".
func (p Parser) ParseMail(raw []byte) cases.ParsedMail {
	r := mailparse.Parse(raw, p.Options)
	pm := cases.ParsedMail{
		Class:         string(r.Class),
		MessageID:     r.MessageID,
		From:          r.From,
		Subject:       r.Subject,
		Lang:          r.Lang,
		MessageIDs:    r.MessageIDs,
		Tokens:        r.Tokens,
		Auto:          r.Auto,
		DMARCPass:     r.DMARCPass,
		Problems:      r.Problems,
		ParserVersion: r.Parser,
	}
	// An abuse report is a mailbox provider's only when the desk's own MTA
	// verified the DKIM signature of a configured feedback-loop sender.
	pm.VerifiedFeedbackLoop = r.Class == mailparse.ClassARF && r.FeedbackLoop != ""
	if r.Bounce != nil {
		pm.BounceRecipients, pm.BounceStatus = r.Bounce.Recipients, r.Bounce.Status
		// A bounce takes an address off the sending list only when the
		// desk's own MTA verified a configured bounce sender's signature.
		pm.VerifiedBounce = r.Bounce.Verified != ""
	}
	max := p.Options.MaxSize
	if max <= 0 {
		max = 25 << 20
	}
	if int64(len(raw)) > max {
		pm.Reason = cases.ReasonTooLarge
	}
	return pm
}
