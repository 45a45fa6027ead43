package mailparse

import (
	"strings"
)

// topHeader takes what the report mail's own header tells: who sent it, its
// thread, the address it was sent to, and whether a person wrote it.
func (p *parser) topHeader(h header) {
	if ids := messageIDs(h.get("message-id")); len(ids) > 0 {
		p.msgID = ids[0]
	}
	from := h.get("from")
	resent := false
	if rids := messageIDs(h.get("resent-message-id")); len(rids) > 0 {
		// RFC 5322 section 3.6.6: a redirected ("bounced") message keeps the
		// original's fields and adds its own in Resent-*. The original is
		// then the message itself.
		resent = true
		p.replyOrForward = true
		if p.msgID != "" {
			p.addID(p.msgID, SourceResent, idAttached)
		}
		p.setOriginal(&Original{
			MessageID: p.msgID,
			From:      p.addrOrText(from),
			To:        p.addrList(h.get("to")),
			Subject:   strings.TrimSpace(p.decodeWords(h.get("subject"))),
			Date:      strings.TrimSpace(h.get("date")),
		}, rankAttached)
		p.msgID = rids[0]
		if rf := h.get("resent-from"); rf != "" {
			from = rf
		}
	}
	if p.msgID != "" {
		p.ownIDs[p.msgID] = true
	}
	p.from = strings.ToLower(firstAddress(from))
	p.fromDomain = domainOf(p.from)
	p.subject = strings.TrimSpace(p.decodeWords(h.get("subject")))
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.get("content-language"))), "ja") {
		p.contentLangJa = true
	}

	var irt, refs []string
	for _, v := range h.all("in-reply-to") {
		irt = append(irt, messageIDs(v)...)
	}
	for _, v := range h.all("references") {
		refs = append(refs, messageIDs(v)...)
	}
	if resent {
		for _, id := range append(irt, refs...) {
			p.addID(id, SourceReferences, idAttachedThread)
		}
	} else {
		p.thread(irt, refs)
	}

	for _, k := range []string{"to", "cc", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to",
		"resent-to", "x-delivered-to", "x-forwarded-to", "x-rcpt-to"} {
		for _, v := range h.all(k) {
			p.addressTokens(v, tokReply)
		}
	}
	if replyOrForwardSubject(p.subject) {
		p.replyOrForward = true
	}

	p.loopHeader(h, from)
	p.dmarcPass = dmarcPassed(h, p.trustedAuthserv, p.fromDomain)
}

// thread adds In-Reply-To and References: the nearest parent first, but the
// original is the company's mail, not the reporter's own earlier mail nor
// the desk's acknowledgement, so ids in those domains come after the
// others.
func (p *parser) thread(irt, refs []string) {
	type entry struct {
		id, src string
		group   int // 0 another party's (the company's), 1 the desk's own, 2 the reporter's own
	}
	var list []entry
	seen := map[string]bool{}
	add := func(id, src string) {
		if seen[id] {
			return
		}
		seen[id] = true
		e := entry{id: id, src: src}
		d := domainOf(id)
		switch {
		case sameOrg(d, p.fromDomain):
			e.group = 2
		case p.ownDomains[d]:
			e.group = 1
		}
		list = append(list, e)
	}
	for _, id := range irt {
		add(id, SourceInReplyTo)
	}
	for i := len(refs) - 1; i >= 0; i-- {
		add(refs[i], SourceReferences)
	}
	for g := 0; g <= 2; g++ {
		for _, e := range list {
			if e.group == g {
				p.addID(e.id, e.src, idReply)
			}
		}
	}
	if len(list) > 0 {
		p.replyOrForward = true
	}
}

// providers groups the domains one mail provider uses for addresses and
// Message-IDs, so that a Gmail user's own earlier Message-ID
// (@mail.gmail.com) is known as theirs.
var providers = map[string]string{
	"gmail.com": "google", "googlemail.com": "google",
	"outlook.com": "microsoft", "hotmail.com": "microsoft", "live.com": "microsoft", "msn.com": "microsoft",
	"hotmail.co.jp": "microsoft", "outlook.jp": "microsoft", "live.jp": "microsoft", "hotmail.co.uk": "microsoft",
	"icloud.com": "apple", "me.com": "apple", "mac.com": "apple",
	"yahoo.co.jp": "yahoo", "yahoo.com": "yahoo", "yahoo.ne.jp": "yahoo", "ymail.com": "yahoo",
	"ezweb.ne.jp": "kddi", "au.com": "kddi",
	"softbank.ne.jp": "softbank", "softbank.jp": "softbank",
}

