package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"notme/app"
	"notme/cases"
)

// The reporter's status page speaks the reporter's language, says where
// the case stands in plain words, and never shows the account, the staff
// or their notes.
func TestStatusPageLanguagesAndPrivacy(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "kenji.agent@desk.example", cases.RoleAgent, true)
	const (
		account   = "acct-hidden-4411"
		recipient = "hanako.yamada@example.net"
		note      = "Holder confirmed by phone; card reissued"
	)
	tok := d.register(t, cases.LedgerMessage{MessageID: "<post-4411@mail.example.com>", AccountRef: account,
		Recipient: recipient, Kind: "postal_notice", Subject: "Your card is in the post"})
	ref, statusPath := d.browser(t).report(t, tok, nil)
	status := strings.TrimSuffix(statusPath, "?filed=1")

	ctx := context.Background()
	svc := d.app.Service
	agent := cases.Actor{User: mustUser(t, d, "kenji.agent@desk.example")}

	type visit struct {
		name, query, acceptLanguage string
		wantLang                    string
	}
	visits := []visit{
		{"no header", "", "", "en"},
		{"English browser", "", "en-US,en;q=0.9", "en"},
		{"Japanese browser", "", "ja-JP,ja;q=0.9,en;q=0.8", "ja"},
		{"English preferred over Japanese", "", "en;q=0.9,ja;q=0.5", "en"},
		{"Japanese preferred by q", "", "en;q=0.4,ja;q=0.6", "ja"},
		{"switch to ja", "?lang=ja", "en", "ja"},
		{"switch to en", "?lang=en", "ja", "en"},
		{"unknown lang parameter", "?lang=fr", "ja", "ja"},
	}
	stages := []struct {
		name   string
		do     func() error
		en, ja string
	}{
		{"received", func() error { return nil },
			"Received. Our security team will look at it shortly.", "受け付けました。"},
		{"being handled", func() error {
			if _, err := svc.Take(ctx, agent, ref); err != nil {
				return err
			}
			if _, err := svc.AddNote(ctx, agent, ref, note); err != nil {
				return err
			}
			_, err := svc.SetStatus(ctx, agent, ref, cases.StatusContained, "")
			return err
		}, "Being handled by our security team.", "セキュリティ担当チームが対応中です。"},
		{"done", func() error {
			_, err := svc.SetStatus(ctx, agent, ref, cases.StatusResolved, "Internal: suppressed in CRM")
			return err
		}, "the removal of your address from the account has not been confirmed to us",
			"このメールアドレスがアカウントから削除されたことは確認できていません"},
	}
	b := d.browser(t)
	for _, st := range stages {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for _, v := range visits {
			var hdr []string
			if v.acceptLanguage != "" {
				hdr = []string{"Accept-Language", v.acceptLanguage}
			}
			r := b.get(t, status+v.query, hdr...)
			r.wantStatus(t, http.StatusOK)
			r.wantHTML(t)
			want := map[string]string{"en": st.en, "ja": st.ja}[v.wantLang]
			if !strings.Contains(r.body, want) {
				t.Errorf("%s (%s, %s): want %q on the page:\n%s", r.call, st.name, v.name, want, clip(r.body))
			}
			if !strings.Contains(r.body, `<html lang="`+v.wantLang+`">`) {
				t.Errorf("%s (%s): want <html lang=%q>", r.call, v.name, v.wantLang)
			}
			if got := r.header.Get("Content-Language"); got != v.wantLang {
				t.Errorf("%s (%s): Content-Language = %q, want %q", r.call, v.name, got, v.wantLang)
			}
			if got := r.header.Values("Vary"); !containsFold(got, "Accept-Language") {
				t.Errorf("%s: Vary = %q, want Accept-Language", r.call, got)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s: Cache-Control = %q, want no-store", r.call, got)
			}
			other := map[string]string{"en": "ja", "ja": "en"}[v.wantLang]
			if !strings.Contains(r.body, `href="?lang=`+other+`"`) {
				t.Errorf("%s (%s): no switch link to ?lang=%s", r.call, v.name, other)
			}
			if !strings.Contains(r.body, ref) {
				t.Errorf("%s: the case reference %s is missing", r.call, ref)
			}
			for _, label := range map[string][]string{"en": {"Received", "Last change"}, "ja": {"受付日時", "最終更新", "（日本時間）"}}[v.wantLang] {
				if !strings.Contains(r.body, label) {
					t.Errorf("%s (%s): no %q date on the page", r.call, v.name, label)
				}
			}
			lower := strings.ToLower(r.body)
			for _, secret := range []string{account, recipient, "hanako", "yamada", "kenji", "agent@", note, "Internal: suppressed", "postal", "card is in the post"} {
				if strings.Contains(lower, strings.ToLower(secret)) {
					t.Errorf("%s (%s): the status page shows %q", r.call, st.name, secret)
				}
			}
		}
	}

	// A dismissed case is closed in honest words, without the reason.
	ref2, path2 := d.browser(t).report(t, d.mint(t, "acct-other", "registration").Token, nil)
	if _, err := svc.SetStatus(ctx, agent, ref2, cases.StatusDismissed, "the address was the holder's own"); err != nil {
		t.Fatalf("SetStatus(dismissed) = %v", err)
	}
	for lang, want := range map[string]string{"en": "has not been confirmed to us", "ja": "確認できていません"} {
		r := b.get(t, strings.TrimSuffix(path2, "?filed=1")+"?lang="+lang)
		if !strings.Contains(r.body, want) || strings.Contains(r.body, "holder") || strings.Contains(r.body, "was removed from the account") {
			t.Errorf("%s: want %q and neither the reason nor the done message:\n%s", r.call, want, clip(r.body))
		}
	}

	// Unknown status links answer in the reader's language too.
	r := b.get(t, "/s/"+randomString(24), "Accept-Language", "ja")
	r.wantStatus(t, http.StatusNotFound)
	if !strings.Contains(r.body, "この状況ページが見つかりません") || !strings.Contains(r.body, `<html lang="ja">`) {
		t.Errorf("%s with Accept-Language ja: want the Japanese 404 page:\n%s", r.call, clip(r.body))
	}
	// The case reference is not a status token.
	b.get(t, "/s/"+ref).wantStatus(t, http.StatusNotFound)
}

