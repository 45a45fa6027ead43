// Package mailparse turns one raw report mail into what the desk needs to
// file it: its class, the candidate Message-IDs of the original (the
// company's mail that reached the wrong person), the sealed tokens found, and
// where each came from.
//
// It is pure (bytes in, result out) and total: Parse never panics and never
// fails on bad mail. Problems are recorded in the result, the size, MIME
// depth, part count and header limits are enforced, and the result carries
// the parser's Version so that stored mail can be parsed again when the
// parser improves. It imports neither cases nor any IMAP code: `notme parse`
// is this package and nothing else.
package mailparse

import (
	"fmt"
	"sort"
	"strings"

	_ "github.com/emersion/go-message/charset" // ISO-2022-JP, Shift_JIS, EUC-JP and the rest
)

// Version is the parser's version, stored with every result. Bump it when
// results change, so stored mail can be re-parsed.
const Version = 2 // 2: links rewritten by Proofpoint URL Defense and Safe Links are read for the URL they stand for

// Class is what kind of mail a report mail is.
type Class string

const (
	ClassReport    Class = "report"     // a person's mail that carries a candidate, or a reply or forward to the desk
	ClassAutoReply Class = "auto-reply" // generated mail: vacation replies, RFC 3834 auto-replies, read receipts, the desk's own mail
	ClassBounce    Class = "bounce"     // a delivery status notification (RFC 3464) or a non-standard bounce
	ClassARF       Class = "arf"        // an abuse feedback report (RFC 5965, X-ARF, Hotmail JMRP)
	ClassUnrelated Class = "unrelated"  // a person's mail with no candidate at all
)

// Where a candidate came from (Result.Sources).
const (
	SourceInReplyTo      = "in-reply-to"
	SourceReferences     = "references"
	SourceAttachment     = "attachment"     // an attached message/rfc822 or message/global, or a report's original
	SourceHeaders        = "rfc822-headers" // a text/rfc822-headers part
	SourceARF            = "arf"            // an abuse report's original or its text
	SourceBody           = "body"           // text or HTML
	SourceLink           = "link"           // a /r/TOKEN URL
	SourceMessageIDToken = "message-id-token"
	SourceAddress        = "address"         // notme+TOKEN@ in To, Cc, Delivered-To, X-Original-To, Reply-To
	SourceForward        = "forward-headers" // an inline forward's header block
	SourceResent         = "resent"          // the Message-ID of a message redirected with Resent-* fields
)

// Result is what Parse found. MessageIDs, Tokens and Sources are never nil,
// so JSON shows [] and {}.
type Result struct {
	Class      Class             `json:"class"`
	MessageIDs []string          `json:"message_ids"` // candidates for the original, strongest first, without angle brackets; never the report's own Message-ID
	Tokens     []string          `json:"tokens"`      // candidate sealed tokens, strongest first
	Sources    map[string]string `json:"sources"`     // candidate → Source*
	MessageID  string            `json:"message_id"`  // the report mail's own Message-ID, without brackets
	From       string            `json:"from"`        // the reporter's address, lower-cased
	Subject    string            `json:"subject"`     // decoded (RFC 2047)
	Lang       string            `json:"lang"`        // "ja" or "en": the language to answer in
	Original   *Original         `json:"original,omitempty"`
	Auto       string            `json:"auto,omitempty"` // why this mail must never be acknowledged; "" = a person wrote it
	// DMARCPass: the desk's own receiving server (a trusted authserv-id)
	// says DMARC passed for the From's domain, so the From is the
	// sender's (issue 12: an acknowledgement goes only to a plausible
	// reporter).
	DMARCPass bool     `json:"dmarc_pass,omitempty"`
	Bounce    *Bounce  `json:"bounce,omitempty"` // for ClassBounce
	Problems  []string `json:"problems,omitempty"`
	Text      string   `json:"-"` // the readable text, at most 64 KB, for staff
	Parser    int      `json:"parser"`

	// FeedbackLoop, for ClassARF, is the signing domain of a DKIM signature
	// that a trusted server verified for one of Options.FeedbackLoopSenders:
	// the report is that provider's. "" = anyone could have written it.
	FeedbackLoop string `json:"feedback_loop,omitempty"`
}

// Original is what is known of the original mail, from an attachment, a
// report's original, an inline forward's header block or a reply's
// attribution line.
type Original struct {
	MessageID string `json:"message_id,omitempty"`
	From      string `json:"from,omitempty"` // the address, lower-cased, or the name when no address is shown
	To        string `json:"to,omitempty"`
	Subject   string `json:"subject,omitempty"`
	Date      string `json:"date,omitempty"` // as written
}

