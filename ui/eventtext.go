package ui

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"notme/cases"
)

// The timeline, the leads' escalation reasons and the audit log are stored
// as a message code and its arguments (cases/eventcode.go); this catalog
// says each in English and Japanese, as the catalogs' "event.<code>"
// messages (locales/*.json). A template is a sentence with {name}
// for an argument and [ … ] around a part that shows only when every
// argument in it is given. docs/i18n.md tells a translator how to edit it.
//
// Arguments are formatted by their name, so a translator never sees a raw
// value: stored values (channel, status, action…) as "value.<stored>",
// why/fact/rule/of/deadline through this catalog, times as UTC dates,
// window/retention/late (minutes) as durations, actions as a list.

// eventCount names the argument whose count chooses a message's plural
// form (the catalog's "one" and "other").
var eventCount = map[string]string{
	cases.CodeOutcomeQueued:  "n",
	cases.CodeEvidencePurged: "n",
	cases.CodeWebhookRetried: "attempts",
	cases.CodeWebhookDead:    "attempts",
	"dur.days":               "n",
}

// Argument names and how they read.
var (
	valueArgs    = map[string]bool{"channel": true, "match": true, "by": true, "severity": true, "from": true, "to": true, "tier": true, "status": true, "action": true, "result": true, "outcome": true, "listed": true}
	catalogArgs  = map[string]string{"why": "why.", "method": "method.", "rule": "rule.", "of": "of.", "deadline": "deadline.", "held": "held.", "scope": "hold.", "hold": "hold."}
	timeArgs     = map[string]bool{"contain_by": true, "due": true, "since": true, "until": true}
	durationArgs = map[string]bool{"window": true, "retention": true, "late": true}
	flagArgs     = map[string]bool{"note": true, "intime": true}
)

var (
	eventOptional = regexp.MustCompile(`\[([^\[\]]*)\]`)
	eventArg      = regexp.MustCompile(`\{(\w+)\}`)
)

// eventMessage renders the catalog message key with args in lang; false
// when the catalog has no such key (a code from a newer release).
func eventMessage(lang, key string, args cases.Args) (string, bool) {
	id := "event." + key
	if !texts.has(lang, id) {
		return "", false
	}
	var count any
	if n, err := strconv.Atoi(args[eventCount[key]]); err == nil {
		count = n
	}
	tmpl := texts.text(lang, id, count)
	tmpl = eventOptional.ReplaceAllStringFunc(tmpl, func(part string) string {
		part = part[1 : len(part)-1]
		for _, name := range eventArg.FindAllStringSubmatch(part, -1) {
			if eventArgText(lang, name[1], args) == "" && !(flagArgs[name[1]] && args[name[1]] != "") {
				return ""
			}
		}
		return part
	})
	return eventArg.ReplaceAllStringFunc(tmpl, func(name string) string {
		return eventArgText(lang, name[1:len(name)-1], args)
	}), true
}

// eventArgText is one argument as it reads in lang.
func eventArgText(lang, name string, args cases.Args) string {
	v := args[name]
	switch {
	case name == "ticks":
		return reportTicks(lang, args)
	case flagArgs[name]:
		return ""
	case v == "":
		return ""
	case valueArgs[name]:
		return staffValue(lang, v)
	case name == "actions":
		parts := strings.Split(v, ",")
		for i, p := range parts {
			parts[i] = staffValue(lang, p)
		}
		return strings.Join(parts, staffText(lang, "sep"))
	case name == "fact":
		s, _ := eventMessage(lang, "fact."+v, args)
		return s
	case catalogArgs[name] != "":
		if s, ok := eventMessage(lang, catalogArgs[name]+v, nil); ok {
			return s
		}
		return v
	case timeArgs[name]:
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC().Format("2006-01-02 15:04 UTC")
		}
		return v
	case durationArgs[name]:
		if n, err := strconv.Atoi(v); err == nil {
			return eventDuration(lang, n)
		}
		return v
	case name == "where":
		return addressWhere(lang, v)
	}
	return v
}

// reportTicks lists what a reporter ticked, in lang.
func reportTicks(lang string, args cases.Args) string {
	var ticks []string
	for _, t := range []struct{ arg, key string }{{"opened", "rep.opened"}, {"setpw", "rep.setpw"}, {"never", "rep.never"}} {
		if args[t.arg] != "" {
			ticks = append(ticks, staffText(lang, t.key))
		}
	}
	// A tick's own words may hold a comma (、), so Japanese lists them
	// with a slash.
	sep := ", "
	if lang == langJA {
		sep = "／"
	}
	return strings.Join(ticks, sep)
}

