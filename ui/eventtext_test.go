package ui_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"notme/cases"
	"notme/ui"
)

// everyEvent is one event of each message code, with the arguments its
// writer gives; the test fails when cases has a code not listed here.
var everyEvent = map[string]struct {
	typ, actor string
	args       cases.Args
}{
	cases.CodeOpened:             {cases.EventOpened, cases.ActorReporter, cases.Args{"channel": "link", "match": "exact", "by": "token", "severity": "critical", "tier": "security", "contain_by": "2026-03-01T10:00:00Z"}},
	cases.CodeSeveritySet:        {cases.EventSeverityRaised, cases.ActorMail, cases.Args{"severity": "critical", "why": cases.WhySetPasswordCredential}},
	cases.CodeSeverityRaised:     {cases.EventSeverityRaised, cases.ActorMail, cases.Args{"from": "normal", "to": "high", "why": cases.WhyOpenedCredential}},
	cases.CodeMatchImproved:      {cases.EventMatchImproved, cases.ActorMail, cases.Args{"from": "probable", "to": "exact", "by": "ledger"}},
	cases.CodeReportAdded:        {cases.EventReportAdded, "api:callcentre", cases.Args{"channel": "api", "match": "probable", "by": "recipient", "opened": "1", "setpw": "1", "never": "1", "note": "1"}},
	cases.CodeUndeliverable:      {cases.EventUndeliverable, cases.ActorMail, cases.Args{"recipients": "t***@gmial.com"}},
	cases.CodeMatchConfirmed:     {cases.EventMatchConfirmed, "user:agent@desk.example", cases.Args{"account": "ACC-1"}},
	cases.CodeContainRequested:   {cases.EventContainmentRequested, "user:agent@desk.example", cases.Args{"actions": strings.Join(cases.Actions, ",")}},
	cases.CodeContainResult:      {cases.EventContainmentResult, "api:account-system", cases.Args{"action": cases.ActionLockAccount, "result": cases.ActionFailed, "detail": "アカウントは既に削除済み"}},
	cases.CodeContainedConfirmed: {cases.EventStatus, "account system", nil},
	cases.CodeWebhookDelivered:   {cases.EventContainmentDelivered, "desk", cases.Args{"action": cases.ActionSuppressRecipient, "attempt": "2"}},
	cases.CodeWebhookDead:        {cases.EventWebhookDead, "desk", cases.Args{"action": cases.ActionRevokePendingLinks, "attempts": "8", "since": "2026-03-01T10:00:00Z", "error": "HTTP 503"}},
	cases.CodeWebhookRetried:     {cases.EventWebhookRetried, "user:lead@desk.example", cases.Args{"action": cases.ActionContactOwner, "attempts": "1"}},
	cases.CodeNewEvidence:        {cases.EventNewEvidence, cases.ActorReporter, cases.Args{"from": "high", "to": "critical", "contain_by": "2026-03-01T10:15:00Z"}},
	cases.CodeAckSentByHand:      {cases.EventAckSentByHand, "user:lead@desk.example", cases.Args{"held": cases.AckHeldNotPlausible}},
	cases.CodeTaken:              {cases.EventAssigned, "user:agent@desk.example", cases.Args{"to": "agent@desk.example"}},
	cases.CodeAssigned:           {cases.EventAssigned, "user:lead@desk.example", cases.Args{"to": "agent@desk.example"}},
	cases.CodeReassigned:         {cases.EventAssigned, "user:lead@desk.example", cases.Args{"from": "agent@desk.example", "to": "lead@desk.example"}},
	cases.CodeNote:               {cases.EventNote, "user:agent@desk.example", cases.Args{"text": "名義人に電話で確認済み"}},
	cases.CodeStatus:             {cases.EventStatus, "user:agent@desk.example", cases.Args{"from": "new", "to": "dismissed", "reason": "名義人本人のアドレスだった", "hold": cases.HoldAccount}},
	cases.CodeReportOnHold:       {cases.EventReportOnDismissed, cases.ActorReporter, cases.Args{"scope": cases.HoldLink}},
	cases.CodeReportTriageBound:  {cases.EventReportOnDismissed, cases.ActorReporter, cases.Args{"n": "3"}},
	cases.CodeOutcomeQueued:      {cases.EventOutcomeQueue, "user:agent@desk.example", cases.Args{"n": "2"}},
	cases.CodeEscalatedManual:    {cases.EventEscalated, "user:agent@desk.example", cases.Args{"reason": "カードが郵送された"}},
	cases.CodeEscalatedRule:      {cases.EventEscalated, cases.ActorRules, cases.Args{"rule": cases.RuleDomainCluster, "fact": cases.FactDomainCluster, "n": "3", "domain": "gmial.com", "window": "1440"}},
	cases.CodeEscalatedFurther:   {cases.EventEscalated, cases.ActorRules, cases.Args{"rule": cases.RuleSharedRecipient, "fact": cases.FactSharedRecipient, "n": "2", "domain": "gmial.com"}},
	cases.CodeDeescalated:        {cases.EventDeescalated, "user:lead@desk.example", cases.Args{"reason": "名義人と連絡が取れた"}},
	cases.CodeReopened:           {cases.EventReopened, cases.ActorReporter, cases.Args{"window": "20160", "contain_by": "2026-03-01T10:00:00Z"}},
	cases.CodeEvidencePurged:     {cases.EventEvidencePurged, cases.ActorRetention, cases.Args{"retention": "129600", "n": "3"}},
	cases.CodeSLABreached:        {cases.EventSLABreached, cases.ActorSLA, cases.Args{"fact": cases.FactDeadlinePassed, "deadline": cases.DeadlineContain, "due": "2026-03-01T10:00:00Z", "severity": "high", "status": "new"}},
	cases.CodeAssessed:           {cases.EventAssessed, "user:lead@desk.example", cases.Args{"outcome": "not_notifiable", "from": "notifiable", "reason": "名だけが表示されていた", "late": "90"}},
}

