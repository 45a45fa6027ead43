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
			switch result = strings.ToLower(result); {
			case method == "dmarc" && result == "fail":
				dmarcFail, id = true, f[0]
			case method == "spf" && result == "fail":
				spfFail, id = true, cmpStr(id, f[0])
			case method == "dkim" && result == "pass":
				dkimPass = true
			}
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

// dmarcPassed reports whether a trusted Authentication-Results field says
// DMARC passed for fromDomain (RFC 7489 section 11.2: the result names
// the domain it evaluated as header.from). A pass for another domain, or
// one without header.from, proves nothing about this From.
func dmarcPassed(h header, trusted map[string]bool, fromDomain string) bool {
	if len(trusted) == 0 || fromDomain == "" {
		return false
	}
	for _, v := range h.all("authentication-results") {
		parts := splitAuthRes(v)
		f := strings.Fields(parts[0])
		if len(f) == 0 || !trusted[strings.ToLower(strings.Trim(f[0], `"`))] {
			continue
		}
		for _, res := range parts[1:] {
			method, result, ok := strings.Cut(firstWord(res), "=")
			if !ok {
				continue
			}
			method, _, _ = strings.Cut(strings.ToLower(method), "/")
			if method != "dmarc" || !strings.EqualFold(result, "pass") {
				continue
			}
			if strings.EqualFold(authResProp(res, "header.from"), fromDomain) {
				return true
			}
		}
	}
	return false
}

// authResProp is the value of a resinfo's property ptype.property (RFC
// 8601 section 2.2), "" when it has none; comments are gone already.
func authResProp(res, name string) string {
	for _, w := range strings.Fields(strings.ReplaceAll(strings.ReplaceAll(res, " =", "="), "= ", "=")) {
		k, v, ok := strings.Cut(w, "=")
		if ok && strings.EqualFold(k, name) {
			return strings.ToLower(strings.TrimRight(strings.Trim(v, `"`), "."))
		}
	}
	return ""
}
