package ui

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"notme/cases"
)

// Timeline rows written before events had codes hold only an English
// sentence. The most common sentences, exactly as the releases before
// codes wrote them, are read back into a code and arguments here, so an
// upgraded desk's old cases read in Japanese too. Only whole sentences
// match; anything else (an unusual reason, a sentence of a release not
// known here) shows as stored, marked English. New rows never come here.
var legacyPatterns = []struct {
	re   *regexp.Regexp
	code string
	args func(m []string) (cases.Args, bool)
}{
	{regexp.MustCompile(`^Opened from a (\w+) report, (\w+) match by ([\w-]+); severity (\w+); to the (\w+) tier; contain by (\S+)\.$`), cases.CodeOpened,
		func(m []string) (cases.Args, bool) {
			return cases.Args{"channel": m[1], "match": m[2], "by": m[3], "severity": m[4], "tier": m[5], "contain_by": m[6]}, true
		}},
	{regexp.MustCompile(`^Report by (\w+), (\w+) match by ([\w-]+)(?:; reporter says: ([a-z ,]+?))?(; with a note)?\.$`), cases.CodeReportAdded,
		func(m []string) (cases.Args, bool) {
			a := cases.Args{"channel": m[1], "match": m[2], "by": m[3]}
			if m[5] != "" {
				a["note"] = "1"
			}
			if m[4] == "" {
				return a, true
			}
			rest := m[4]
			for _, t := range []struct{ words, arg string }{{"opened a link", "opened"}, {"set a password or entered details", "setpw"}, {"never signed up", "never"}} {
				if r, ok := strings.CutPrefix(rest, t.words); ok {
					a[t.arg], rest = "1", strings.TrimPrefix(r, ", ")
				}
			}
			return a, rest == ""
		}},
	{regexp.MustCompile(`^Severity (\w+) → (\w+): (.+)\.$`), cases.CodeSeverityRaised,
		func(m []string) (cases.Args, bool) {
			why, ok := legacyWhy(m[3])
			return cases.Args{"from": m[1], "to": m[2], "why": why}, ok
		}},
	{regexp.MustCompile(`^Severity (\w+): (.+)\.$`), cases.CodeSeveritySet,
		func(m []string) (cases.Args, bool) {
			why, ok := legacyWhy(m[2])
			return cases.Args{"severity": m[1], "why": why}, ok
		}},
	{regexp.MustCompile(`^Match (\w+) → (\w+) by ([\w-]+)\.$`), cases.CodeMatchImproved,
		func(m []string) (cases.Args, bool) { return cases.Args{"from": m[1], "to": m[2], "by": m[3]}, true }},
	{regexp.MustCompile(`^Status new → contained: every requested containment action was confirmed done\.$`), cases.CodeContainedConfirmed,
		func(m []string) (cases.Args, bool) { return nil, true }},
	{regexp.MustCompile(`^Status (\w+) → (\w+)\.$`), cases.CodeStatus,
		func(m []string) (cases.Args, bool) { return cases.Args{"from": m[1], "to": m[2]}, true }},
	{regexp.MustCompile(`(?s)^Status (\w+) → (\w+): (.+)$`), cases.CodeStatus,
		func(m []string) (cases.Args, bool) { return cases.Args{"from": m[1], "to": m[2], "reason": m[3]}, true }},
	{regexp.MustCompile(`^Taken by (\S+@\S+)\.$`), cases.CodeTaken,
		func(m []string) (cases.Args, bool) { return cases.Args{"to": m[1]}, true }},
	{regexp.MustCompile(`^Assigned to (\S+@\S+)\.$`), cases.CodeAssigned,
		func(m []string) (cases.Args, bool) { return cases.Args{"to": m[1]}, true }},
	{regexp.MustCompile(`^Reassigned from (\S+@\S+) to (\S+@\S+)\.$`), cases.CodeReassigned,
		func(m []string) (cases.Args, bool) { return cases.Args{"from": m[1], "to": m[2]}, true }},
	{regexp.MustCompile(`^Containment requested from the account system: ([a-z_]+(?:, [a-z_]+)*)\.$`), cases.CodeContainRequested,
		func(m []string) (cases.Args, bool) {
			return cases.Args{"actions": strings.ReplaceAll(m[1], ", ", ",")}, true
		}},
	{regexp.MustCompile(`^Webhook ([a-z_]+) delivered to the account system \(attempt (\d+)\)\.$`), cases.CodeWebhookDelivered,
		func(m []string) (cases.Args, bool) { return cases.Args{"action": m[1], "attempt": m[2]}, true }},
	{regexp.MustCompile(`^Webhook ([a-z_]+) sent again \(same idempotency key\) after (\d+) failed attempts\.$`), cases.CodeWebhookRetried,
		func(m []string) (cases.Args, bool) { return cases.Args{"action": m[1], "attempts": m[2]}, true }},
	{regexp.MustCompile(`^Outcome notice queued to (\d+) reporter\(s\)\.$`), cases.CodeOutcomeQueued,
		func(m []string) (cases.Args, bool) { return cases.Args{"n": m[1]}, true }},
	{regexp.MustCompile(`^Match confirmed: account (\S+) \(probable → exact\)\.$`), cases.CodeMatchConfirmed,
		func(m []string) (cases.Args, bool) { return cases.Args{"account": m[1]}, true }},
	{regexp.MustCompile(`^Reopened: a new report came within (\S+) of the resolution; contain by (\S+)\.$`), cases.CodeReopened,
		func(m []string) (cases.Args, bool) {
			d, err := time.ParseDuration(m[1])
			return cases.Args{"window": strconv.Itoa(int(d / time.Minute)), "contain_by": m[2]}, err == nil
		}},
	{regexp.MustCompile(`^Escalated to the security leads: possible takeover: the reporter (set a password or entered details|opened the link) (?:from|of) a credential mail\.$`), cases.CodeEscalatedRule,
		func(m []string) (cases.Args, bool) {
			fact := cases.FactTakeoverOpened
			if strings.HasPrefix(m[1], "set") {
				fact = cases.FactTakeoverSetPassword
			}
			return cases.Args{"rule": cases.RulePossibleTakeover, "fact": fact}, true
		}},
	{regexp.MustCompile(`^Escalated to the security leads: rule (\w+): (.+)\.$`), cases.CodeEscalatedRule,
		func(m []string) (cases.Args, bool) { return legacyFact(m[1], m[2]) }},
	{regexp.MustCompile(`^Further escalation reason, rule (\w+): (.+)\.$`), cases.CodeEscalatedFurther,
		func(m []string) (cases.Args, bool) { return legacyFact(m[1], m[2]) }},
	{regexp.MustCompile(`^SLA breach: (.+)\.$`), cases.CodeSLABreached,
		func(m []string) (cases.Args, bool) { return legacyFact("", m[1]) }},
	{regexp.MustCompile(`(?s)^Escalated to the security leads: (.+)$`), cases.CodeEscalatedManual,
		func(m []string) (cases.Args, bool) { return cases.Args{"reason": m[1]}, true }},
	{regexp.MustCompile(`(?s)^De-escalated: (.+)$`), cases.CodeDeescalated,
		func(m []string) (cases.Args, bool) { return cases.Args{"reason": m[1]}, true }},
}