func sameOrg(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a) {
		return true
	}
	oa, ob := orgDomain(a), orgDomain(b)
	if oa == ob {
		return true
	}
	pa, pb := providers[oa], providers[ob]
	return pa != "" && pa == pb
}

// orgDomain is a small stand-in for the public suffix list: the last two
// labels, or three under a country's second-level domains (example.co.jp).
func orgDomain(d string) string {
	labels := strings.Split(strings.ToLower(d), ".")
	n := len(labels)
	if n <= 2 {
		return strings.Join(labels, ".")
	}
	if len(labels[n-1]) == 2 {
		switch labels[n-2] {
		case "co", "ne", "or", "ac", "go", "ed", "gr", "lg", "ad", "com", "net", "org", "gov", "edu":
			return strings.Join(labels[n-3:], ".")
		}
	}
	return strings.Join(labels[n-2:], ".")
}

var replyPrefixes = []string{"re:", "re：", "ｒｅ：", "ｒｅ:", "aw:", "sv:", "antw:", "res:", "返信:", "返信：", "r:"}
var forwardPrefixes = []string{"fwd:", "fw:", "fwd：", "fw：", "ｆｗｄ：", "ｆｗ：", "tr:", "wg:", "rv:", "enc:", "vs:", "doorst:", "転送:", "転送：", "[fwd:", "(fwd)"}

func subjectPrefix(s string, prefixes []string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, pre := range prefixes {
		if strings.HasPrefix(s, pre) {
			return true
		}
	}
	return false
}

func replyOrForwardSubject(s string) bool {
	return subjectPrefix(s, replyPrefixes) || subjectPrefix(s, forwardPrefixes)
}

// vacationWords mark vacation and out-of-office subjects. Matched only at
// the start of a subject or as a whole phrase, because a company's own
// subject ("ご不在連絡票") may contain 不在, and a reporter forwarding it
// is a person.
var vacationStarts = []string{
	"out of office", "out of the office", "automatic reply", "auto reply", "auto-reply", "autoreply",
	"auto response", "auto-response", "autoresponse", "vacation", "on vacation", "away from", "i am out of",
	"abwesenheit", "absence", "absent", "réponse automatique", "respuesta automática", "risposta automatica",
	"自動応答", "自動返信", "自動送信", "不在", "【自動返信】", "【自動応答】", "[自動返信]", "[自動応答]", "休暇",
}
var vacationPhrases = []string{
	"out of office", "out of the office", "automatic reply", "autoreply", "auto-reply", "自動応答", "自動返信",
	"不在通知", "不在のお知らせ", "不在連絡", "休暇のお知らせ", "休業のお知らせ",
}