// Bounce is the failed delivery a bounce reports.
type Bounce struct {
	Recipients []string `json:"recipients"`
	Status     string   `json:"status,omitempty"` // RFC 3463 status code, e.g. 5.1.1
	// Verified is the DKIM signing domain that shows the bounce to come
	// from one of Options.BounceSenders; "" = anyone could have written it.
	Verified string `json:"verified,omitempty"`
}

// Options bound the work done on one mail. The zero value means the
// defaults.
type Options struct {
	MaxSize      int64    // default 25 MB; beyond it the rest is not parsed and a problem is recorded (the caller still stores the raw bytes)
	MaxDepth     int      // default 8 MIME nesting levels (multipart and attached messages)
	MaxParts     int      // default 500
	MaxHeaders   int      // default 1000 header fields per part
	MaxHeaderLen int      // default 64 KB per field
	OwnAddresses []string // the desk's own addresses: mail from them is Auto "own-address" (loop protection)
	// LinkHosts: hosts whose /r/TOKEN URLs count as not-me links; empty = any host.
	LinkHosts []string
	// TrustedAuthservIDs are the authserv-ids of the desk's own receiving
	// servers: only their Authentication-Results fields (RFC 8601) count,
	// and a DMARC or SPF failure there makes the mail Auto (never answered).
	TrustedAuthservIDs []string
	// FeedbackLoopSenders are the mailbox providers' feedback-loop senders
	// (addresses, or domains meaning any address at or below them): an
	// abuse report From one of them whose DKIM signature a trusted server
	// verified gets Result.FeedbackLoop.
	FeedbackLoopSenders []string
	// BounceSenders are the senders whose delivery status notifications
	// the desk believes (the company's outbound MTA or mail service), in
	// the same form: a bounce From one of them whose DKIM signature a
	// trusted server verified gets Bounce.Verified.
	BounceSenders []string
}

const (
	defaultMaxSize      = 25 << 20
	defaultMaxDepth     = 8
	defaultMaxParts     = 500
	defaultMaxHeaders   = 1000
	defaultMaxHeaderLen = 64 << 10

	maxText       = 64 << 10 // Result.Text
	maxCandidates = 100      // per list; a mail with more is noise or an attack
	maxProblems   = 50
)

func (o Options) withDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = defaultMaxSize
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = defaultMaxDepth
	}
	if o.MaxParts <= 0 {
		o.MaxParts = defaultMaxParts
	}
	if o.MaxHeaders <= 0 {
		o.MaxHeaders = defaultMaxHeaders
	}
	if o.MaxHeaderLen <= 0 {
		o.MaxHeaderLen = defaultMaxHeaderLen
	}
	return o
}

// Parse parses one raw RFC 5322 message. It always returns a Result: bad
// mail yields what could be found plus Problems, never an error or a panic.
func Parse(raw []byte, o Options) (res Result) {
	p := newParser(o)
	defer func() {
		if r := recover(); r != nil {
			// A bug, not bad mail: keep the mail visible as unparsed rather
			// than crash the poller. FuzzParse fails on this problem.
			res = Result{
				Class:      ClassUnrelated,
				MessageIDs: []string{},
				Tokens:     []string{},
				Sources:    map[string]string{},
				Lang:       "en",
				Problems:   []string{fmt.Sprintf("%s: %v", internalError, r)},
				Parser:     Version,
			}
		}
	}()
	p.parse(raw)
	return p.result()
}

const internalError = "internal error"

// candidate tiers: lower is stronger; within a tier, first found first.
const (
	// Message-IDs. The attached original is what the reporter forwarded.
	idAttached       = iota // own Message-ID of an attached message, a report's original, Resent
	idReply                 // In-Reply-To and References of the report mail
	idForward               // a Message-ID line in an inline forward's header block
	idBody                  // pasted in the text
	idAttachedThread        // In-Reply-To and References of an attached message
)

const (
	// Tokens: address and In-Reply-To first, then attachment and ARF, then
	// links, then bare text.
	tokReply    = iota // notme+TOKEN in the report's recipients, nm1. in its In-Reply-To/References
	tokAttached        // from an attached message's or a forward block's header
	tokLink            // /r/TOKEN
	tokBody            // bare, or an nm1. Message-ID pasted in the text
)