// Facts the escalation sample above does not reach, as further reasons.
var everyFact = []cases.Args{
	{"rule": cases.RulePossibleTakeover, "fact": cases.FactTakeoverSetPassword},
	{"rule": cases.RulePossibleTakeover, "fact": cases.FactTakeoverOpened},
	{"rule": cases.RuleMultipleReporters, "fact": cases.FactMultipleReporters, "n": "2", "of": "account"},
	{"rule": cases.RuleMultipleReporters, "fact": cases.FactMultipleReporters, "n": "2", "of": "case"},
	{"rule": cases.RuleSLABreach, "fact": cases.FactDeadlinePassed, "deadline": cases.DeadlineAssess, "due": "2026-03-01T10:00:00Z", "severity": "critical", "status": "contained"},
}

var (
	timelineRE = regexp.MustCompile(`(?s)<ol class="timeline">(.*?)</ol>`)
	evTagRE    = regexp.MustCompile(`<[^>]*>`)
	legacyRE   = regexp.MustCompile(`(?s)<span lang="en">.*?</span>`)
	// What may stay Latin on a Japanese page: references, addresses,
	// domains, dates and a few words Japanese staff write in Latin too.
	idRE      = regexp.MustCompile(`APIキー \S+|NM-[0-9A-Z-]+|[\w.*+-]+@[\w.-]+|\bgmial\.com\b|ACC-\d+|\d{4}-\d\d-\d\d \d\d:\d\d UTC|HTTP \d+`)
	wordRE    = regexp.MustCompile(`[A-Za-z_]{2,}`)
	latinOK   = map[string]bool{"Webhook": true, "SLA": true, "API": true}
	rawIDsRE  = regexp.MustCompile(`\b[a-z]+_[a-z_]+\b|\{\w+\}|\?\w[\w.]*\?`)
	sampleDay = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
)