// eventDuration reads minutes as days, hours or minutes, whichever is whole.
func eventDuration(lang string, minutes int) string {
	key, n := "dur.min", minutes
	switch {
	case minutes > 0 && minutes%(24*60) == 0:
		key, n = "dur.days", minutes/(24*60)
	case minutes > 0 && minutes%60 == 0:
		key, n = "dur.hours", minutes/60
	}
	s, _ := eventMessage(lang, key, cases.Args{"n": strconv.Itoa(n)})
	return s
}

// eventCode is the code and arguments an event says what it says with:
// its own, or for a row stored before codes the ones its English sentence
// reads as (eventlegacy.go); false when neither is known here.
func eventCode(e cases.Event) (string, cases.Args, bool) {
	if e.Code != "" {
		return e.Code, e.Args, texts.has(langEN, "event."+e.Code)
	}
	return legacyEvent(e)
}

// eventText is what an event says, in lang. An event whose code this
// release does not know, or an old one in an unknown sentence, says its
// English Detail as stored; the page marks it lang="en" (eventLang).
func eventText(lang string, e cases.Event) string {
	if code, args, ok := eventCode(e); ok {
		if s, ok := eventMessage(lang, code, args); ok {
			return s
		}
	}
	return e.Detail
}

// eventLang is the language an event's text is in on a page in lang. A
// note is a person's words in whatever language they wrote, so it is never
// marked English.
func eventLang(lang string, e cases.Event) string {
	if _, _, ok := eventCode(e); ok || e.Type == cases.EventNote {
		return lang
	}
	return langEN
}

// escalationReasonText is one reason on the leads' list: what the rule
// found, or the reason a person gave, without the "escalated" preamble.
func escalationReasonText(lang string, e cases.Event) string {
	code, args, _ := eventCode(reasonEvent(e))
	switch code {
	case cases.CodeEscalatedManual:
		return args["reason"]
	case cases.CodeEscalatedRule, cases.CodeEscalatedFurther:
		rule := eventArgText(lang, "rule", args)
		fact := eventArgText(lang, "fact", args)
		if rule != "" && fact != "" {
			if lang == langJA {
				return rule + "：" + fact
			}
			return rule + ": " + fact
		}
	}
	return e.Detail
}

// reasonEvent is a reason of LeadAlerts as its event was stored: for a row
// without a code, LeadAlerts cut the sentence's preamble, which reading it
// needs (a rule's reason reads the same under either preamble).
func reasonEvent(e cases.Event) cases.Event {
	if e.Code == "" && e.Detail != "" {
		e.Detail = "Escalated to the security leads: " + e.Detail
	}
	return e
}

// reasonLang is the language a reason reads in on a page in lang.
func reasonLang(lang string, e cases.Event) string {
	return eventLang(lang, reasonEvent(e))
}

// actorName names who did something: a staff member by address, an API key
// by name, the desk's own parts from the catalog.
func actorName(lang, actor string) string {
	if email, ok := strings.CutPrefix(actor, "user:"); ok {
		return email
	}
	if name, ok := strings.CutPrefix(actor, "api:"); ok {
		s, _ := eventMessage(lang, "actor.api", cases.Args{"name": name})
		return s
	}
	if s, ok := eventMessage(lang, "actor."+actor, nil); ok {
		return s
	}
	return actor
}

// auditAction names an audit action in lang.
func auditAction(lang, action string) string {
	if s, ok := eventMessage(lang, "audit."+action, nil); ok {
		return s
	}
	return action
}

// auditDetail is an audit entry's detail in lang; an entry written before
// audit entries had arguments shows its English detail as stored.
func auditDetail(lang string, a cases.AuditEntry) string {
	if len(a.Args) > 0 {
		if s, ok := eventMessage(lang, "auditd."+a.Action, a.Args); ok {
			return s
		}
	}
	return a.Detail
}

// auditSubject is whom an audit entry concerns: a case reference or a
// staff member's address, without the stored prefix.
func auditSubject(subject string) string {
	if _, rest, ok := strings.Cut(subject, ":"); ok {
		return rest
	}
	return subject
}
