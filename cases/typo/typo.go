// Package typo suggests the mail domain a person most likely meant when the
// one they typed looks like a slip of the finger: "gmial.com" for
// "gmail.com", "docomo.ne.jo" for "docomo.ne.jp". It is pure (no storage,
// no network) and answers from memory, because a sending system asks it on
// every sign-up.
//
// It prefers silence to a wrong answer, as mailcheck 2.0 does: it suggests
// only a known domain, only within a few keystrokes of what was typed, and
// only when that domain is clearly the nearest; it abstains on a tie, on a
// domain it knows, and on a real-looking name under a valid public suffix
// that is not close to a known domain. Domains learned from misdirected
// mail reports (a typo domain and the domain a lead confirmed was meant)
// are added at run time with Learn.
package typo

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/net/publicsuffix"
)

// domainsFile lists the known domains; its header names where each part
// of it came from.
//
//go:embed domains.txt
var domainsFile string

// Source says why a suggestion was made.
type Source string

const (
	// SourceList: the typed domain is a few keystrokes from a known domain.
	SourceList Source = "list"
	// SourceLearned: the typed domain was learned from confirmed reports.
	SourceLearned Source = "learned"
)

// Suggestion is the one domain the suggester offers instead of the typed
// one.
type Suggestion struct {
	// Domain is the suggested domain, e.g. "gmail.com".
	Domain string
	// Address is the input with its domain replaced; it is empty when the
	// input was a bare domain.
	Address string
	Source  Source
}

// Pair is a typo domain and the domain that was meant, as a lead confirms
// it from reports.
type Pair struct {
	Typo, Intended string
}

// Suggester holds the known domains and the learned pairs. Its methods are
// safe for concurrent use: lookups read the learned pairs without a lock.
type Suggester struct {
	known  map[string]bool
	groups []suffixGroup

	learnMu sync.Mutex                        // serialises Learn
	learned atomic.Pointer[map[string]string] // typo domain → intended, replaced whole
}

// suffixGroup is the known domains under one public suffix. A typed
// domain's suffix is compared once per group, and its label only with the
// groups whose suffix is in reach, which keeps a lookup to microseconds.
type suffixGroup struct {
	suffix  string // "ne.jp"
	tld     string // "jp"
	dots    int    // dots in suffix, to cut a typed domain the same way
	targets []target
}

// target is a known domain that may be suggested, split where a typist's
// slips are judged separately: the label before the public suffix, and
// the suffix (its group's).
type target struct {
	name   string // "docomo.ne.jp"
	label  string // "docomo"
	budget int    // the most the label's slips may cost, by its length
}

// New returns a Suggester that knows the embedded domain list.
func New() (*Suggester, error) {
	var domains, knownOnly []string
	for line := range strings.Lines(domainsFile) {
		line, _, _ = strings.Cut(line, "#")
		name, flag, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch flag = strings.TrimSpace(flag); {
		case name == "":
		case flag == "":
			domains = append(domains, name)
		case flag == "known-only":
			knownOnly = append(knownOnly, name)
		default:
			return nil, fmt.Errorf("typo: embedded domains.txt: %q: unknown flag %q", name, flag)
		}
	}
	s, err := NewWithDomains(domains, knownOnly)
	if err != nil {
		return nil, fmt.Errorf("typo: embedded domains.txt: %w", err)
	}
	return s, nil
}