// TestTimelineEveryEventInJapanese puts one event of every code on a case
// and reads its page: in Japanese the timeline has no English word beside
// references and addresses, in English no raw id; an event stored before
// codes existed shows its English as stored, marked lang="en".
func TestTimelineEveryEventInJapanese(t *testing.T) {
	for _, code := range cases.EventCodes {
		if _, ok := everyEvent[code]; !ok {
			t.Errorf("everyEvent lacks code %q: add an event of it to this test", code)
		}
	}
	d := newDesk(t)
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-1", "registration").Token, url.Values{"set_password": {"1"}})

	insert := func(typ, actor, detail, code string, args cases.Args) {
		var a any
		if args != nil {
			b, _ := json.Marshal(args)
			a = string(b)
		}
		var c any
		if code != "" {
			c = code
		}
		d.exec(t, `INSERT INTO case_events (case_id, at, actor, type, detail, code, args) SELECT id, ?, ?, ?, ?, ?, ? FROM cases WHERE ref = ?`,
			sampleDay, actor, typ, detail, c, a, ref)
	}
	for _, code := range cases.EventCodes {
		e := everyEvent[code]
		insert(e.typ, e.actor, "English detail of "+code+", shown only to old readers", code, e.args)
	}
	for _, f := range everyFact {
		insert(cases.EventEscalated, cases.ActorRules, "English detail of a fact", cases.CodeEscalatedFurther, f)
	}
	insert(cases.EventStatus, cases.ActorMail, "Stored before codes: an English sentence.", "", nil)

	agent := d.login(t, "agent@desk.example")
	ja := agent.get(t, "/cases/"+ref+"?lang=ja")
	ja.wantStatus(t, http.StatusOK)
	tl := timeline(t, ja)
	if !strings.Contains(tl, `<span lang="en">Stored before codes: an English sentence.</span>`) {
		t.Errorf("%s: the event stored without a code is not shown as stored, marked lang=en", ja.call)
	}
	if strings.Contains(tl, "shown only to old readers") || strings.Contains(tl, "English detail of a fact") {
		t.Errorf("%s shows an event's English detail although it has a code", ja.call)
	}
	text := html.UnescapeString(evTagRE.ReplaceAllString(legacyRE.ReplaceAllString(tl, ""), " "))
	for _, line := range strings.Split(text, "\n") {
		rest := idRE.ReplaceAllString(line, "")
		for _, w := range wordRE.FindAllString(rest, -1) {
			if !latinOK[w] {
				t.Errorf("%s: Japanese timeline has the Latin word %q in %q", ja.call, w, strings.TrimSpace(line))
				break
			}
		}
	}
	for _, want := range []string{"エスカレーションルール", "SLA監視", "保存期間の管理", "アカウントシステム", "デスク", "APIキー callcentre", "メール受信", "報告者", "アカウントのロック"} {
		if !strings.Contains(tl, want) {
			t.Errorf("%s: Japanese timeline lacks %q", ja.call, want)
		}
	}

	en := agent.get(t, "/cases/"+ref+"?lang=en")
	tl = timeline(t, en)
	text = html.UnescapeString(evTagRE.ReplaceAllString(tl, " "))
	for _, raw := range rawIDsRE.FindAllString(text, -1) {
		t.Errorf("%s: English timeline shows the raw id %q", en.call, raw)
	}
	for _, want := range []string{"Further escalation reason, possible takeover: the reporter set a password or entered details from a credential mail.",
		"Webhook contact the holder another way sent again (same idempotency key) after 1 failed attempt.", "escalation rules", "API key callcentre"} {
		if !strings.Contains(text, want) {
			t.Errorf("%s: English timeline lacks %q", en.call, want)
		}
	}
}

// timeline is the timeline list of a case page.
func timeline(t *testing.T, r response) string {
	t.Helper()
	m := timelineRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s has no timeline", r.call)
	}
	return m[1]
}

