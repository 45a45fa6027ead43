package cases

import (
	"context"
	"fmt"
	"strings"
	"time"

	"notme/cases/typo"
)

// The address guard answers a sending system that asks, before it sends
// account mail to an address (at sign-up, at an email change, before a
// credential mail): may I send, or should the address be confirmed first?
// It tells what the desk knows and nothing more: the suppression list (an
// owner said "not me"), and a likely typo of a mail domain.

// Verdicts of the address guard, from the mildest.
const (
	VerdictSend         = "send"
	VerdictConfirmFirst = "confirm_first"
	VerdictDoNotSend    = "do_not_send"
)

// Reason codes of the address guard.
const (
	// GuardSuppressed: the address is on the suppression list for this
	// account or for every account.
	GuardSuppressed = "suppressed"
	// GuardLikelyTypo: the domain looks like a slip of the finger for a
	// known one (Suggestion).
	GuardLikelyTypo = "likely_typo"
	// GuardNoMailServer: the domain has neither an MX nor an A or AAAA
	// record, so no mail sent to it can arrive (Domain).
	GuardNoMailServer = "no_mail_server"
)

// MailServers answers whether a domain can receive mail (internal/mxcheck
// asks DNS); known is false when it could not find out, and then the
// guard says nothing: a DNS outage never holds up a sign-up.
type MailServers interface {
	HasMailServer(ctx context.Context, domain string) (has, known bool)
}

// GuardInput is one question to the guard.
type GuardInput struct {
	Address    string
	AccountRef string // optional: entries for this account count too
	Kind       string // optional: the kind of mail about to go
}

// GuardReason is one reason of an answer, by code, with its facts.
type GuardReason struct {
	Code string
	// Suppressed: the entry's reason and scope ("account" or "all"), and
	// since when.
	Reason string
	Scope  string
	Since  *time.Time
	// LikelyTypo: the domain meant, and why it is suggested ("list", or
	// "learned" from reports).
	Domain string
	Source string
}

// GuardAnswer is the guard's answer: the verdict, every reason for it, and
// the address most likely meant when a typo is the reason.
type GuardAnswer struct {
	Verdict    string
	Reasons    []GuardReason
	Suggestion string
}

// CheckAddress is the guard. Only a key with addresses:check may ask: the
// answer tells whether an address is on the suppression list.
func (s *Service) CheckAddress(ctx context.Context, a Actor, in GuardInput) (GuardAnswer, error) {
	if a.APIKey == nil || !a.APIKey.HasScope(ScopeAddressesCheck) {
		return GuardAnswer{}, Errorf(EFORBIDDEN, "The address guard needs an API key with the addresses:check scope.")
	}
	addr := strings.ToLower(strings.TrimSpace(in.Address))
	in.AccountRef = strings.TrimSpace(in.AccountRef)
	switch {
	case addr == "" || len(addr) > maxRecipient || !validAddress(addr):
		return GuardAnswer{}, Errorf(EINVALID, "address must be an email address")
	case len(in.AccountRef) > maxAccountRef || (in.AccountRef != "" && !printable(in.AccountRef)):
		return GuardAnswer{}, Errorf(EINVALID, "account_ref must be at most %d printable bytes", maxAccountRef)
	}
	if in.Kind != "" {
		if _, ok := s.kinds[in.Kind]; !ok {
			return GuardAnswer{}, Errorf(EINVALID, "kind must be one of: %s", s.kindNames())
		}
	}
	ans := GuardAnswer{Verdict: VerdictSend, Reasons: []GuardReason{}}
	held, err := s.SuppressedFor(ctx, addr, in.AccountRef)
	if err != nil {
		return GuardAnswer{}, err
	}
	for _, x := range held {
		scope := "account"
		if x.AccountRef == AllAccounts {
			scope = "all"
		}
		since := x.CreatedAt
		ans.Reasons = append(ans.Reasons, GuardReason{Code: GuardSuppressed, Reason: x.Reason, Scope: scope, Since: &since})
		ans.Verdict = VerdictDoNotSend
	}
	typos, err := s.suggester(ctx)
	if err != nil {
		return GuardAnswer{}, err
	}
	if sg, ok := typos.Suggest(addr); ok {
		ans.Reasons = append(ans.Reasons, GuardReason{Code: GuardLikelyTypo, Domain: sg.Domain, Source: string(sg.Source)})
		ans.Suggestion = sg.Address
		if ans.Verdict == VerdictSend {
			ans.Verdict = VerdictConfirmFirst
		}
	}
	if s.mailServers != nil {
		domain := ackDomain(addr)
		if has, known := s.mailServers.HasMailServer(ctx, domain); known && !has {
			ans.Reasons = append(ans.Reasons, GuardReason{Code: GuardNoMailServer, Domain: domain})
			if ans.Verdict == VerdictSend {
				ans.Verdict = VerdictConfirmFirst
			}
		}
	}
	return ans, nil
}

// SuggestDomain is the public "did you mean …?" helper's answer: the
// address (or, asked a bare domain, the domain) most likely meant, and
// nothing of the suppression list, so that anyone may ask it.
func (s *Service) SuggestDomain(ctx context.Context, addr string) (string, bool, error) {
	typos, err := s.suggester(ctx)
	if err != nil {
		return "", false, err
	}
	sg, ok := typos.Suggest(strings.TrimSpace(addr))
	if sg.Address == "" {
		return sg.Domain, ok, nil // a bare domain was asked
	}
	return sg.Address, ok, nil
}

// newTypos is the service's typo suggester: the known domains, to which
// the typo domains leads confirm are added (LearnTypos).
func newTypos() (*typo.Suggester, error) {
	t, err := typo.New()
	if err != nil {
		return nil, fmt.Errorf("load the known mail domains: %w", err)
	}
	return t, nil
}
