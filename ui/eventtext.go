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
// says each in English and Japanese. A template is a sentence with {name}
// for an argument and [ … ] around a part that shows only when every
// argument in it is given. docs/i18n.md tells a translator how to edit it.
//
// Arguments are formatted by their name, so a translator never sees a raw
// value: stored values (channel, status, action…) through valueMessages,
// why/fact/rule/of/deadline through this catalog, times as UTC dates,
// window/retention/late (minutes) as durations, actions as a list.
var eventMessages = map[string]struct{ en, ja string }{
	cases.CodeOpened: {"Opened from a {channel} report, {match} match by {by}; severity {severity}; to the {tier} tier; contain by {contain_by}.",
		"{channel}での報告から起票（照合：{match}、{by}）。重大度：{severity}。担当：{tier}チーム。封じ込め期限：{contain_by}。"},
	cases.CodeSeveritySet:    {"Severity {severity}: {why}.", "重大度を{severity}に設定：{why}。"},
	cases.CodeSeverityRaised: {"Severity {from} → {to}: {why}.", "重大度 {from} → {to}：{why}。"},
	cases.CodeMatchImproved:  {"Match {from} → {to} by {by}.", "照合 {from} → {to}（{by}）。"},
	cases.CodeReportAdded: {"Report by {channel}, {match} match by {by}[; reporter says: {ticks}][; with a note{note}].",
		"{channel}での報告（照合：{match}、{by}）[。報告者の申告：{ticks}][。メモあり{note}]。"},
	cases.CodeUndeliverable: {"Address undeliverable: a bounce came back for this account's mail[ ({recipients})].",
		"配信不能：このアカウント宛てのメールがエラーで戻った[（{recipients}）]。"},
	cases.CodeMatchConfirmed:   {"Match confirmed: account {account} (probable → exact).", "照合を確定：アカウント {account}（推定 → 確定）。"},
	cases.CodeContainRequested: {"Containment requested from the account system: {actions}.", "アカウントシステムに封じ込めを依頼：{actions}。"},
	cases.CodeContainResult:    {"The account system reports {action}: {result}[ — {detail}].", "アカウントシステムからの結果：{action}は{result}[ — {detail}]。"},
	cases.CodeContainedConfirmed: {"Status new → contained: every requested containment action was confirmed done.",
		"状態 新規 → 封じ込め済み：依頼したすべての封じ込め措置の完了が確認された。"},
	cases.CodeWebhookDelivered: {"Webhook {action} delivered to the account system (attempt {attempt}).", "Webhook「{action}」をアカウントシステムに配信（{attempt}回目）。"},
	cases.CodeWebhookDead: {"Webhook {action} not delivered after {attempts} attempts since {since}; staff can send it again. Last error: {error}",
		"Webhook「{action}」は{since}以降{attempts}回送っても配信できなかった。スタッフが再送できる。直近のエラー：{error}"},
	cases.CodeWebhookRetried: {"Webhook {action} sent again (same idempotency key) after {attempts} failed attempts.",
		"Webhook「{action}」を再送（失敗{attempts}回の後、同じ冪等キー）。"},
	cases.CodeTaken:            {"Taken by {to}.", "{to} が担当。"},
	cases.CodeAssigned:         {"Assigned to {to}.", "{to} に割り当て。"},
	cases.CodeReassigned:       {"Reassigned from {from} to {to}.", "担当者を {from} から {to} に変更。"},
	cases.CodeNote:             {"{text}", "{text}"},
	cases.CodeStatus:           {"Status {from} → {to}[: {reason}]", "状態 {from} → {to}[：{reason}]"},
	cases.CodeOutcomeQueued:    {"Outcome notice queued to {n} reporters.", "報告者{n}人への結果通知を送信待ちにした。"},
	cases.CodeEscalatedManual:  {"Escalated to the security leads: {reason}", "セキュリティリーダーにエスカレーション：{reason}"},
	cases.CodeEscalatedRule:    {"Escalated to the security leads: [{rule}: ]{fact}.", "セキュリティリーダーにエスカレーション[（{rule}）]：{fact}。"},
	cases.CodeEscalatedFurther: {"Further escalation reason, [{rule}: ]{fact}.", "エスカレーション理由を追加[（{rule}）]：{fact}。"},
	cases.CodeDeescalated:      {"De-escalated: {reason}", "エスカレーションを解除：{reason}"},
	cases.CodeReopened: {"Reopened: a new report came within {window} of the resolution; contain by {contain_by}.",
		"再開：解決から{window}以内に新しい報告が届いた。封じ込め期限：{contain_by}。"},
	cases.CodeEvidencePurged: {"Raw evidence mail purged after the {retention} retention: {n} messages. The case, its reports and the mail's metadata stay.",
		"保存期間（{retention}）が過ぎたため、証跡メールの原本{n}通を削除。案件・報告・メールのメタデータは残る。"},
	cases.CodeSLABreached: {"SLA breach: {fact}.", "SLA違反：{fact}。"},
	cases.CodeNewEvidence: {"New evidence since containment: severity {from} → {to}; the case needs a person again; contain by {contain_by}.",
		"封じ込め後に新たな証拠：重大度 {from} → {to}。再び対応が必要です。封じ込め期限 {contain_by}。"},
	cases.CodeAssessed: {"Breach assessment[ changed from {from}]: {outcome} — {reason}[ ({late} after the deadline)][ (within the deadline{intime})]",
		"漏えい評価[（{from}から変更）]：{outcome} — {reason}[（期限を{late}超過）][（期限内{intime}）]"},

	"why." + cases.WhySetPasswordCredential: {"the reporter set a password or entered details from a credential mail: possible takeover",
		"報告者が認証用のメールからパスワードを設定、または情報を入力した（乗っ取りの可能性）"},
	"why." + cases.WhySetPassword:      {"the reporter set a password or entered details", "報告者がパスワードを設定、または情報を入力した"},
	"why." + cases.WhyOpenedCredential: {"the reporter opened a link in a credential mail", "報告者が認証用のメールのリンクを開いた"},
	"why." + cases.WhyKind:             {"the reported mail's kind", "報告されたメールの種別による"},

	"rule." + cases.RulePossibleTakeover:  {"possible takeover", "乗っ取りの可能性"},
	"rule." + cases.RuleMultipleReporters: {"several reporters", "複数の報告者"},
	"rule." + cases.RuleSharedRecipient:   {"one address, several accounts", "1つのアドレスに複数のアカウント"},
	"rule." + cases.RuleDomainCluster:     {"recipient domain cluster", "宛先ドメインへの集中"},
	"rule." + cases.RuleSLABreach:         {"SLA breach", "SLA違反"},

	"fact." + cases.FactTakeoverSetPassword: {"the reporter set a password or entered details from a credential mail",
		"報告者が認証用のメールからパスワードを設定、または情報を入力した"},
	"fact." + cases.FactNewEvidence:       {"new evidence since containment raised the severity from {from} to {to}", "封じ込め後の新たな証拠で重大度が{from}から{to}に上がった"},
	"fact." + cases.FactTakeoverOpened:    {"the reporter opened the link of a credential mail", "報告者が認証用のメールのリンクを開いた"},
	"fact." + cases.FactMultipleReporters: {"{n} distinct reporter addresses reported {of}", "{n}件の異なる報告者アドレスが{of}を報告した"},
	"fact." + cases.FactSharedRecipient:   {"one address at {domain} received mail for {n} accounts", "{domain} の1つのアドレスが{n}件のアカウントのメールを受け取った"},
	"fact." + cases.FactDomainCluster:     {"{n} cases from recipient domain {domain} within {window}", "{window}以内に宛先ドメイン {domain} の案件が{n}件"},
	"fact." + cases.FactDeadlinePassed: {"the {deadline} deadline {due} passed (severity {severity}, status {status})",
		"{deadline}の期限（{due}）が過ぎた（重大度：{severity}、状態：{status}）"},

	"of.account": {"this account", "このアカウント"},
	"of.case":    {"this case", "この案件"},

	"deadline." + cases.DeadlineContain: {"containment", "封じ込め"},
	"deadline." + cases.DeadlineResolve: {"resolution", "解決"},
	"deadline." + cases.DeadlineAssess:  {"breach-assessment", "漏えい評価"},

	"dur.days":  {"{n} days", "{n}日"},
	"dur.hours": {"{n} h", "{n}時間"},
	"dur.min":   {"{n} min", "{n}分"},

	"actor." + cases.ActorMail:      {"mail", "メール受信"},
	"actor.desk":                    {"desk", "デスク"},
	"actor." + cases.ActorReporter:  {"reporter", "報告者"},
	"actor." + cases.ActorRules:     {"escalation rules", "エスカレーションルール"},
	"actor." + cases.ActorSLA:       {"SLA monitor", "SLA監視"},
	"actor." + cases.ActorRetention: {"retention", "保存期間の管理"},
	"actor.account system":          {"account system", "アカウントシステム"},
	"actor." + cases.ActorAnonymous: {"anonymous", "匿名"},
	"actor.api":                     {"API key {name}", "APIキー {name}"},

	"audit." + cases.AuditGrantTrained:       {"granted security-trained", "研修済みを付与"},
	"audit." + cases.AuditRevokeTrained:      {"removed security-trained", "研修済みを取り消し"},
	"audit." + cases.AuditRetryWebhook:       {"sent a webhook again", "Webhookを再送"},
	"audit." + cases.AuditDownloadAttachment: {"downloaded an attachment", "添付ファイルをダウンロード"},
	"audit." + cases.AuditRevealAddress:      {"revealed an address", "アドレスを表示"},
	"audit." + cases.AuditBreachAssessment:   {"recorded a breach assessment", "漏えい評価を記録"},
	"audit." + cases.AuditInviteUser:         {"invited as staff", "スタッフとして招待"},
	"audit." + cases.AuditAcceptInvitation:   {"accepted the invitation and set a password", "招待を受けてパスワードを設定"},

	"auditd." + cases.AuditRetryWebhook:       {"webhook {webhook} ({action})", "Webhook {webhook}（{action}）"},
	"auditd." + cases.AuditDownloadAttachment: {"mail {mail}, attachment “{name}” ({type}, {size} bytes)", "メール{mail}の添付ファイル「{name}」（{type}、{size}バイト）"},
	"auditd." + cases.AuditRevealAddress:      {"{where}; reason: {reason}", "{where}。理由：{reason}"},
	"auditd." + cases.AuditBreachAssessment:   {"{outcome}: {reason}", "{outcome}：{reason}"},
}