func vacationSubject(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || subjectPrefix(s, forwardPrefixes) {
		return false
	}
	for _, v := range vacationStarts {
		if strings.HasPrefix(s, v) {
			return true
		}
	}
	if strings.HasPrefix(s, "ご不在") {
		return false // a parcel company's "we called while you were out"
	}
	for _, v := range vacationPhrases {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

var bounceSubjects = []string{
	"undeliver", "delivery status notification", "delivery failure", "delivery failed", "delivery has failed",
	"failure notice", "returned mail", "mail delivery failed", "mail system error", "delivery notification",
	"non-delivery", "nondeliver", "bounce notification", "bounced mail", "rejected:", "could not be delivered", "could not send message", "delayed mail",
	"message delayed", "delivery delayed", "returned to sender", "mail delivery", "delivery problem",
	"配信不能", "配送エラー", "メールエラー", "不達", "配信エラー", "配信できません", "送信エラー",
}

// loopHeader finds the reasons never to answer a mail automatically: RFC
// 3834 section 2 and the de-facto fields of common responders.
func (p *parser) loopHeader(h header, from string) {
	set := func(reason string, class bool) {
		if p.auto == "" {
			p.auto = reason
		}
		if class {
			p.autoClass = true
		}
	}
	if v := strings.ToLower(strings.TrimSpace(stripComment(h.get("auto-submitted")))); v != "" && v != "no" {
		if f := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' }); len(f) > 0 {
			v = f[0]
		}
		set("auto-submitted: "+clip(v, 40), true)
	}
	for _, k := range []string{"x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from", "x-mail-autoreply", "x-autogenerated", "x-autoresponse"} {
		if h.has(k) {
			v := strings.ToLower(strings.TrimSpace(h.get(k)))
			if v == "no" || v == "false" || v == "0" {
				continue
			}
			name := k
			switch k {
			case "x-autoreply-from", "x-mail-autoreply", "x-autoresponse":
				name = "x-autoreply"
			case "x-autoresponder":
				name = "x-autorespond"
			}
			set(name, true)
		}
	}
	switch prec := strings.ToLower(strings.TrimSpace(stripComment(h.get("precedence")))); prec {
	case "bulk", "junk":
		set("precedence: "+prec, true)
	case "list":
		// A list may carry a person's report; do not answer, but read it.
		set("precedence: list", false)
	}
	if vacationSubject(p.subject) {
		set("vacation", true)
	}
	if h.has("x-mlserver") || h.has("x-ml-name") || h.has("list-id") {
		// a list manager's own notice (fml's "Loop Alert", majordomo's
		// "owner-" mail), not a member's post
		local := p.from
		if at := strings.LastIndexByte(local, '@'); at >= 0 {
			local = local[:at]
		}
		if strings.HasSuffix(local, "-admin") || strings.HasSuffix(local, "-owner") || strings.HasSuffix(local, "-request") ||
			strings.HasSuffix(local, "-bounces") || strings.HasPrefix(local, "owner-") {
			set("list-admin", true)
		}
	}
	if why := authResults(h, p.trustedAuthserv); why != "" {
		set(why, false) // a person may have written it, but not from that From
	}
	p.dkimPass = dkimPassDomains(h, p.trustedAuthserv)
	if h.has("x-auto-response-suppress") {
		// The sender asks for no automatic answer; Outlook also sets it on
		// mail that people write, so it does not make the mail generated.
		set("x-auto-response-suppress", false)
	}
	rp := strings.TrimSpace(h.get("return-path"))
	if rp == "<>" || rp == "<<>>" {
		// RFC 5321 section 4.5.5: null reverse-path, a notification.
		p.nullSender = true
		set("null return-path", false)
	}

	if p.ownAddrs[p.from] {
		p.ownAddress = true
	}
	for _, v := range h.all("x-loop") {
		for _, a := range addresses(v) {
			if p.ownAddrs[strings.ToLower(a)] {
				p.ownAddress = true
			}
		}
	}
	if strings.EqualFold(strings.TrimSpace(h.get("x-arf")), "yes") {
		p.xarf = true
	}

	lf := strings.ToLower(from)
	local := p.from
	if at := strings.LastIndexByte(local, '@'); at >= 0 {
		local = local[:at]
	}
	switch {
	case local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon" || local == "mailerdaemon" || local == "mdaemon",
		strings.Contains(lf, "mailer-daemon"), strings.Contains(lf, "mail delivery"), strings.Contains(lf, "mail administrator"),
		strings.Contains(lf, "mailer daemon"), strings.Contains(lf, "postmaster"):
		p.daemonSender = true
	}
	ls := strings.ToLower(p.subject)
	for _, w := range bounceSubjects {
		if strings.Contains(ls, w) {
			p.bounceSubject = true
			break
		}
	}
	for _, v := range h.all("x-failed-recipients") {
		p.failedRecipients = append(p.failedRecipients, addresses(v)...)
	}
}

// isBounce: a delivery-status report, or a non-standard bounce (qmail,
// Exim, Japanese carriers) known by its sender and its words.
func (p *parser) isBounce() bool {
	if p.dsn || len(p.failedRecipients) > 0 {
		return true
	}
	if (p.daemonSender || p.nullSender) && (p.bounceSubject || p.bounceText || p.attachedCount > 0) {
		return true
	}
	// Japanese carriers send from no-reply addresses: the subject, the
	// words and the returned mail together tell.
	return p.bounceSubject && p.bounceText && p.attachedCount > 0
}