// NewWithDomains returns a Suggester that knows only domains and
// knownOnly, and suggests only domains: a known-only domain is never
// corrected and never suggested, for a real name whose neighbours are
// other real names ("email.com" beside "emil.com" and "edmail.com").
func NewWithDomains(domains, knownOnly []string) (*Suggester, error) {
	s := &Suggester{known: make(map[string]bool, len(domains)+len(knownOnly))}
	for _, d := range knownOnly {
		name, ok := normalise(d)
		if !ok || name != d || s.known[name] {
			return nil, fmt.Errorf("known-only domain %q: not a lower-case domain name, or listed twice", d)
		}
		s.known[name] = true
	}
	for _, d := range domains {
		name, ok := normalise(d)
		if !ok || name != d {
			return nil, fmt.Errorf("known domain %q: not a lower-case domain name", d)
		}
		if s.known[name] {
			return nil, fmt.Errorf("known domain %q: listed twice", d)
		}
		suffix, icann := publicsuffix.PublicSuffix(name)
		if !icann || suffix == name {
			return nil, fmt.Errorf("known domain %q: not under an ICANN public suffix", d)
		}
		s.known[name] = true
		label := strings.TrimSuffix(name, "."+suffix)
		t := target{name: name, label: label, budget: labelBudget(len(label))}
		i := slices.IndexFunc(s.groups, func(g suffixGroup) bool { return g.suffix == suffix })
		if i < 0 {
			s.groups = append(s.groups, suffixGroup{
				suffix: suffix,
				tld:    suffix[strings.LastIndexByte(suffix, '.')+1:],
				dots:   strings.Count(suffix, "."),
			})
			i = len(s.groups) - 1
		}
		s.groups[i].targets = append(s.groups[i].targets, t)
	}
	s.learned.Store(&map[string]string{})
	return s, nil
}

// labelBudget is what the slips in a known domain's label may cost, by the
// label's length. Short names are dense (one edit turns "live" into "love"
// and "aol" into "aim", all real), so a label of four letters or fewer must
// be typed exactly; a longer one may carry one edit. Two are too many even
// in a long label: mail provider names are mostly "<word>mail", and two
// edits on the word reach another provider ("busymail", "hushmail").
func labelBudget(n int) int {
	if n <= 4 {
		return 0
	}
	return costEdit
}

// Known reports whether domain is one of the known domains.
func (s *Suggester) Known(domain string) bool {
	d, ok := normalise(domain)
	return ok && s.known[d]
}

// Learn adds typo → intended pairs; a later pair for the same typo domain
// replaces the earlier. It refuses a pair whose typo domain is a known
// domain (a report never turns a real provider into a typo) or equals its
// intended domain, and then adds none of the pairs.
func (s *Suggester) Learn(pairs []Pair) error {
	clean := make([]Pair, 0, len(pairs))
	for _, p := range pairs {
		typo, ok1 := normalise(p.Typo)
		intended, ok2 := normalise(p.Intended)
		switch {
		case !ok1 || !ok2:
			return fmt.Errorf("learn %q → %q: not a domain name", p.Typo, p.Intended)
		case typo == intended:
			return fmt.Errorf("learn %q → %q: the same domain", p.Typo, p.Intended)
		case s.known[typo]:
			return fmt.Errorf("learn %q → %q: %w", p.Typo, p.Intended, ErrKnownDomain)
		}
		clean = append(clean, Pair{typo, intended})
	}
	s.learnMu.Lock()
	defer s.learnMu.Unlock()
	old := *s.learned.Load()
	next := make(map[string]string, len(old)+len(clean))
	maps.Copy(next, old)
	for _, p := range clean {
		next[p.Typo] = p.Intended
	}
	s.learned.Store(&next)
	return nil
}

// ErrKnownDomain is Learn's answer to a pair whose typo domain is known.
var ErrKnownDomain = errors.New("the typo domain is a known mail domain")

// Suggest returns the domain most likely meant by the domain of
// addressOrDomain (an address, or a bare domain), and false when it has
// nothing to suggest: the domain is known, is not a domain name, or no
// known domain is clearly the nearest.
func (s *Suggester) Suggest(addressOrDomain string) (Suggestion, bool) {
	local, domain, isAddress := splitAddress(addressOrDomain)
	d, ok := normalise(domain)
	if !ok || s.known[d] {
		return Suggestion{}, false
	}
	if intended, ok := (*s.learned.Load())[d]; ok {
		return suggestion(local, intended, isAddress, SourceLearned), true
	}
	best, ok := s.nearest(d)
	if !ok {
		return Suggestion{}, false
	}
	return suggestion(local, best, isAddress, SourceList), true
}

func suggestion(local, domain string, isAddress bool, src Source) Suggestion {
	sg := Suggestion{Domain: domain, Source: src}
	if isAddress {
		sg.Address = local + "@" + domain
	}
	return sg
}

