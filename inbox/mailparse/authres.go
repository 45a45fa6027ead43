package mailparse

import "strings"

// authResults reads the Authentication-Results fields (RFC 8601) that the
// desk's own receiving server added, and returns why an acknowledgement
// would be backscatter, or "". A sender can write any such field, so only
// those whose authserv-id is trusted count (RFC 8601 section 5: the
// trusted MTA removes forged fields with its own id). DMARC failing, or SPF
// failing with no DKIM signature passing, means the From cannot be shown
// to be the sender's: an answer could land on an innocent third party.
func authResults(h header, trusted map[string]bool) string {
	if len(trusted) == 0 {
		return ""
	}
	var dmarcFail, spfFail, dkimPass bool
	id := ""
	for _, r := range trustedResinfos(h, trusted) {
		switch {
		case r.method == "dmarc" && r.result == "fail":
			dmarcFail, id = true, r.authserv
		case r.method == "spf" && r.result == "fail":
			spfFail, id = true, cmpStr(id, r.authserv)
		case r.method == "dkim" && r.result == "pass":
			dkimPass = true
		}
	}
	switch {
	case dmarcFail:
		return "dmarc=fail at " + clip(id, 80)
	case spfFail && !dkimPass:
		return "spf=fail and no dkim=pass at " + clip(id, 80)
	}
	return ""
}

// resinfo is one method's result in an Authentication-Results field: the
// field's authserv-id as written, the method without its version, the
// result lower-cased, and the resinfo's text for its properties.
type resinfo struct {
	authserv, method, result, text string
}

// trustedResinfos lists the results in the fields whose authserv-id is
// trusted, in order; a sender can write any such field, so the others are
// left out (RFC 8601 section 5).
func trustedResinfos(h header, trusted map[string]bool) []resinfo {
	if len(trusted) == 0 {
		return nil
	}
	var out []resinfo
	for _, v := range h.all("authentication-results") {
		parts := splitAuthRes(v)
		// authserv-id [version] (RFC 8601 section 2.2)
		f := strings.Fields(parts[0])
		if len(f) == 0 || !trusted[strings.ToLower(strings.Trim(f[0], `"`))] {
			continue
		}
		for _, res := range parts[1:] {
			method, result, ok := strings.Cut(firstWord(res), "=")
			if !ok {
				continue
			}
			method, _, _ = strings.Cut(strings.ToLower(method), "/") // method/version
			out = append(out, resinfo{authserv: f[0], method: method, result: strings.ToLower(result), text: res})
		}
	}
	return out
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// splitAuthRes splits a field's value at the semicolons between its
// resinfos, leaving out comments and keeping quoted strings whole.
func splitAuthRes(v string) []string {
	var parts []string
	var cur strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted:
			cur.WriteByte(c)
			if c == '\\' && i+1 < len(v) {
				i++
				cur.WriteByte(v[i])
			} else if c == '"' {
				quoted = false
			}
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
			if c == '\\' {
				i++
			}
		case c == '"':
			quoted = true
			cur.WriteByte(c)
		case c == ';':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}

// firstWord is the method=result of a resinfo, with the spaces RFC 8601's
// CFWS allows around "=" taken out.
func firstWord(s string) string {
	s = strings.TrimSpace(s)
	s = strings.Join(strings.Fields(strings.Replace(strings.Replace(s, " =", "=", 1), "= ", "=", 1)), " ")
	w, _, _ := strings.Cut(s, " ")
	return w
}

// dkimPassDomains returns the signing domains of the DKIM signatures that a
// trusted server's Authentication-Results say passed: header.d, else the
// domain of header.i (RFC 8601 section 2.7.1; RFC 6376 section 3.5: i's
// domain is d or below it). Fields with other authserv-ids are ignored, as
// in authResults.
func dkimPassDomains(h header, trusted map[string]bool) []string {
	var out []string
	for _, r := range trustedResinfos(h, trusted) {
		if r.method != "dkim" || r.result != "pass" {
			continue
		}
		props := resProps(r.text)
		d := props["header.d"]
		if d == "" {
			d = domainOf(props["header.i"])
		}
		if d = strings.ToLower(strings.Trim(d, ". ")); d != "" && len(out) < 20 {
			out = append(out, d)
		}
	}
	return out
}

// resProps reads the ptype.property=value pairs of one resinfo (comments
// already gone), keeping a quoted value whole so that text inside it (a
// reason="...") never passes for a property. The method=result is left out.
func resProps(res string) map[string]string {
	var toks []string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(res); i++ {
		c := res[i]
		switch {
		case quoted && c == '\\' && i+1 < len(res):
			i++
			cur.WriteByte(res[i])
		case c == '"':
			quoted = !quoted
			cur.WriteByte(c)
		case !quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	// Join "a", "=", "b" and "a=", "b" (CFWS around "=").
	var words []string
	for _, t := range toks {
		if n := len(words); n > 0 && (t[0] == '=' || strings.HasSuffix(words[n-1], "=")) && !strings.HasPrefix(words[n-1], `"`) {
			words[n-1] += t
			continue
		}
		words = append(words, t)
	}
	props := map[string]string{}
	for i, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if i == 0 || !ok || strings.HasPrefix(k, `"`) {
			continue
		}
		k = strings.ToLower(k)
		if _, seen := props[k]; !seen {
			props[k] = strings.Trim(v, `"`)
		}
	}
	return props
}

// feedbackLoop returns the DKIM signing domain that shows an abuse report
// to come from one of senders (Options.FeedbackLoopSenders), or "". A
// sender is an address (From must be it) or a domain (From is at it or
// below it). The signing domain must be From's domain, or a parent of it no
// higher than the configured domain (an address's domain for an address):
// DMARC's relaxed alignment (RFC 7489 section 3.1.1) bounded by what the
// operator named, so d=net never vouches for fbl.example.net.
func feedbackLoop(from string, dkim []string, senders []string) string {
	from = strings.ToLower(strings.TrimSpace(from))
	fromDomain := domainOf(from)
	if fromDomain == "" || len(dkim) == 0 {
		return ""
	}
	for _, s := range senders {
		s = strings.ToLower(strings.TrimSpace(s))
		scope := s
		if strings.Contains(s, "@") {
			if s != from {
				continue
			}
			scope = fromDomain
		} else if s == "" || (fromDomain != s && !strings.HasSuffix(fromDomain, "."+s)) {
			continue
		}
		for _, d := range dkim {
			if d == fromDomain || (strings.HasSuffix(fromDomain, "."+d) && (d == scope || strings.HasSuffix(d, "."+scope))) {
				return d
			}
		}
	}
	return ""
}

// dmarcPassed reports whether a trusted Authentication-Results field says
// DMARC passed for fromDomain (RFC 7489 section 11.2: the result names
// the domain it evaluated as header.from). A pass for another domain, or
// one without header.from, proves nothing about this From.
func dmarcPassed(h header, trusted map[string]bool, fromDomain string) bool {
	if fromDomain == "" {
		return false
	}
	for _, r := range trustedResinfos(h, trusted) {
		if r.method == "dmarc" && r.result == "pass" &&
			strings.EqualFold(strings.TrimRight(resProps(r.text)["header.from"], "."), fromDomain) {
			return true
		}
	}
	return false
}