type candidate struct {
	value, source string
	tier, seq     int
}

type candidates struct {
	list  []candidate
	index map[string]int
}

// add records v or, when v is known, makes it stronger if tier is.
func (c *candidates) add(v, source string, tier, seq int) {
	if c.index == nil {
		c.index = map[string]int{}
	}
	if i, ok := c.index[v]; ok {
		if tier < c.list[i].tier {
			c.list[i].tier, c.list[i].source = tier, source
		}
		return
	}
	if len(c.list) >= maxCandidates*4 {
		return
	}
	c.index[v] = len(c.list)
	c.list = append(c.list, candidate{value: v, source: source, tier: tier, seq: seq})
}

func (c *candidates) sorted() []candidate {
	out := append([]candidate(nil), c.list...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].tier != out[j].tier {
			return out[i].tier < out[j].tier
		}
		return out[i].seq < out[j].seq
	})
	return out
}

// result assembles the Result from what the walk found.
func (p *parser) result() Result {
	r := Result{
		MessageIDs: []string{},
		Tokens:     []string{},
		Sources:    map[string]string{},
		MessageID:  p.msgID,
		From:       p.from,
		Subject:    p.subject,
		Original:   p.original,
		Parser:     Version,
	}
	for _, c := range p.ids.sorted() {
		if c.value == p.msgID || p.ownIDs[c.value] {
			continue
		}
		if len(r.MessageIDs) == maxCandidates {
			p.problem(fmt.Sprintf("candidate limit: more than %d Message-IDs", maxCandidates))
			break
		}
		r.MessageIDs = append(r.MessageIDs, c.value)
		r.Sources[c.value] = c.source
	}
	for _, c := range p.toks.sorted() {
		if len(r.Tokens) == maxCandidates {
			p.problem(fmt.Sprintf("candidate limit: more than %d tokens", maxCandidates))
			break
		}
		r.Tokens = append(r.Tokens, c.value)
		r.Sources[c.value] = c.source
	}
	if r.Original != nil && *r.Original == (Original{}) {
		r.Original = nil
	}

	p.classify(&r)
	for _, id := range r.MessageIDs {
		switch src := r.Sources[id]; {
		case r.Class == ClassARF && (src == SourceAttachment || src == SourceHeaders || src == SourceBody):
			// Everything an abuse report tells of its original is the report's.
			r.Sources[id] = SourceARF
		case r.Class == ClassBounce && src == SourceForward:
			// A header block in a bounce's text is the returned header,
			// not a forward.
			r.Sources[id] = SourceHeaders
		}
	}
	r.Lang = p.lang()
	r.Text = p.text.String()
	r.Problems = p.problems
	return r
}

// classify sets Class, Auto and Bounce: loop protection first, because
// acknowledging generated mail is how mail loops start.
func (p *parser) classify(r *Result) {
	bounce := p.isBounce()
	arf := p.arf || p.xarf
	auto := p.auto
	switch {
	case p.ownAddress:
		auto = "own-address"
	case arf:
		auto = "arf"
	case bounce:
		auto = "dsn"
	case p.mdn:
		auto = "mdn"
	}
	r.Auto = auto
	r.DMARCPass = p.dmarcPass && auto == ""

	switch {
	case arf:
		r.Class = ClassARF
		r.FeedbackLoop = feedbackLoop(p.from, p.dkimPass, p.o.FeedbackLoopSenders)
	case bounce:
		r.Class = ClassBounce
		b := &Bounce{Recipients: p.bounceRecipients(), Status: p.bounceStatus(),
			Verified: feedbackLoop(p.from, p.dkimPass, p.o.BounceSenders)}
		r.Bounce = b
	case p.ownAddress || p.mdn || p.autoClass:
		r.Class = ClassAutoReply
	case len(r.MessageIDs) > 0 || len(r.Tokens) > 0 || p.replyOrForward:
		r.Class = ClassReport
	default:
		r.Class = ClassUnrelated
	}
}

func (p *parser) bounceRecipients() []string {
	out := []string{}
	seen := map[string]bool{}
	for _, list := range [][]string{p.dsnFinal, p.dsnOriginal, p.failedRecipients, p.textRecipients} {
		if len(out) > 0 {
			break
		}
		for _, a := range list {
			a = strings.ToLower(a)
			if a != "" && !seen[a] && len(out) < maxCandidates {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

func (p *parser) bounceStatus() string {
	if p.dsnStatus != "" {
		return p.dsnStatus
	}
	return p.textStatus
}
