package mailparse

import (
	"sort"
	"strings"
)

// Inline forwards. The original's Message-ID is usually gone there; what is
// left is the forwarded header block (From, Date, Subject, To) that each
// client writes in its own words, and the forwarded body with its link.

// fwdKeys maps the field names clients write in a forwarded header block, in
// English, Japanese and the languages of the crisp-email-forward-parser
// fixtures, to the field they stand for.
var fwdKeys = map[string]string{
	"from": "from", "von": "from", "de": "from", "van": "from", "da": "from", "från": "from", "fra": "from",
	"差出人": "from", "送信者": "from", "送信元": "from", "発信者": "from", "送り主": "from",
	"to": "to", "an": "to", "à": "to", "a": "to", "pour": "to", "aan": "to", "para": "to", "till": "to", "til": "to",
	"宛先": "to", "送信先": "to", "宛て先": "to", "受信者": "to", "あて先": "to",
	"cc": "cc", "kopie": "cc", "kopie (cc)": "cc", "copie à": "cc", "copie": "cc", "ｃｃ": "cc",
	"date": "date", "sent": "date", "datum": "date", "gesendet": "date", "envoyé": "date", "envoyé le": "date",
	"fecha": "date", "enviado": "date", "data": "date", "skickat": "date", "日付": "date", "送信日時": "date",
	"日時": "date", "送信日": "date", "受信日時": "date", "送信時刻": "date",
	"subject": "subject", "betreff": "subject", "objet": "subject", "sujet": "subject", "asunto": "subject",
	"oggetto": "subject", "onderwerp": "subject", "ämne": "subject", "emne": "subject",
	"件名": "subject", "題名": "subject", "タイトル": "subject", "表題": "subject",
	"message-id": "message-id", "message id": "message-id", "メッセージid": "message-id",
	"reply-to": "reply-to", "返信先": "reply-to",
}

// fwdMarkers are the lines (without their dashes, case folded, without a
// final colon) that open a forwarded message.
var fwdMarkers = map[string]bool{
	"forwarded message": true, "original message": true, "begin forwarded message": true,
	"forwarded message follows": true, "forward message": true, "forwarded e-mail": true, "forwarded email": true,
	"message forwarded": true, "forwarded mail": true,
	"転送されたメッセージ": true, "転送メッセージ": true, "元のメッセージ": true, "メッセージを転送": true,
	"オリジナルメッセージ": true, "開始転送されたメッセージ": true, "転送メール": true, "元メッセージ": true,
	"転送元メッセージ": true, "以下転送": true, "転送": true, "オリジナル メッセージ": true,
	"weitergeleitete nachricht": true, "ursprüngliche nachricht": true, "anfang der weitergeleiteten nachricht": true,
	"message transféré": true, "début du message réexpédié": true, "message d'origine": true, "message original": true,
	"mensaje reenviado": true, "mensaje original": true, "messaggio inoltrato": true, "messaggio originale": true,
	"doorgestuurd bericht": true, "oorspronkelijk bericht": true, "vidarebefordrat meddelande": true,
	"开始转发的邮件": true, "转发的邮件": true, "原始邮件": true, "開始轉寄郵件": true,
}

// forwardMarker recognises a marker line: "---------- Forwarded message
// ---------", "-----Original Message-----", "Begin forwarded message:",
// "-------- 転送メッセージ --------". rest is what follows the marker on
// the same line (Yahoo writes the whole header block there).
func forwardMarker(t string) (marker, rest string, ok bool) {
	t = strings.TrimSpace(t)
	if t == "" || len(t) > 2000 {
		return "", "", false
	}
	decorated := false
	core := t
	if lead := strings.TrimLeft(t, "-_=~ \t"); len(lead) < len(t) && strings.ContainsAny(t[:len(t)-len(lead)], "-_=") {
		decorated = true
		core = lead
		// the closing run of dashes ends the marker
		if k := strings.Index(core, "--"); k >= 0 {
			rest = strings.TrimSpace(strings.TrimLeft(core[k:], "-_=~ \t"))
			core = core[:k]
		} else if k := strings.Index(core, "__"); k >= 0 {
			rest = strings.TrimSpace(strings.TrimLeft(core[k:], "-_=~ \t"))
			core = core[:k]
		}
	}
	core = strings.TrimSpace(core)
	if len(core) > 80 {
		return "", "", false
	}
	colon := false
	for _, suf := range []string{":", "："} {
		if strings.HasSuffix(core, suf) {
			core = strings.TrimSpace(strings.TrimSuffix(core, suf))
			colon = true
		}
	}
	lc := strings.ToLower(core)
	if !fwdMarkers[lc] {
		return "", "", false
	}
	// A bare word is a marker only when decorated or followed by a colon.
	if !decorated && !colon && lc != "begin forwarded message" && lc != "転送されたメッセージ" && lc != "開始転送されたメッセージ" {
		return "", "", false
	}
	return lc, rest, true
}

