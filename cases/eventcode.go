package cases

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"notme/cases/mask"
)

// A timeline event, an escalation reason and an audit entry record what
// happened as a message code and its arguments; each reader's language
// renders them (ui/eventtext.go). Detail keeps the English sentence as
// well, for a release that reads only Detail during a rolling upgrade and
// for rows written before codes existed (they have no code).
//
// Arguments are strings: stored values (a status, a channel, an action),
// counts, refs and RFC 3339 times, never an address of a reporter or of
// the account holder (the same masking as Detail).

// Args are a message code's arguments, stored as a JSON object.
type Args map[string]string

// GormDataType tells gorm Args is a column, not a relation.
func (Args) GormDataType() string { return "text" }

// Value stores Args as JSON text; no arguments are NULL.
func (a Args) Value() (driver.Value, error) {
	if len(a) == 0 {
		var null driver.Value // a nil driver.Value is SQL NULL
		return null, nil
	}
	b, err := json.Marshal(map[string]string(a))
	if err != nil {
		return nil, fmt.Errorf("encode event args: %w", err)
	}
	return string(b), nil
}

// Scan reads Args stored by Value; NULL (rows older than codes) is none.
func (a *Args) Scan(v any) error {
	var b []byte
	switch v := v.(type) {
	case nil:
		*a = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("event args: cannot read %T", v)
	}
	if len(b) == 0 {
		*a = nil
		return nil
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("decode event args: %w", err)
	}
	*a = m
	return nil
}