// eventOne holds English singulars: the template used when the named
// count argument is 1. Japanese has no plural.
var eventOne = map[string]struct{ arg, en string }{
	cases.CodeOutcomeQueued:  {"n", "Outcome notice queued to 1 reporter."},
	cases.CodeEvidencePurged: {"n", "Raw evidence mail purged after the {retention} retention: 1 message. The case, its reports and the mail's metadata stay."},
	cases.CodeWebhookRetried: {"attempts", "Webhook {action} sent again (same idempotency key) after 1 failed attempt."},
	cases.CodeWebhookDead:    {"attempts", "Webhook {action} not delivered after 1 attempt since {since}; staff can send it again. Last error: {error}"},
	"dur.days":               {"n", "1 day"},
}

// Argument names and how they read.
var (
	valueArgs    = map[string]bool{"channel": true, "match": true, "by": true, "severity": true, "from": true, "to": true, "tier": true, "status": true, "action": true, "result": true, "outcome": true}
	catalogArgs  = map[string]string{"why": "why.", "rule": "rule.", "of": "of.", "deadline": "deadline."}
	timeArgs     = map[string]bool{"contain_by": true, "due": true, "since": true}
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
	m, ok := eventMessages[key]
	if !ok {
		return "", false
	}
	tmpl := m.en
	if lang == langJA {
		tmpl = m.ja
	} else if one, ok := eventOne[key]; ok && args[one.arg] == "1" {
		tmpl = one.en
	}
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
		_, ok := eventMessages[e.Code]
		return e.Code, e.Args, ok
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
