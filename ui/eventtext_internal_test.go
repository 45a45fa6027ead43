package ui

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"notme/cases"
)

// TestEventCatalogComplete fails on any message code, fact, rule, actor or
// audit action of cases that the event catalog lacks in either language,
// and on a translation whose arguments differ from the English.
func TestEventCatalogComplete(t *testing.T) {
	var keys []string
	keys = append(keys, cases.EventCodes...)
	for _, w := range cases.WhyCodes {
		keys = append(keys, "why."+w)
	}
	for _, r := range cases.Rules {
		keys = append(keys, "rule."+r)
	}
	for _, f := range cases.FactCodes {
		keys = append(keys, "fact."+f)
	}
	for _, a := range cases.Actors {
		keys = append(keys, "actor."+a)
	}
	for _, a := range cases.AuditActions {
		keys = append(keys, "audit."+a)
	}
	for _, d := range []string{cases.DeadlineContain, cases.DeadlineResolve, cases.DeadlineAssess} {
		keys = append(keys, "deadline."+d)
	}
	for _, k := range keys {
		for _, lang := range []string{langEN, langJA} {
			if m := texts.msgs[lang]["event."+k]; m == nil || strings.TrimSpace(m.Other) == "" {
				t.Errorf("locales/%s.json has no text for event.%s", lang, k)
			}
		}
	}
	// Every event type has a label in both languages, and every stored
	// value an argument can hold is named in both.
	for id := range texts.msgs[langEN] {
		if strings.HasPrefix(id, "label.") && !texts.has(langJA, id) {
			t.Errorf("event type %q has no Japanese label", id)
		}
	}
	for _, v := range append(slices.Clone(cases.Actions), cases.AssessNotNotifiable) {
		if en, ja := staffValue(langEN, v), staffValue(langJA, v); en == v || ja == v || ja == en {
			t.Errorf("staffValue(%q) = %q in English, %q in Japanese; want words in both, not the id", v, en, ja)
		}
	}

	arg := regexp.MustCompile(`\{\w+\}`)
	for id, m := range texts.msgs[langEN] {
		if !strings.HasPrefix(id, "event.") {
			continue
		}
		j := texts.msgs[langJA][id]
		if j == nil {
			continue // TestCatalogComplete names it
		}
		en, ja := arg.FindAllString(m.Other, -1), arg.FindAllString(j.Other, -1)
		slices.Sort(en)
		slices.Sort(ja)
		if !slices.Equal(slices.Compact(en), slices.Compact(ja)) {
			t.Errorf("%s: English arguments %v, Japanese %v; want the same", id, en, ja)
		}
		if strings.Count(m.Other, "[") != strings.Count(j.Other, "[") {
			t.Errorf("%s: English and Japanese have different optional parts", id)
		}
		if m.One != "" {
			if n := eventCount[strings.TrimPrefix(id, "event.")]; n == "" || !strings.Contains(m.One, "{"+n+"}") {
				t.Errorf("%s has a singular form, but eventCount names no argument it shows", id)
			}
		}
	}
}