// legacyFacts read what a rule found, as the rules wrote it in English.
var legacyFacts = []struct {
	re   *regexp.Regexp
	code string
	args func(m []string) (cases.Args, bool)
}{
	{regexp.MustCompile(`^(\d+) distinct reporter addresses reported this (account|case)$`), cases.FactMultipleReporters,
		func(m []string) (cases.Args, bool) { return cases.Args{"n": m[1], "of": m[2]}, true }},
	{regexp.MustCompile(`^one address at (\S+) received mail for (\d+) accounts$`), cases.FactSharedRecipient,
		func(m []string) (cases.Args, bool) { return cases.Args{"domain": m[1], "n": m[2]}, true }},
	{regexp.MustCompile(`^(\d+) cases from recipient domain (\S+) within (\d+)(days|h|m)$`), cases.FactDomainCluster,
		func(m []string) (cases.Args, bool) {
			n, _ := strconv.Atoi(m[3])
			per := map[string]int{"days": 24 * 60, "h": 60, "m": 1}[m[4]]
			return cases.Args{"n": m[1], "domain": m[2], "window": strconv.Itoa(n * per)}, true
		}},
	{regexp.MustCompile(`^the (containment|resolution|breach-assessment) deadline (\S+) passed \(severity (\w+), status (\w+)\)$`), cases.FactDeadlinePassed,
		func(m []string) (cases.Args, bool) {
			kind := map[string]string{"containment": cases.DeadlineContain, "resolution": cases.DeadlineResolve, "breach-assessment": cases.DeadlineAssess}[m[1]]
			return cases.Args{"deadline": kind, "due": m[2], "severity": m[3], "status": m[4]}, true
		}},
}

// legacyFact reads a rule's English finding into fact arguments.
func legacyFact(rule, text string) (cases.Args, bool) {
	// roundDuration wrote "1 days" style windows with a space.
	text = strings.Replace(text, " days", "days", 1)
	for _, f := range legacyFacts {
		if m := f.re.FindStringSubmatch(text); m != nil {
			a, ok := f.args(m)
			if !ok {
				return nil, false
			}
			a["fact"] = f.code
			if rule != "" {
				a["rule"] = rule
			}
			return a, true
		}
	}
	return nil, false
}

// legacyWhy is the code of a severity reason as assess wrote it.
func legacyWhy(text string) (string, bool) {
	for _, w := range cases.WhyCodes {
		if texts.text(langEN, "event.why."+w, nil) == text {
			return w, true
		}
	}
	return "", false
}

// legacyEvent reads an event stored without a code; false when its
// sentence is not one of the known ones.
func legacyEvent(e cases.Event) (string, cases.Args, bool) {
	for _, p := range legacyPatterns {
		if m := p.re.FindStringSubmatch(e.Detail); m != nil {
			a, ok := p.args(m)
			return p.code, a, ok
		}
	}
	return "", nil, false
}