// TestLeadsAndAuditInJapanese: the leads' escalation reasons and reveal
// trail and the admin's audit log name actors, actions and reasons in the
// reader's language, with no raw id.
func TestLeadsAndAuditInJapanese(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	d.addUser(t, "admin@desk.example", cases.RoleAdmin, false)
	d.register(t, cases.LedgerMessage{MessageID: "<reg-1@mail.example.com>", AccountRef: "ACC-9",
		Recipient: "holder.owner@example.org", Kind: "registration", Subject: "Welcome"})
	f, err := d.app.Service.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelAPI, MessageIDs: []string{"reg-1@mail.example.com"},
		Reporter: "stranger.reporter@example.net", SetPassword: true, Actor: "api:callcentre"})
	if err != nil {
		t.Fatalf("FileReport() = %v", err)
	}
	agent := d.login(t, "agent@desk.example")
	field := regexpField(t, agent.get(t, "/cases/"+f.CaseRef).body, "reporter:")
	agent.post(t, "/cases/"+f.CaseRef+"/reveal", url.Values{"_csrf": {agent.csrf(t, "/queue")}, "field": {field}, "reason": {"折り返し電話のため"}}).
		wantStatus(t, http.StatusSeeOther)
	var id int64
	users, _ := d.app.Service.Users(ctx)
	for _, u := range users {
		if u.Email == "agent@desk.example" {
			id = u.ID
		}
	}
	admin := d.login(t, "admin@desk.example")
	admin.post(t, "/admin/users/"+strconv.FormatInt(id, 10)+"/trained", url.Values{"_csrf": {admin.csrf(t, "/admin")}, "trained": {"false"}}).
		wantStatus(t, http.StatusSeeOther)

	for _, tc := range []struct {
		who       *browser
		path      string
		want, not []string
	}{
		{d.login(t, "lead@desk.example"), "/leads?lang=ja",
			[]string{"乗っ取りの可能性：報告者が認証用のメールからパスワードを設定、または情報を入力した",
				"<td>agent@desk.example</td><td>" + f.CaseRef + "</td><td>報告1の報告者。理由：折り返し電話のため</td>"},
			[]string{"possible takeover", "user:", "case:", "reason:", "reporter of report"}},
		{d.login(t, "lead@desk.example"), "/leads?lang=en",
			[]string{"possible takeover: the reporter set a password or entered details from a credential mail",
				"reporter of report 1; reason: 折り返し電話のため"},
			[]string{"possible_takeover", "user:", "case:"}},
		{admin, "/admin?lang=ja",
			[]string{"<td>admin@desk.example</td><td>研修済みを取り消し</td><td>agent@desk.example</td>", "<td>agent@desk.example</td><td>アドレスを表示<br><span class=\"muted\">"},
			[]string{"revoke_security_trained", "reveal_personal_data", "user:"}},
	} {
		r := tc.who.get(t, tc.path)
		r.wantStatus(t, http.StatusOK)
		for _, w := range tc.want {
			if !strings.Contains(cells(r.body), w) {
				t.Errorf("%s lacks %q", r.call, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(r.body, n) {
				t.Errorf("%s shows %q", r.call, n)
			}
		}
	}
}

// TestOldTimelineReadsLikeNew: the English sentence the desk still stores
// beside each code is what releases before codes stored; read without its
// code, as an old row, it says the same in both languages wherever it is
// one of the common sentences, so an upgraded desk's old cases read in
// Japanese too.
func TestOldTimelineReadsLikeNew(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	svc := d.app.Service
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	d.addUser(t, "ann@desk.example", cases.RoleAgent, true)
	d.addUser(t, "lead@desk.example", cases.RoleLead, true)
	staff := map[string]cases.Actor{}
	users, _ := svc.Users(ctx)
	for i := range users {
		staff[users[i].Email] = cases.Actor{User: &users[i]}
	}
	agent, lead := staff["agent@desk.example"], staff["lead@desk.example"]

	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-3", "registration").Token, url.Values{"opened_link": {"1"}, "never_signed_up": {"1"}, "note": {"見覚えがない"}})
	d.browser(t).report(t, d.mint(t, "ACC-3", "registration").Token, url.Values{"set_password": {"1"}})
	steps := []func() error{
		func() error { _, err := svc.Take(ctx, agent, ref); return err },
		func() error { _, err := svc.Assign(ctx, lead, ref, staff["ann@desk.example"].User.ID); return err },
		func() error { _, err := svc.AddNote(ctx, agent, ref, "名義人に連絡した"); return err },
		func() error { _, err := svc.Deescalate(ctx, lead, ref, "名義人と連絡が取れた"); return err },
		func() error { _, err := svc.Escalate(ctx, agent, ref, "カードが郵送された"); return err },
		func() error { _, err := svc.SetStatus(ctx, lead, ref, cases.StatusContained, ""); return err },
		func() error {
			_, err := svc.SetStatus(ctx, lead, ref, cases.StatusResolved, "名義人が確認した")
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d on %s = %v", i, ref, err)
		}
	}
	cd, err := svc.CaseByRef(ctx, agent, ref)
	if err != nil {
		t.Fatalf("CaseByRef(%s) = %v", ref, err)
	}
	read := map[string]bool{}
	for _, e := range cd.Events {
		old := cases.Event{Type: e.Type, Actor: e.Actor, Detail: e.Detail}
		if now, then := ui.EventText("en", e), ui.EventText("en", old); now != then && then != e.Detail {
			t.Errorf("%s event %q in English reads %q, stored before codes %q", e.Code, e.Detail, now, then)
		}
		now, then := ui.EventText("ja", e), ui.EventText("ja", old)
		switch {
		case now == then:
			read[e.Code] = true
		case then != e.Detail:
			t.Errorf("%s event %q in Japanese reads %q, stored before codes %q", e.Code, e.Detail, now, then)
		}
	}
	for _, code := range []string{cases.CodeOpened, cases.CodeSeveritySet, cases.CodeSeverityRaised, cases.CodeEscalatedRule, cases.CodeReportAdded,
		cases.CodeContainRequested, cases.CodeTaken, cases.CodeReassigned, cases.CodeNote, cases.CodeDeescalated, cases.CodeEscalatedManual, cases.CodeStatus} {
		if !read[code] {
			t.Errorf("no %s event of the case read the same without its code (read: %v)", code, read)
		}
	}
}