// TestEventPlurals: English counts agree with their number; Japanese has
// one form.
func TestEventPlurals(t *testing.T) {
	for _, tc := range []struct {
		code string
		args cases.Args
		lang string
		want string
	}{
		{cases.CodeOutcomeQueued, cases.Args{"n": "1"}, langEN, "Outcome notice queued to 1 reporter."},
		{cases.CodeOutcomeQueued, cases.Args{"n": "3"}, langEN, "Outcome notice queued to 3 reporters."},
		{cases.CodeOutcomeQueued, cases.Args{"n": "1"}, langJA, "報告者1人への結果通知を送信待ちにした。"},
		{cases.CodeWebhookRetried, cases.Args{"action": cases.ActionLockAccount, "attempts": "1"}, langEN, "Webhook lock the account sent again (same idempotency key) after 1 failed attempt."},
		{cases.CodeReopened, cases.Args{"window": "1440", "contain_by": "2026-03-01T10:00:00Z"}, langEN, "Reopened: a new report came within 1 day of the resolution; contain by 2026-03-01 10:00 UTC."},
		{cases.CodeReopened, cases.Args{"window": "20160", "contain_by": "2026-03-01T10:00:00Z"}, langJA, "再開：解決から14日以内に新しい報告が届いた。封じ込め期限：2026-03-01 10:00 UTC。"},
		{cases.CodeStatus, cases.Args{"from": "new", "to": "contained"}, langEN, "Status new → contained"},
		{cases.CodeStatus, cases.Args{"from": "new", "to": "dismissed", "reason": "テスト送信"}, langJA, "状態 新規 → 対応不要で終了：テスト送信"},
		{cases.CodeReportAdded, cases.Args{"channel": "mail", "match": "exact", "by": "ledger"}, langEN, "Report by mail, exact match by ledger."},
		{cases.CodeReportAdded, cases.Args{"channel": "link", "match": "exact", "by": "token", "opened": "1", "never": "1", "note": "1"}, langJA,
			"リンクでの報告（照合：確定、トークン）。報告者の申告：リンクを開いた／登録した覚えがない。メモあり。"},
	} {
		if got, _ := eventMessage(tc.lang, tc.code, tc.args); got != tc.want {
			t.Errorf("eventMessage(%s, %s, %v) = %q, want %q", tc.lang, tc.code, tc.args, got, tc.want)
		}
	}
}

// TestLegacySentences: sentences stored before codes, as the rules and the
// SLA monitor wrote them, read as the coded events do; others stay as
// stored.
func TestLegacySentences(t *testing.T) {
	for _, tc := range []struct {
		detail, ja string
	}{
		{"Escalated to the security leads: rule multiple_reporters: 2 distinct reporter addresses reported this account.",
			"セキュリティリーダーにエスカレーション（複数の報告者）：2件の異なる報告者アドレスがこのアカウントを報告した。"},
		{"Further escalation reason, rule domain_cluster: 3 cases from recipient domain gmial.com within 1 days.",
			"エスカレーション理由を追加（宛先ドメインへの集中）：1日以内に宛先ドメイン gmial.com の案件が3件。"},
		{"Escalated to the security leads: rule domain_cluster: 3 cases from recipient domain gmial.com within 12h.",
			"セキュリティリーダーにエスカレーション（宛先ドメインへの集中）：12時間以内に宛先ドメイン gmial.com の案件が3件。"},
		{"Escalated to the security leads: rule shared_recipient: one address at gmial.com received mail for 2 accounts.",
			"セキュリティリーダーにエスカレーション（1つのアドレスに複数のアカウント）：gmial.com の1つのアドレスが2件のアカウントのメールを受け取った。"},
		{"SLA breach: the breach-assessment deadline 2026-03-01T10:00:00Z passed (severity high, status contained).",
			"SLA違反：漏えい評価の期限（2026-03-01 10:00 UTC）が過ぎた（重大度：高、状態：封じ込め済み）。"},
		{"Reopened: a new report came within 336h0m0s of the resolution; contain by 2026-03-01T10:00:00Z.",
			"再開：解決から14日以内に新しい報告が届いた。封じ込め期限：2026-03-01 10:00 UTC。"},
		{"Status new → dismissed: test mail", "状態 新規 → 対応不要で終了：test mail"},
		{"Report by link, exact match by token; reporter says: opened a link, never signed up; with a note.",
			"リンクでの報告（照合：確定、トークン）。報告者の申告：リンクを開いた／登録した覚えがない。メモあり。"},
		{"Report by link, exact match by token; reporter says: waved at the screen.", "Report by link, exact match by token; reporter says: waved at the screen."},
		{"Severity high: a reason no release wrote.", "Severity high: a reason no release wrote."},
		{"Something a newer release wrote.", "Something a newer release wrote."},
	} {
		if got := eventText(langJA, cases.Event{Type: cases.EventEscalated, Detail: tc.detail}); got != tc.ja {
			t.Errorf("eventText(ja, %q) = %q, want %q", tc.detail, got, tc.ja)
		}
	}
}