// argTime is a time as an argument: RFC 3339 in UTC.
func argTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// argInt is a count as an argument.
func argInt[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// argList is a list of stored values as one argument.
func argList(vs []string) string { return strings.Join(vs, ",") }

// argBool is a flag as an argument: "1" when set, absent otherwise.
func argBool(a Args, key string, set bool) {
	if set {
		a[key] = "1"
	}
}

// Timeline message codes. Each is one sentence shape; ui names every one
// in English and Japanese, and a test there fails on a code it lacks.
const (
	CodeOpened             = "opened"                // channel, match, by, severity, tier, contain_by
	CodeSeveritySet        = "severity.set"          // severity, why
	CodeSeverityRaised     = "severity.raised"       // from, to, why
	CodeMatchImproved      = "match.improved"        // from, to, by
	CodeReportAdded        = "report.added"          // channel, match, by, opened?, setpw?, never?, note?
	CodeUndeliverable      = "undeliverable"         // recipients? (masked)
	CodeMatchConfirmed     = "match.confirmed"       // account
	CodeContainRequested   = "containment.requested" // actions
	CodeContainResult      = "containment.result"    // action, result, detail?
	CodeContainedConfirmed = "status.contained.confirmed"
	CodeWebhookDelivered   = "webhook.delivered" // action, attempt
	CodeWebhookDead        = "webhook.dead"      // action, attempts, since, error
	CodeWebhookRetried     = "webhook.retried"   // action, attempts
	CodeTaken              = "assigned.taken"    // to
	CodeAssigned           = "assigned.to"       // to
	CodeReassigned         = "assigned.re"       // from, to
	CodeNote               = "note"              // text
	CodeStatus             = "status"            // from, to, reason?
	CodeOutcomeQueued      = "outcome.queued"    // n
	CodeEscalatedManual    = "escalated.manual"  // reason
	CodeEscalatedRule      = "escalated.rule"    // rule, fact, the fact's args
	CodeEscalatedFurther   = "escalated.further" // rule, fact, the fact's args
	CodeDeescalated        = "deescalated"       // reason
	CodeReopened           = "reopened"          // window (minutes), contain_by
	CodeEvidencePurged     = "evidence.purged"   // retention (minutes), n
	CodeSLABreached        = "sla.breached"      // fact, the fact's args
	CodeAssessed           = "assessed"          // outcome, from?, reason, late (minutes)? | intime?
	CodeNewEvidence        = "new_evidence"      // from, to (severities), contain_by
	CodeAckSentByHand      = "ack.sent_by_hand"  // held (AckHandSendable)
)

// EventCodes lists every timeline message code.
var EventCodes = []string{
	CodeOpened, CodeSeveritySet, CodeSeverityRaised, CodeMatchImproved, CodeReportAdded,
	CodeUndeliverable, CodeMatchConfirmed, CodeContainRequested, CodeContainResult,
	CodeContainedConfirmed, CodeWebhookDelivered, CodeWebhookDead, CodeWebhookRetried,
	CodeTaken, CodeAssigned, CodeReassigned, CodeNote, CodeStatus, CodeOutcomeQueued,
	CodeEscalatedManual, CodeEscalatedRule, CodeEscalatedFurther, CodeDeescalated,
	CodeReopened, CodeEvidencePurged, CodeSLABreached, CodeAssessed, CodeNewEvidence,
	CodeAckSentByHand,
	CodeReportOnHold, CodeReportTriageBound,
}

// Why a severity was set: the codes of assess's reasons.
const (
	WhySetPasswordCredential = "setpw_credential"
	WhySetPassword           = "setpw"
	WhyOpenedCredential      = "opened_credential"
	WhyKind                  = "kind"
)

// WhyCodes lists every severity reason.
var WhyCodes = []string{WhySetPasswordCredential, WhySetPassword, WhyOpenedCredential, WhyKind}

// whyCodes maps assess's English reasons to their codes; a test fails when
// assess says something this does not know.
var whyCodes = map[string]string{
	"the reporter set a password or entered details from a credential mail: possible takeover": WhySetPasswordCredential,
	"the reporter set a password or entered details":                                           WhySetPassword,
	"the reporter opened a link in a credential mail":                                          WhyOpenedCredential,
	"": WhyKind,
}

// whyCode is the code of a reason assess gave.
func whyCode(why string) string {
	if c, ok := whyCodes[why]; ok {
		return c
	}
	return WhyKind
}

// RulePossibleTakeover names the takeover escalation decided at filing.
const RulePossibleTakeover = "possible_takeover"

// Rules lists every automatic escalation rule.
var Rules = []string{RulePossibleTakeover, RuleMultipleReporters, RuleSharedRecipient, RuleDomainCluster, RuleSLABreach}

// Fact codes: what a rule found (escalation reasons, SLA breaches).
const (
	FactTakeoverSetPassword = "takeover.setpw"
	FactTakeoverOpened      = "takeover.opened"
	FactMultipleReporters   = "multiple_reporters" // n, of: account|case
	FactSharedRecipient     = "shared_recipient"   // domain, n
	FactDomainCluster       = "domain_cluster"     // n, domain, window (minutes)
	FactDeadlinePassed      = "deadline_passed"    // deadline, due, severity, status
	FactNewEvidence         = "new_evidence"       // from, to (severities)
)

// FactCodes lists every fact code.
var FactCodes = []string{FactTakeoverSetPassword, FactTakeoverOpened, FactMultipleReporters,
	FactSharedRecipient, FactDomainCluster, FactDeadlinePassed, FactNewEvidence}

// Fact is what a rule found: a code and its arguments, and the English
// sentence kept in Detail.
type Fact struct {
	Code string
	Args Args
	Text string
}

// takeoverFact is the fact of takeoverReason's English reason.
func takeoverFact(reason string) Fact {
	code := FactTakeoverOpened
	if strings.Contains(reason, "set a password") {
		code = FactTakeoverSetPassword
	}
	return Fact{Code: code, Text: reason}
}

// withFact is args with the rule, the fact's code and its arguments.
func withFact(rule string, f Fact) Args {
	a := Args{"fact": f.Code}
	if rule != "" {
		a["rule"] = rule
	}
	for k, v := range f.Args {
		a[k] = v
	}
	return a
}

// Actors the desk itself writes on timelines; staff show as "user:EMAIL"
// and API keys as "api:NAME".
const (
	ActorMail      = "mail"
	ActorReporter  = "reporter"
	ActorRules     = "rules"
	ActorSLA       = "sla"
	ActorRetention = "retention"
	ActorAnonymous = "anonymous"
)

// Actors lists every actor that is not a person or an API key.
var Actors = []string{ActorMail, actorDesk, ActorReporter, ActorRules, ActorSLA, ActorRetention, actorAccountSystem, ActorAnonymous, ActorSSO, ActorCLI}

// AuditActions lists every audit action.
var AuditActions = []string{AuditInviteUser, AuditAcceptInvitation, AuditGrantTrained, AuditRevokeTrained, AuditRetryWebhook,
	AuditDownloadAttachment, AuditRevealAddress, AuditBreachAssessment, AuditLoginLocked, AuditSendHeldAck,
	AuditSignIn, AuditSignInRefused, AuditSessionsEnded, AuditSSORole, AuditSSOUser, AuditDisableUser, AuditEnableUser, AuditExposureExport,
	AuditSecondFactorEnrolled, AuditSecondFactorRemoved, AuditSecondFactorReset, AuditSecondFactorFailed, AuditRecoveryCodeUsed,
	AuditPasskeyAdded, AuditPasskeyRemoved, AuditPasskeyUsed, AuditPasskeyFailed, AuditPasskeyCounterRegressed, AuditRecoveryCodesRenewed,
	AuditSuppressionAdded, AuditSuppressionRemoved, AuditSuppressionsExported, AuditTypoDomain, AuditExported}

// with is e saying what it says with a message code and its arguments.
func (e Event) with(code string, args Args) Event {
	e.Code, e.Args = code, args
	return e
}

// reportArgs are a report's arguments on the timeline: how it came and what
// the reporter ticked, never the reporter's address or the note's text.
func reportArgs(r Report) Args {
	a := Args{"channel": string(r.Channel), "match": string(r.Match), "by": r.MatchedBy}
	argBool(a, "opened", r.OpenedLink)
	argBool(a, "setpw", r.SetPassword)
	argBool(a, "never", r.NeverSignedUp)
	argBool(a, "note", r.Note != "")
	return a
}

// bounceArgs name the bounced recipients, masked as in Detail.
func bounceArgs(p ParsedMail) Args {
	if len(p.BounceRecipients) == 0 {
		return nil
	}
	return Args{"recipients": mask.Text(strings.Join(p.BounceRecipients, ", "))}
}

// assessArgs are a breach assessment's arguments: the outcome, the one it
// replaced, the reason, and how it stood to the deadline.
func assessArgs(c *Case, outcome, reason, prev string, now time.Time) Args {
	a := Args{"outcome": outcome, "reason": reason}
	if prev != "" {
		a["from"] = prev
	}
	if c.AssessBy != nil {
		if now.After(*c.AssessBy) {
			a["late"] = argInt(int64(now.Sub(*c.AssessBy).Round(time.Minute) / time.Minute))
		} else {
			a["intime"] = "1"
		}
	}
	return a
}