// nearest is the known domain clearly nearest to d, if there is one.
func (s *Suggester) nearest(d string) (string, bool) {
	// d's own public suffix decides whether d reads as a real name under
	// a real suffix ("gmail.co" does; "gmail.con" does not).
	ownSuffix, icann := publicsuffix.PublicSuffix(d)
	r := ranking{best: costNewName, second: costNewName}
	for gi := range s.groups {
		g := &s.groups[gi]
		cut := len(d)
		for range g.dots + 1 {
			if cut = strings.LastIndexByte(d[:cut], '.'); cut <= 0 {
				break
			}
		}
		if cut <= 0 {
			// Fewer labels than the group's domains: a dot missed
			// ("yahoo.cojp"); one slip in all.
			for _, t := range g.targets {
				if abs(len(d)-len(t.name)) <= 1 {
					if c := editCost(d, t.name, partSuffix); c <= costEdit {
						r.add(c, t.name)
					}
				}
			}
			continue
		}
		label, suffix := d[:cut], d[cut+1:]
		cs, otherValid, ok := g.suffixCost(suffix, icann && ownSuffix == suffix)
		if !ok {
			continue
		}
		for _, t := range g.targets {
			if otherValid || t.budget == 0 {
				// Typed under another valid suffix, the label must be long
				// enough to be unmistakable and typed right: "gmail.co" is
				// a slip on gmail.com, "live.co" and "gmial.co" may be
				// names of their own.
				if label == t.label && (!otherValid || len(t.label) >= 5) {
					r.add(cs, t.name)
				}
				continue
			}
			if abs(len(label)-len(t.label)) > 1 {
				continue
			}
			if cl := editCost(label, t.label, partLabel); cl <= t.budget {
				r.add(cl+cs, t.name)
			}
		}
	}
	// A tie is no suggestion: a missed typo is better than a wrong one.
	if r.best >= costNewName || r.second <= r.best {
		return "", false
	}
	return r.name, true
}

// ranking keeps the cheapest candidate and the runner-up's cost.
type ranking struct {
	best, second int
	name         string
}

func (r *ranking) add(cost int, name string) {
	switch {
	case cost < r.best:
		r.best, r.second, r.name = cost, r.best, name
	case cost < r.second:
		r.second = cost
	}
}

// suffixCost is what turning the typed suffix into g's costs, whether the
// typed one is itself a valid public suffix other than g's (validHere says
// it is the typed domain's own), and false when g is out of reach: more
// than one slip, another country's code typed with a far key
// ("yahoo.com.ru" is not "yahoo.com.au", "yahoo.co.jo" is a slip on
// "yahoo.co.jp"), or another valid suffix of the same length ("yahoo.ch",
// "posteo.se": the same name under another country's code is likely the
// provider's own domain there).
func (g *suffixGroup) suffixCost(suffix string, validHere bool) (cost int, otherValid, ok bool) {
	if suffix == g.suffix {
		return 0, false, true
	}
	if abs(len(suffix)-len(g.suffix)) > 1 {
		return 0, false, false
	}
	cs := editCost(suffix, g.suffix, partSuffix)
	if cs > costEdit {
		return 0, false, false
	}
	if tld := suffix[strings.LastIndexByte(suffix, '.')+1:]; g.dots > 0 && cs > costSlip && tld != g.tld && validTLD(tld) {
		return 0, false, false
	}
	if validHere && len(suffix) == len(g.suffix) {
		return 0, false, false
	}
	return cs, validHere, true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// validTLD reports whether label is a top-level domain on the ICANN part
// of the public suffix list.
func validTLD(label string) bool {
	suffix, icann := publicsuffix.PublicSuffix(label)
	return icann && suffix == label
}

// splitAddress splits at the last '@'; a string without one is a domain.
func splitAddress(s string) (local, domain string, isAddress bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return "", s, false
}

// normalise lower-cases d, drops a final dot, and reports whether what is
// left is a plausible ASCII domain name of at least two labels.
func normalise(d string) (string, bool) {
	d = strings.TrimSuffix(strings.TrimSpace(d), ".")
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") {
		return "", false
	}
	lower := true
	for i := 0; i < len(d); i++ {
		c := d[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
		case c == '.':
			if i == 0 || d[i-1] == '.' {
				return "", false
			}
		case 'A' <= c && c <= 'Z':
			lower = false
		default:
			return "", false
		}
	}
	if !lower {
		d = strings.ToLower(d)
	}
	return d, true
}