func containsFold(values []string, want string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), want) {
				return true
			}
		}
	}
	return false
}

func mustUser(t *testing.T, d *desk, email string) *cases.User {
	t.Helper()
	us, err := d.app.Service.Users(context.Background())
	if err != nil {
		t.Fatalf("Users() = %v", err)
	}
	for _, u := range us {
		if u.Email == email {
			return &u
		}
	}
	t.Fatalf("Users() has no %s", email)
	return nil
}

// Each row of the outcome table in docs/reporter-status.md, built for real
// (reports filed, staff and the account system acting through the
// service) and read on the status page in both languages. A claim of a
// change shows only where the account system confirmed it.
func TestStatusPageOutcomeTable(t *testing.T) {
	d := newDesk(t, func(c *app.Config) {
		c.Kinds["survey"] = app.KindConfig{Label: "Survey", Severity: "low"} // no containment actions
	})
	d.addUser(t, "kenji.agent@desk.example", cases.RoleAgent, true)
	ctx := context.Background()
	svc := d.app.Service
	agent := cases.Actor{User: mustUser(t, d, "kenji.agent@desk.example")}
	system := cases.Actor{APIKey: &cases.APIKey{Name: "crm", Scopes: "cases:read cases:write"}}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s = %v", what, err)
		}
	}
	finish := func(ref string, to cases.Status) {
		t.Helper()
		if to == cases.StatusDismissed {
			_, err := svc.SetStatus(ctx, agent, ref, to, "test mail")
			must("SetStatus(dismissed)", err)
			return
		}
		if c, err := svc.CaseByRef(ctx, agent, ref); err == nil && c.Case.Status == cases.StatusNew {
			_, err := svc.SetStatus(ctx, agent, ref, cases.StatusContained, "")
			must("SetStatus(contained)", err)
		}
		_, err := svc.SetStatus(ctx, agent, ref, to, "")
		must("SetStatus("+string(to)+")", err)
	}
	link := func(account, kind string) (ref, status string) {
		ref, path := d.browser(t).report(t, d.mint(t, account, kind).Token, nil)
		return ref, strings.TrimSuffix(path, "?filed=1")
	}
	confirm := func(ref string, results ...cases.ContainmentResult) {
		t.Helper()
		_, _, err := svc.ConfirmContainment(ctx, system, ref, results)
		must("ConfirmContainment", err)
	}
	done := func(a string) cases.ContainmentResult {
		return cases.ContainmentResult{Action: a, Status: cases.ResultDone}
	}
	failed := func(a string) cases.ContainmentResult {
		return cases.ContainmentResult{Action: a, Status: cases.ResultFailed, Detail: "legal hold on acct-secret-1"}
	}
	const (
		removedEN = "your address was removed from the account"
		removedJA = "このメールアドレスをアカウントから削除したこと"
		linksEN   = "the links in that email no longer work"
		linksJA   = "そのメール内のリンクを無効にしたこと"
	)
	for _, row := range []struct {
		name   string
		build  func() string // returns the status path
		en, ja []string      // on the page
		noEN   []string      // not on the English page
	}{
		{"received: exact match, actions requested, nobody on it", func() string {
			_, st := link("acct-r1", "registration")
			return st
		}, []string{"Received. Our security team will look at it shortly."}, []string{"受け付けました。セキュリティ担当チームが間もなく確認します。"},
			[]string{removedEN, linksEN}},
		{"received: forged link reads the same", func() string {
			_, path := d.browser(t).report(t, "forged-"+randomString(20), nil)
			return strings.TrimSuffix(path, "?filed=1")
		}, []string{"Received. Our security team will look at it shortly."}, []string{"受け付けました。"}, nil},
		{"handling: taken", func() string {
			ref, st := link("acct-r2", "registration")
			_, err := svc.Take(ctx, agent, ref)
			must("Take", err)
			return st
		}, []string{"Being handled by our security team."}, []string{"セキュリティ担当チームが対応中です。"}, []string{removedEN}},
		{"handling: links revoked so far", func() string {
			ref, st := link("acct-r3", "registration")
			confirm(ref, done(cases.ActionRevokePendingLinks))
			_, err := svc.Take(ctx, agent, ref)
			must("Take", err)
			return st
		}, []string{"Being handled by our security team.", "The company has confirmed that " + linksEN},
			[]string{"セキュリティ担当チームが対応中です。", linksJA}, []string{removedEN}},
		{"removed: suppress_recipient confirmed, resolved", func() string {
			ref, st := link("acct-r4", "registration")
			confirm(ref, done(cases.ActionRevokePendingLinks), done(cases.ActionSuppressRecipient), done(cases.ActionRequireReverification))
			finish(ref, cases.StatusResolved)
			return st
		}, []string{"Done. The company has confirmed that " + removedEN, linksEN},
			[]string{"対応が完了しました。", removedJA, linksJA}, nil},
		{"not removed: suppress_recipient failed, resolved", func() string {
			ref, st := link("acct-r5", "registration")
			confirm(ref, done(cases.ActionRevokePendingLinks), failed(cases.ActionSuppressRecipient))
			finish(ref, cases.StatusResolved)
			return st
		}, []string{"the removal of your address from the account has not been confirmed to us", linksEN},
			[]string{"このメールアドレスがアカウントから削除されたことは確認できていません", linksJA}, []string{removedEN, "legal hold", "acct-secret"}},
		{"not removed: never answered, resolved", func() string {
			ref, st := link("acct-r6", "postal_notice")
			finish(ref, cases.StatusResolved)
			return st
		}, []string{"has not been confirmed to us"}, []string{"確認できていません"}, []string{removedEN, linksEN}},
		{"no change: nothing requested, resolved", func() string {
			ref, st := link("acct-r7", "survey")
			finish(ref, cases.StatusResolved)
			return st
		}, []string{"asked for no change to the account"}, []string{"アカウントの変更は依頼していません"}, []string{removedEN}},
		{"unlinked: no match, resolved", func() string {
			_, path := d.browser(t).report(t, "forged-"+randomString(20), nil)
			ref := caseRefRE.FindString(d.browser(t).get(t, path).body)
			finish(ref, cases.StatusResolved)
			return strings.TrimSuffix(path, "?filed=1")
		}, []string{"We could not link your report to an account, so nothing was changed."},
			[]string{"ご報告をどのアカウントとも結び付けられなかったため、何も変更していません。"}, []string{removedEN}},
		{"unlinked: no match, dismissed", func() string {
			_, path := d.browser(t).report(t, "forged-"+randomString(20), nil)
			ref := caseRefRE.FindString(d.browser(t).get(t, path).body)
			finish(ref, cases.StatusDismissed)
			return strings.TrimSuffix(path, "?filed=1")
		}, []string{"nothing was changed"}, []string{"何も変更していません"}, []string{"test mail"}},
		{"unconfirmed: a probable report on a case that was acted on", func() string {
			reg, _, err := svc.RegisterMessage(ctx, cases.LedgerMessage{MessageID: "<p-r9@mail.example.com>", AccountRef: "acct-r9",
				Recipient: "taro@gmial.com", Kind: "registration", Subject: "Welcome"})
			must("RegisterMessage", err)
			ref, _ := d.browser(t).report(t, strings.TrimPrefix(reg.URL, d.url+"/r/"), nil)
			f, err := svc.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelMail, Reporter: "taro@gmial.com"})
			must("FileReport(probable)", err)
			if f.CaseRef != ref || f.Report.Match != cases.MatchProbable {
				t.Fatalf("FileReport(from the recipient) = case %s, %s match; want case %s, probable", f.CaseRef, f.Report.Match, ref)
			}
			confirm(ref, done(cases.ActionSuppressRecipient))
			finish(ref, cases.StatusResolved)
			return "/s/" + f.StatusToken
		}, []string{"We could not confirm which account your report is about"},
			[]string{"ご報告がどのアカウントに関するものかを確認できなかったため"}, []string{removedEN}},
	} {
		path := row.build()
		b := d.browser(t)
		for lang, wants := range map[string][]string{"en": row.en, "ja": row.ja} {
			r := b.get(t, path+"?lang="+lang)
			r.wantStatus(t, http.StatusOK)
			for _, w := range wants {
				if !strings.Contains(r.body, w) {
					t.Errorf("%s (%s): want %q on the page:\n%s", r.call, row.name, w, clip(r.body))
				}
			}
			if lang == "en" {
				for _, w := range row.noEN {
					if strings.Contains(r.body, w) {
						t.Errorf("%s (%s): the page says %q", r.call, row.name, w)
					}
				}
			}
			if strings.Contains(r.body, "?outcome.") || strings.Contains(r.body, "?fact.") {
				t.Errorf("%s (%s): a raw message id on the page", r.call, row.name)
			}
		}
	}
}