// fieldLine splits "Key: value" (also "Key：value", "*Key:* value") when Key
// is a field of a forwarded header block.
func fieldLine(t string) (key, value string) {
	colon := strings.IndexByte(t, ':')
	wide := strings.Index(t, "：")
	width := 1
	if wide >= 0 && (colon < 0 || wide < colon) {
		colon, width = wide, len("：")
	}
	if colon <= 0 || colon > 40 {
		return "", ""
	}
	k := strings.ToLower(strings.Trim(t[:colon], " \t*\u3000"))
	k = strings.Join(strings.Fields(k), " ")
	f := fwdKeys[k]
	if f == "" {
		return "", ""
	}
	v := strings.Trim(t[colon+width:], " \t*\u3000")
	return f, v
}

// inlineKeys are the keys Yahoo runs together on one line after its marker
// ("From: A <a@x>To: b@yCc: …Sent: …Subject: …").
var inlineKeys = []string{"From:", "To:", "Cc:", "Sent:", "Date:", "Subject:"}

// splitInline cuts a line that holds several fields into one per field.
func splitInline(t string) []string {
	if len(t) > 4096 {
		return []string{t}
	}
	var at []int
	for _, k := range inlineKeys {
		for off := 0; ; {
			i := strings.Index(t[off:], k)
			if i < 0 {
				break
			}
			i += off
			if i == 0 || !isASCIILetter(t[i-1]) {
				at = append(at, i)
			}
			off = i + len(k)
		}
	}
	if len(at) < 2 {
		return []string{t}
	}
	sort.Ints(at)
	var out []string
	if at[0] > 0 {
		out = append(out, t[:at[0]])
	}
	for i, a := range at {
		end := len(t)
		if i+1 < len(at) {
			end = at[i+1]
		}
		out = append(out, t[a:end])
	}
	return out
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isSeparator is Outlook's line of underscores before a quoted header.
func isSeparator(t string) bool {
	return len(t) >= 10 && strings.Trim(t, "_") == ""
}

type fwdBlock map[string]string

// forwards finds inline forwarded header blocks and reply attributions in a
// text part's lines.
func (p *parser) forwards(lines []string) {
	for i := 0; i < len(lines); i++ {
		t := trimQuote(lines[i])
		if t == "" {
			continue
		}
		if _, rest, ok := forwardMarker(t); ok {
			p.replyOrForward = true
			var blk fwdBlock
			next := i + 1
			if rest != "" {
				blk, _ = parseBlock([]string{rest}, 0) // Yahoo: all on the marker's line
			} else {
				blk, next = parseBlock(lines, i+1)
			}
			if len(blk) > 0 {
				p.forwardBlock(blk)
			}
			i = max(i, next-1)
			continue
		}
		if k, _ := fieldLine(t); k == "from" || k == "date" || k == "subject" {
			// Outlook writes no marker, only the block (after a line of
			// underscores on the web): take it when it is clearly one,
			// with the fields just above it (a returned header's
			// Message-ID).
			start := i
			for start > 0 && start > i-5 {
				if k, _ := fieldLine(trimQuote(lines[start-1])); k == "" {
					break
				}
				start--
			}
			blk, next := parseBlock(lines, start)
			if blk["from"] != "" && (blk["subject"] != "" || blk["date"] != "") && len(blk) >= 3 {
				p.replyOrForward = true
				p.forwardBlock(blk)
			}
			// the block's lines are read: do not read them again (linear
			// in lines of fields, however many)
			i = max(i, next-1)
			continue
		}
		if p.original == nil || p.originalRank > rankAttribution {
			if a := attribution(t); a != "" {
				p.replyOrForward = true
				p.setOriginal(&Original{From: a}, rankAttribution)
			} else if i+1 < len(lines) && t != "" {
				// Gmail wraps long attributions: "On …, Name <a@x>\nwrote:"
				if nt := trimQuote(lines[i+1]); len(nt) < 40 && attributionEnd(strings.ToLower(nt)) {
					if a := attribution(t + " " + nt); a != "" {
						p.replyOrForward = true
						p.setOriginal(&Original{From: a}, rankAttribution)
						i++
					}
				}
			}
		}
	}
}

// parseBlock reads a forwarded header block from lines[k:], skipping up to
// two blank lines before it, and returns its fields and the index after it.
func parseBlock(lines []string, k int) (fwdBlock, int) {
	blk := fwdBlock{}
	blank := 0
	last := ""
	for ; k < len(lines); k++ {
		t := trimQuote(lines[k])
		if t == "" {
			if len(blk) == 0 && blank < 2 {
				blank++
				continue
			}
			break
		}
		segs := splitInline(t)
		matched := false
		for _, seg := range segs {
			key, val := fieldLine(strings.TrimSpace(seg))
			if key == "" {
				continue
			}
			matched = true
			last = key
			if _, ok := blk[key]; !ok || blk[key] == "" {
				blk[key] = clip(val, 1000)
			}
		}
		if matched {
			continue
		}
		// a long To or Cc list wrapped onto the next line
		if (last == "to" || last == "cc") && strings.ContainsAny(t, "@,;") && !strings.Contains(t, ". ") {
			blk[last] = clip(blk[last]+" "+t, 1000)
			continue
		}
		break
	}
	if len(blk) == 0 {
		return nil, k
	}
	return blk, k
}

// forwardBlock records what a forwarded header block tells.
func (p *parser) forwardBlock(blk fwdBlock) {
	var id string
	if v := blk["message-id"]; v != "" {
		for _, x := range messageIDs(v) {
			if id == "" {
				id = x
			}
			p.addID(x, SourceForward, idForward)
		}
	}
	for _, k := range []string{"reply-to", "to", "cc", "from"} {
		if v := blk[k]; v != "" {
			p.addressTokens(v, tokAttached)
		}
	}
	from := blk["from"]
	if from != "" {
		// Outlook 2013: "Name [mailto:a@x]"
		from = strings.ReplaceAll(from, "[mailto:", "<")
		from = strings.ReplaceAll(from, "]", ">")
	}
	p.setOriginal(&Original{
		MessageID: id,
		From:      p.addrOrText(from),
		To:        p.addrList(strings.ReplaceAll(strings.ReplaceAll(blk["to"], "[mailto:", "<"), "]", ">")),
		Subject:   clip(strings.TrimSpace(p.decodeWords(blk["subject"])), 500),
		Date:      clip(blk["date"], 200),
	}, rankForward)
}

var attributionEnds = []string{
	"wrote:", "writes:", "a écrit :", "a écrit:", "schrieb:", "escribió:", "ha scritto:", "skrev:",
	"書きました:", "書きました：", "のメール:", "のメール：", "のメッセージ:", "のメッセージ：", "からのメール:", "wrote：",
}

func attributionEnd(l string) bool {
	for _, e := range attributionEnds {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	return false
}

// attribution reads a reply's attribution line ("On <date>, Name <a@x>
// wrote:", Gmail's Japanese "2022年1月1日(金) 9:00 Name <a@x>:") and
// returns the quoted mail's sender address.
func attribution(t string) string {
	if len(t) > 300 || strings.IndexByte(t, '@') < 0 {
		return ""
	}
	l := strings.ToLower(t)
	ok := attributionEnd(l)
	if !ok && (strings.HasSuffix(l, ">:") || strings.HasSuffix(l, ">：")) && (strings.Contains(t, "年") || strings.Count(t, "/") >= 2) {
		ok = true
	}
	if !ok {
		return ""
	}
	a := firstAddress(t)
	return strings.ToLower(strings.TrimRight(a, ":："))
}
