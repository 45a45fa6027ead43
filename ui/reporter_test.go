package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "gorm.io/driver/sqlite" // registers database/sql's "sqlite3" driver

	"notme/app"
	"notme/cases"
)

// phrase is a sentence each reporter page shows, per language.
var phrase = map[string]map[string]string{
	"/":       {"en": "Got an email that was meant for someone else?", "ja": "ほかの方あてのメールが届きましたか？"},
	"/r/":     {"en": "This email isn’t for me", "ja": "このメールは私あてではありません"},
	"/report": {"en": "Check this email", "ja": "メールを確認する"},
	"/s/":     {"en": "We can&#39;t find this status page", "ja": "この状況ページが見つかりません"},
	"404":     {"en": "We can&#39;t find this page", "ja": "ページが見つかりません"},
}

// wantLang fails unless r is a whole page in lang with a switch to the
// other language.
func wantLang(t *testing.T, r response, lang, what string) {
	t.Helper()
	r.wantHTML(t)
	other := map[string]string{"en": "ja", "ja": "en"}[lang]
	switch {
	case !strings.Contains(r.body, `<html lang="`+lang+`">`):
		t.Errorf("%s (%s): want <html lang=%q>:\n%s", r.call, what, lang, clip(r.body))
	case r.header.Get("Content-Language") != lang:
		t.Errorf("%s (%s): Content-Language = %q, want %q", r.call, what, r.header.Get("Content-Language"), lang)
	// Step two of /report switches with a button of its form, which the
	// pasted mail's findings and the ticks go along with.
	case !strings.Contains(r.body, `href="?lang=`+other+`"`) && !strings.Contains(r.body, `name="switch_lang" value="`+other+`"`):
		t.Errorf("%s (%s): no visible switch to ?lang=%s", r.call, what, other)
	}
}

// Every reporter page speaks the language chosen by ?lang=, else the
// browser's Accept-Language, else the configured default.
func TestReporterLanguageChoice(t *testing.T) {
	for _, def := range []string{"en", "ja"} {
		d := newDesk(t, func(c *app.Config) { c.HTTP.DefaultLanguage = def })
		tok := d.mint(t, "acct-lang", "registration").Token
		paths := map[string]string{"/": "/", "/r/": "/r/" + tok, "/report": "/report", "/s/": "/s/" + randomString(24), "404": "/no-such-page"}
		for _, v := range []struct {
			name, query, acceptLanguage, want string
		}{
			{"no header: the default", "", "", def},
			{"unsupported languages: the default", "", "fr-FR, de;q=0.9", def},
			{"wildcard: the default", "", "*", def},
			{"Japanese browser", "", "ja-JP,ja;q=0.9,en;q=0.8", "ja"},
			{"English browser", "", "en-US,en;q=0.9", "en"},
			{"Japanese preferred by q", "", "en;q=0.3, ja;q=0.7", "ja"},
			{"Japanese refused", "", "ja;q=0, en;q=0.5", "en"},
			{"?lang=ja beats the header", "?lang=ja", "en-US", "ja"},
			{"?lang=en beats the header", "?lang=en", "ja", "en"},
			{"unknown ?lang= is ignored", "?lang=fr", "ja", "ja"},
		} {
			b := d.browser(t)
			for key, path := range paths {
				var hdr []string
				if v.acceptLanguage != "" {
					hdr = []string{"Accept-Language", v.acceptLanguage}
				}
				r := b.get(t, path+v.query, hdr...)
				what := "default " + def + ", " + v.name
				wantLang(t, r, v.want, what)
				if !strings.Contains(r.body, phrase[key][v.want]) {
					t.Errorf("%s (%s): no %q on the page:\n%s", r.call, what, phrase[key][v.want], clip(r.body))
				}
			}
		}
	}
}

// hiddenRE is one hidden form field as the templates write it.
var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// formOf returns the hidden fields of the page's last form, as a browser
// would send them.
func formOf(body string) url.Values {
	f := url.Values{}
	last := body[strings.LastIndex(body, "<form"):]
	for _, m := range hiddenRE.FindAllStringSubmatch(last, -1) {
		f.Add(m[1], html.UnescapeString(m[2]))
	}
	return f
}

// A language chosen with the switch survives the POST: the redirect, the
// status page and a re-rendered form all stay in it, even when the browser
// asks for the other language.
func TestReporterLanguageSurvivesPost(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	en := []string{"Accept-Language", "en-US,en;q=0.9"}

	t.Run("link", func(t *testing.T) {
		b := d.browser(t)
		tok := d.mint(t, "acct-keep-ja", "registration").Token
		page := b.get(t, "/r/"+tok+"?lang=ja", en...)
		wantLang(t, page, "ja", "switched to Japanese")

		form := formOf(page.body)
		form.Set("note", strings.Repeat("あ", 2001))
		bad := b.post(t, "/r/"+tok, form, en...)
		bad.wantStatus(t, http.StatusUnprocessableEntity)
		wantLang(t, bad, "ja", "note too long")
		if !strings.Contains(bad.body, `role="alert">ひとことが長すぎる`) || !strings.Contains(bad.body, "2,000文字") {
			t.Errorf("%s: no Japanese error naming the 2,000-character limit:\n%s", bad.call, clip(bad.body))
		}

		form = formOf(bad.body)
		r := b.post(t, "/r/"+tok, form, en...)
		r.wantStatus(t, http.StatusSeeOther)
		if !strings.HasSuffix(r.location(), "?filed=1&lang=ja") {
			t.Fatalf("%s: Location = %q, want the status page with lang=ja", r.call, r.location())
		}
		st := b.get(t, r.location(), en...)
		wantLang(t, st, "ja", "status after the POST")
		if !strings.Contains(st.body, "ご報告ありがとうございます") {
			t.Errorf("%s: no Japanese thanks:\n%s", st.call, clip(st.body))
		}
	})

	t.Run("report form", func(t *testing.T) {
		b := d.browser(t)
		page := b.get(t, "/report?lang=ja", en...)
		wantLang(t, page, "ja", "report form")
		form := formOf(page.body)
		form.Set("text", "Message-ID: <nothing-known@elsewhere.example>\n")
		check := b.post(t, "/report?lang=ja", form, en...)
		check.wantStatus(t, http.StatusOK)
		wantLang(t, check, "ja", "step two")
		if !strings.Contains(check.body, "このメールから読み取れた内容") {
			t.Errorf("%s: step two does not say, in Japanese, what the text holds:\n%s", check.call, clip(check.body))
		}
		r := b.post(t, "/report", formOf(check.body), en...)
		r.wantStatus(t, http.StatusSeeOther)
		if !strings.HasSuffix(r.location(), "&lang=ja") {
			t.Errorf("%s: Location = %q, want lang=ja kept", r.call, r.location())
		}
	})

	t.Run("the browser's own language adds nothing", func(t *testing.T) {
		b := d.browser(t)
		tok := d.mint(t, "acct-keep-en", "registration").Token
		page := b.get(t, "/r/"+tok, en...)
		r := b.post(t, "/r/"+tok, formOf(page.body), en...)
		if !statusPathRE.MatchString(r.location()) {
			t.Errorf("%s: Location = %q, want the plain status path", r.call, r.location())
		}
	})
	if n := len(d.allCases(t, key)); n != 3 {
		t.Errorf("after three filed reports: %d cases, want 3", n)
	}
}

// postMultipart sends the /report form as a browser does when a file is
// chosen.
func (b *browser) postMultipart(t *testing.T, path string, fields url.Values, file []byte, header ...string) response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("eml", "mail.eml")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(file)
	}
	_ = w.Close()
	req, err := http.NewRequest(http.MethodPost, b.d.url+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	setHeaders(req, header)
	return b.do(t, req)
}

// /report without a link: the first POST shows what was found and files
// nothing; only the second files the report.
func TestReportTwoSteps(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	sent := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	d.register(t, cases.LedgerMessage{MessageID: "<order-42@shop.example>", AccountRef: "acct-form",
		Recipient: "someone@example.net", Kind: "order_confirmation", SentAt: &sent})
	minted := d.mint(t, "acct-upload", "registration")
	cases := func() int { return len(d.allCases(t, key)) }

	t.Run("pasted headers found in the ledger", func(t *testing.T) {
		b := d.browser(t)
		form := formOf(b.get(t, "/report").body)
		form.Set("text", "From: Shop <no-reply@shop.example>\nMessage-ID: <order-42@shop.example>\nSubject: Your order\n")
		check := b.postMultipart(t, "/report", form, nil)
		check.wantStatus(t, http.StatusOK)
		for _, want := range []string{"What we found in this email", "order-42@shop.example", "Send report"} {
			if !strings.Contains(check.body, want) {
				t.Errorf("%s: step two does not show %q:\n%s", check.call, want, clip(check.body))
			}
		}
		// Only the pasted text: nothing the ledger knows (issue 12).
		if strings.Contains(check.body, "2026-11-20") {
			t.Errorf("%s: step two shows the ledger's sent date:\n%s", check.call, clip(check.body))
		}
		if n := cases(); n != 0 {
			t.Fatalf("after step one: %d cases, want none filed", n)
		}
		r := b.post(t, "/report", formOf(check.body))
		r.wantStatus(t, http.StatusSeeOther)
		// Step two sent again (a double click) files nothing more.
		if again := b.post(t, "/report", formOf(check.body)); again.status != http.StatusSeeOther || again.location() != r.location() {
			t.Errorf("step two sent again = %d to %q, want 303 to the first answer's %q", again.status, again.location(), r.location())
		}
		c := d.cases(t, key, "account_ref=acct-form")
		if len(c) != 1 || len(c[0].Reports) != 1 || c[0].Match != "probable" || c[0].Reports[0].Channel != "form" || c[0].Reports[0].MatchedBy != "ledger" {
			t.Fatalf("after step two, sent twice: %+v, want one probable form report matched by the ledger", c)
		}
	})

	t.Run("uploaded .eml in Japanese", func(t *testing.T) {
		b := d.browser(t)
		form := formOf(b.get(t, "/report?lang=ja").body)
		eml := "From: Shop <no-reply@shop.example>\r\nMessage-ID: " + minted.MessageID + "\r\nSubject: =?UTF-8?B?5pys55m76Yyy?=\r\n\r\nbody\r\n"
		check := b.postMultipart(t, "/report?lang=ja", form, []byte(eml))
		check.wantStatus(t, http.StatusOK)
		if !strings.Contains(check.body, "このメールから読み取れた内容") || !strings.Contains(check.body, "本文中の報告用リンクの数") {
			t.Errorf("%s: step two does not say in Japanese what the mail holds:\n%s", check.call, clip(check.body))
		}
		f := formOf(check.body)
		f.Set("note", strings.Repeat("n", 2001))
		bad := b.post(t, "/report", f)
		bad.wantStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(bad.body, "2,000文字") || !strings.Contains(bad.body, strings.Repeat("n", 2001)) || formOf(bad.body).Get("mid") == "" {
			t.Errorf("%s with a long note: want the Japanese error with the note and the found mail kept:\n%s", bad.call, clip(bad.body))
		}
		f = formOf(bad.body)
		f.Set("note", "届いただけです")
		b.post(t, "/report", f).wantStatus(t, http.StatusSeeOther)
		if c := d.cases(t, key, "account_ref=acct-upload"); len(c) != 1 || c[0].Reports[0].MatchedBy != "token" {
			t.Fatalf("after the upload: %+v, want one case matched by token", c)
		}
	})

	t.Run("nothing found can still be sent", func(t *testing.T) {
		b := d.browser(t)
		before := cases()
		form := formOf(b.get(t, "/report").body)
		form.Set("text", "I got a mail for someone else, no headers, sorry")
		check := b.post(t, "/report", form)
		check.wantStatus(t, http.StatusOK)
		if !strings.Contains(check.body, "We found no Message-ID or report link") || !strings.Contains(check.body, "you can still send it") {
			t.Errorf("%s: step two does not say calmly that nothing was found:\n%s", check.call, clip(check.body))
		}
		b.post(t, "/report", formOf(check.body)).wantStatus(t, http.StatusSeeOther)
		if n := len(d.cases(t, key, "match=unmatched")); n != 1 || cases() != before+1 {
			t.Errorf("after sending an unmatched report: %d unmatched of %d cases, want 1 unmatched more", n, cases())
		}
	})

	t.Run("empty", func(t *testing.T) {
		b := d.browser(t)
		r := b.post(t, "/report", url.Values{"_csrf": {formOf(b.get(t, "/report").body).Get("_csrf")}, "text": {"  "}})
		r.wantStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(r.body, `role="alert">We did not receive any email text`) {
			t.Errorf("%s: no clear error:\n%s", r.call, clip(r.body))
		}
	})

	t.Run("file too big", func(t *testing.T) {
		before := cases()
		for _, lang := range []string{"en", "ja"} {
			b := d.browser(t)
			form := formOf(b.get(t, "/report?lang="+lang).body)
			form.Set("text", "kept text")
			r := b.postMultipart(t, "/report?lang="+lang, form, bytes.Repeat([]byte("x"), 5<<20+1))
			r.wantStatus(t, http.StatusRequestEntityTooLarge)
			wantLang(t, r, lang, "file over 5 MB")
			want := map[string]string{"en": "larger than 5 MB", "ja": "5 MBを超えている"}[lang]
			if !strings.Contains(r.body, want) || !strings.Contains(r.body, "kept text") || !strings.Contains(r.body, `enctype="multipart/form-data"`) {
				t.Errorf("%s: want the form back with %q and the pasted text:\n%s", r.call, want, clip(r.body))
			}
			// Beyond the route's body limit the answer is the error page.
			r = b.postMultipart(t, "/report?lang="+lang, form, bytes.Repeat([]byte("x"), 7<<20))
			r.wantStatus(t, http.StatusRequestEntityTooLarge)
			wantLang(t, r, lang, "body over the limit")
			if !strings.Contains(r.body, `href="/report?lang=`+lang+`"`) {
				t.Errorf("%s: the too-large page has no way back to the form:\n%s", r.call, clip(r.body))
			}
		}
		if n := cases(); n != before {
			t.Errorf("after refused uploads: %d cases, want %d", n, before)
		}
	})
}

// Every error a reporter can meet is a calm page in their language that
// says what happens next: never a bare status or a stack trace.
func TestReporterErrorPages(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.HTTP.ReportRate = app.RateConfig{PerMinute: 1, Burst: 1} })
	tok := d.mint(t, "acct-errors", "registration").Token
	reporter := d.browser(t)
	_, statusPath := reporter.report(t, tok, nil) // uses the one report the rate allows

	type errCase struct {
		name   string
		status int
		call   func(b *browser, hdr []string) response
		want   map[string]string
	}
	csrfOf := func(b *browser, path string, hdr []string) string {
		return formOf(b.get(t, path, hdr...).body).Get("_csrf")
	}
	table := []errCase{
		{"unknown page", 404, func(b *browser, h []string) response { return b.get(t, "/nothing/here", h...) },
			map[string]string{"en": "The address may be mistyped", "ja": "アドレスが正しくないか"}},
		{"unknown status link", 404, func(b *browser, h []string) response { return b.get(t, "/s/"+randomString(30), h...) },
			map[string]string{"en": "your report is safe with us", "ja": "確かに受け付けています"}},
		// The report limit is spent, and a report POST over it is answered
		// 429 before its form is read: the expired form is met on a form
		// whose limit is not spent.
		{"expired form", 403, func(b *browser, h []string) response {
			return b.post(t, "/login", url.Values{"_csrf": {"stale"}}, h...)
		},
			map[string]string{"en": "reload the page and send it again", "ja": "再読み込みしてから"}},
		{"rate limit", 429, func(b *browser, h []string) response {
			return b.post(t, "/r/"+tok, url.Values{"_csrf": {csrfOf(b, "/r/"+tok, h)}}, h...)
		}, map[string]string{"en": "Nothing you sent before is lost", "ja": "失われていません"}},
		{"wrong method", 405, func(b *browser, h []string) response {
			req, _ := http.NewRequest(http.MethodPut, d.url+"/report", nil)
			setHeaders(req, h)
			return b.do(t, req)
		}, map[string]string{"en": "use the page's own buttons", "ja": "ボタンやリンクをお使いください"}},
	}
	for _, lang := range []string{"en", "ja"} {
		hdr := []string{"Accept-Language", lang}
		for _, tc := range table {
			b := d.browser(t)
			r := tc.call(b, hdr)
			r.wantStatus(t, tc.status)
			wantLang(t, r, lang, tc.name)
			body := html.UnescapeString(r.body)
			if !strings.Contains(body, tc.want[lang]) || !strings.Contains(r.body, `href="/?lang=`+lang+`"`) {
				t.Errorf("%s (%s, %s): want %q and a way back to the start:\n%s", r.call, tc.name, lang, tc.want[lang], clip(r.body))
			}
			if tc.status == 429 && r.header.Get("Retry-After") == "" {
				t.Errorf("%s: 429 without Retry-After", r.call)
			}
		}
	}

	// A fault on our side: the reports table is gone.
	d.exec(t, "ALTER TABLE reports RENAME TO reports_gone")
	for lang, want := range map[string]string{"en": "This is not something you did", "ja": "お客様の操作が原因ではありません"} {
		r := reporter.get(t, statusPath, "Accept-Language", lang)
		r.wantStatus(t, http.StatusInternalServerError)
		wantLang(t, r, lang, "server fault")
		if !strings.Contains(r.body, want) || strings.Contains(r.body, "reports") || strings.Contains(r.body, "SQL") {
			t.Errorf("%s with the database broken: want %q and no internal detail:\n%s", r.call, want, clip(r.body))
		}
	}
}

// A reporter never sees anything about the account holder or the staff:
// not the account ref, the recipient, the subject, a note or an assignee.
func TestReporterPagesShowNoAccountData(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "agent.sato@desk.example", cases.RoleAgent, true)
	secrets := []string{"acct-HOLDER-7731", "holder.tanaka@example.org", "Tanaka Hanako", "INTERNAL-NOTE-4412", "agent.sato@desk.example", "order_confirmation", "Order confirmation"}
	d.register(t, cases.LedgerMessage{MessageID: "<order-7731@shop.example>", AccountRef: secrets[0],
		Recipient: secrets[1], Kind: "order_confirmation", Subject: "Tanaka Hanako, your order has shipped"})

	reporter := d.browser(t)
	form := formOf(reporter.get(t, "/report").body)
	form.Set("text", "Message-ID: <order-7731@shop.example>\n")
	check := reporter.post(t, "/report", form)
	r := reporter.post(t, "/report", formOf(check.body))
	r.wantStatus(t, http.StatusSeeOther)
	statusPath := r.location()
	st := reporter.get(t, statusPath)
	ref := caseRefRE.FindString(st.body)

	agent := d.login(t, "agent.sato@desk.example")
	tok := agent.csrf(t, "/queue")
	agent.post(t, "/cases/"+ref+"/take", url.Values{"_csrf": {tok}}).wantStatus(t, http.StatusSeeOther)
	agent.post(t, "/cases/"+ref+"/note", url.Values{"_csrf": {tok}, "note": {secrets[3] + " " + secrets[2]}}).wantStatus(t, http.StatusSeeOther)
	if page := agent.get(t, "/cases/"+ref); !strings.Contains(page.body, secrets[3]) || !strings.Contains(page.body, secrets[4]) {
		t.Fatalf("%s: the case has no note or assignee, so this test would prove nothing", page.call)
	}

	link := d.register(t, cases.LedgerMessage{MessageID: "<order-7732@shop.example>", AccountRef: secrets[0],
		Recipient: secrets[1], Kind: "order_confirmation", Subject: "Tanaka Hanako, your order has shipped"})
	for _, lang := range []string{"en", "ja"} {
		q := "?lang=" + lang
		pages := []response{
			reporter.get(t, "/"+q), reporter.get(t, "/r/"+link+q), reporter.get(t, "/report"+q),
			reporter.get(t, strings.TrimSuffix(statusPath, "?filed=1")+q), reporter.get(t, statusPath+"&lang="+lang),
		}
		f := formOf(reporter.get(t, "/report"+q).body)
		f.Set("text", "Message-ID: <order-7731@shop.example>\n")
		pages = append(pages, reporter.post(t, "/report"+q, f))
		f = formOf(reporter.get(t, "/r/"+link+q).body)
		f.Set("note", strings.Repeat("x", 2001))
		pages = append(pages, reporter.post(t, "/r/"+link, f))
		for _, p := range pages {
			if p.status >= 500 {
				t.Errorf("%s = %d", p.call, p.status)
			}
			for _, s := range secrets {
				if strings.Contains(p.body, s) {
					t.Errorf("%s (%s) shows %q to the reporter", p.call, lang, s)
				}
			}
		}
	}
}

// An uploaded .eml goes through the mail parser: a link split by
// quoted-printable soft line breaks, which a plain text scan cannot see
// whole, still finds the original.
func TestReportUploadUsesTheMailParser(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	m := d.mint(t, "acct-qp", "registration")
	var qp strings.Builder
	link := m.URL
	for len(link) > 60 {
		qp.WriteString(link[:60] + "=\r\n")
		link = link[60:]
	}
	qp.WriteString(link + "\r\n")
	eml := "From: stranger@example.net\r\nTo: desk@example.org\r\nSubject: Fwd: set your password\r\n" +
		"Message-ID: <fwd-1@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n---------- Forwarded message ---------\r\n" + qp.String()
	if found := regexp.MustCompile(`/r/([A-Za-z0-9_-]{16,})`).FindStringSubmatch(eml); found != nil && found[1] == m.Token {
		t.Fatal("the link is whole in the raw mail, so this test would not need the parser")
	}
	b := d.browser(t)
	check := b.postMultipart(t, "/report?lang=en", formOf(b.get(t, "/report").body), []byte(eml))
	check.wantStatus(t, http.StatusOK)
	if !strings.Contains(check.body, "Report links in the text") {
		t.Fatalf("%s with a quoted-printable forward: the link was not found:\n%s", check.call, clip(check.body))
	}
	b.post(t, "/report", formOf(check.body)).wantStatus(t, http.StatusSeeOther)
	if c := d.cases(t, key, "account_ref=acct-qp"); len(c) != 1 || c[0].Match != "exact" {
		t.Fatalf("after the upload: %+v, want one exact case", c)
	}
}

// What the desk is configured to say about itself reaches the reporter
// pages in both languages, and without it the pages promise nothing: no
// mailbox, no contact channel, no company name.
func TestReporterPagesCompanyMailboxAndContact(t *testing.T) {
	type want struct{ on, off []string }
	for _, tc := range []struct {
		name      string
		configure func(*app.Config)
		link      map[string]want
		home      map[string]want
		status    map[string]want
	}{
		{"nothing configured", func(*app.Config) {},
			map[string]want{
				"en": {[]string{"<h1>Was this email meant for someone else?</h1>"}, []string{" from "}},
				"ja": {[]string{"<h1>このメールはほかの方あてのものでしたか？</h1>"}, nil},
			},
			map[string]want{
				"en": {nil, []string{"mailto:", "forward the email to"}},
				"ja": {nil, []string{"mailto:", "あてに転送"}},
			},
			map[string]want{
				"en": {[]string{"Keep the reference above: it is all anyone needs to find your report."}, []string{"If you contact us", "tel:", "Contact form"}},
				"ja": {[]string{"上記の受付番号を控えておいてください。"}, []string{"お問い合わせ", "tel:"}},
			}},
		{"company, mailbox and contact", func(c *app.Config) {
			c.Desk = app.DeskConfig{Company: "Example Shop", CompanyJA: "サンプル商店", Contact: app.ContactConfig{
				URL: "https://shop.example.com/contact", Phone: "0120-000-000", Hours: "Weekdays 9:00–18:00", HoursJA: "平日 9:00〜18:00"}}
			c.Mail.ReportAddress = "report@desk.example.com"
		},
			map[string]want{
				"en": {[]string{"<h1>Was this email from Example Shop meant for someone else?</h1>"}, nil},
				"ja": {[]string{"<h1>サンプル商店からのこのメールは、ほかの方あてのものでしたか？</h1>"}, nil},
			},
			map[string]want{
				"en": {[]string{`Or forward the email to <a href="mailto:report@desk.example.com">report@desk.example.com</a>.`}, nil},
				"ja": {[]string{`または、そのメールを <a href="mailto:report@desk.example.com">report@desk.example.com</a> あてに転送してください。`}, nil},
			},
			map[string]want{
				"en": {[]string{"If you contact us, the reference above is all we need.", `Contact form: <a href="https://shop.example.com/contact"`,
					`Phone: <a href="tel:0120000000">0120-000-000</a> (Weekdays 9:00–18:00)`}, []string{"平日", "Keep the reference above"}},
				"ja": {[]string{"お問い合わせの際は、上記の受付番号だけお伝えください。", "お問い合わせフォーム：", `電話：<a href="tel:0120000000">0120-000-000</a>（平日 9:00〜18:00）`},
					[]string{"Weekdays"}},
			}},
	} {
		d := newDesk(t, tc.configure)
		b := d.browser(t)
		tok := d.mint(t, "acct-co", "registration").Token
		_, statusPath := b.report(t, tok, nil)
		status := strings.TrimSuffix(statusPath, "?filed=1")
		for _, lang := range []string{"en", "ja"} {
			for _, pg := range []struct {
				path string
				want want
			}{{"/r/" + tok, tc.link[lang]}, {"/", tc.home[lang]}, {status, tc.status[lang]}} {
				r := b.get(t, pg.path+"?lang="+lang)
				r.wantStatus(t, http.StatusOK)
				for _, w := range pg.want.on {
					if !strings.Contains(r.body, w) {
						t.Errorf("%s (%s): want %q on the page:\n%s", r.call, tc.name, w, clip(r.body))
					}
				}
				for _, w := range pg.want.off {
					if strings.Contains(r.body, w) {
						t.Errorf("%s (%s): the page says %q", r.call, tc.name, w)
					}
				}
			}
		}
	}
}

// The status address is a link, and its copy button is a link to a page
// where the address stands in a field to copy, so it works without
// script; the script that copies at once is a same-origin file the CSP
// allows.
func TestStatusAddressLinkAndCopy(t *testing.T) {
	d := newDesk(t)
	b := d.browser(t)
	_, statusPath := b.report(t, d.mint(t, "acct-copy", "registration").Token, nil)
	status := strings.TrimSuffix(statusPath, "?filed=1")
	full := d.url + status
	for _, lang := range []string{"en", "ja"} {
		r := b.get(t, status+"?lang="+lang)
		button := map[string]string{"en": "Copy the address", "ja": "アドレスをコピー"}[lang]
		for _, w := range []string{`<a href="` + full + `" rel="bookmark">`, `href="` + status + `?copy=1&amp;lang=` + lang + `"`, button} {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s: want %q on the page:\n%s", r.call, w, clip(r.body))
			}
		}
		script := regexp.MustCompile(`<script src="(/static/status\.js\?v=[0-9a-f]+)" defer></script>`).FindStringSubmatch(r.body)
		if script == nil {
			t.Fatalf("%s: no status.js script on the page", r.call)
		}
		js := b.get(t, script[1])
		js.wantStatus(t, http.StatusOK)
		if ct := js.header.Get("Content-Type"); !strings.Contains(ct, "javascript") || !strings.Contains(js.body, "clipboard") {
			t.Errorf("GET %s: Content-Type %q, want the copy script", script[1], ct)
		}
		c := b.get(t, status+"?copy=1&lang="+lang)
		c.wantStatus(t, http.StatusOK)
		hint := map[string]string{"en": "Select the address in the box and copy it", "ja": "枠内のアドレスを選択してコピー"}[lang]
		for _, w := range []string{`type="text" readonly value="` + full + `"`, hint} {
			if !strings.Contains(c.body, w) {
				t.Errorf("%s: want %q on the page:\n%s", c.call, w, clip(c.body))
			}
		}
	}
}

// Step two of /report has the link page's ticks, and they reach the
// report as the link page's do: the same report fields, the same
// severity.
func TestReportStepTwoTicks(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "kenji.agent@desk.example", cases.RoleAgent, true)
	agent := cases.Actor{User: mustUser(t, d, "kenji.agent@desk.example")}
	key := d.readKey(t)
	for i, tc := range []struct {
		kind  string
		ticks []string
		want  string
	}{
		{"registration", nil, "high"},
		{"registration", []string{"set_password"}, "critical"},
		{"newsletter", []string{"set_password"}, "high"},
		{"newsletter", []string{"opened_link", "never_signed_up"}, "low"},
	} {
		ticks := url.Values{}
		for _, tick := range tc.ticks {
			ticks.Set(tick, "1")
		}
		// The link page, for comparison.
		linkRef, _ := d.browser(t).report(t, d.mint(t, fmt.Sprintf("acct-tick-link-%d", i), tc.kind).Token, maps.Clone(ticks))
		// /report with the original's headers pasted.
		mid := fmt.Sprintf("<tick-%d@mail.example.com>", i)
		d.register(t, cases.LedgerMessage{MessageID: mid, AccountRef: fmt.Sprintf("acct-tick-form-%d", i),
			Recipient: "someone@example.net", Kind: tc.kind, Subject: "Hello"})
		b := d.browser(t)
		check := b.post(t, "/report", url.Values{"_csrf": {b.csrf(t, "/report")}, "text": {"Message-ID: " + mid + "\n"}})
		check.wantStatus(t, http.StatusOK)
		for _, label := range []string{"I opened a link in it", "I set a password or entered details", "I never signed up for anything here"} {
			if !strings.Contains(check.body, label) {
				t.Fatalf("%s: step two has no tick %q:\n%s", check.call, label, clip(check.body))
			}
		}
		form := formOf(check.body)
		for k, v := range ticks {
			form[k] = v
		}
		r := b.post(t, "/report", form)
		r.wantStatus(t, http.StatusSeeOther)
		formRef := caseRefRE.FindString(b.get(t, r.location()).body)

		for _, ref := range []string{linkRef, formRef} {
			if got := d.caseByRef(t, key, ref).Severity; got != tc.want {
				t.Errorf("%s with ticks %v: case %s severity %q, want %q", tc.kind, tc.ticks, ref, got, tc.want)
			}
		}
		l, err := d.app.Service.CaseByRef(context.Background(), agent, linkRef)
		if err != nil {
			t.Fatalf("CaseByRef(%s) = %v", linkRef, err)
		}
		f, err := d.app.Service.CaseByRef(context.Background(), agent, formRef)
		if err != nil {
			t.Fatalf("CaseByRef(%s) = %v", formRef, err)
		}
		lr, fr := l.Reports[0], f.Reports[0]
		if fr.Channel != cases.ChannelForm || [3]bool{lr.OpenedLink, lr.SetPassword, lr.NeverSignedUp} != [3]bool{fr.OpenedLink, fr.SetPassword, fr.NeverSignedUp} {
			t.Errorf("ticks %v: /report filed %s report with %v, the link page %v", tc.ticks, fr.Channel,
				[3]bool{fr.OpenedLink, fr.SetPassword, fr.NeverSignedUp}, [3]bool{lr.OpenedLink, lr.SetPassword, lr.NeverSignedUp})
		}
	}
}

// Switching language on step two keeps what the reporter gave: what was
// found in the pasted mail, the ticks and the note; it files nothing, and
// the report then filed in the new language carries all of it.
func TestReportStepTwoLanguageSwitchKeepsTheForm(t *testing.T) {
	d := newDesk(t)
	key := d.readKey(t)
	const mid = "<switch-1@mail.example.com>"
	d.register(t, cases.LedgerMessage{MessageID: mid, AccountRef: "acct-switch", Recipient: "someone@example.net",
		Kind: "registration", Subject: "Hello"})
	b := d.browser(t)
	check := b.post(t, "/report?lang=en", url.Values{"_csrf": {b.csrf(t, "/report?lang=en")},
		"text": {"From: shop@example.com\nMessage-ID: " + mid + "\nSubject: Hello\n\nDear Hanako"}})
	check.wantStatus(t, http.StatusOK)
	wantLang(t, check, "en", "step two")
	if !strings.Contains(check.body, "Message-IDs in the text") {
		t.Fatalf("%s: want the found Message-ID:\n%s", check.call, clip(check.body))
	}
	form := formOf(check.body)
	form.Set("set_password", "1")
	form.Set("note", "メモ: I clicked it")
	form.Set("switch_lang", "ja")
	sw := b.post(t, "/report", form)
	sw.wantStatus(t, http.StatusOK)
	wantLang(t, sw, "ja", "step two switched")
	for _, w := range []string{"本文中のMessage-ID", `name="set_password" value="1" checked`, ">メモ: I clicked it</textarea>",
		`name="mid" value="` + html.EscapeString(strings.Trim(mid, "<>"))} {
		if !strings.Contains(sw.body, w) {
			t.Errorf("%s: want %q kept on the switched page:\n%s", sw.call, w, clip(sw.body))
		}
	}
	if strings.Contains(sw.body, "Hanako") {
		t.Errorf("%s: the switched page carries the pasted mail's text", sw.call)
	}
	if n := len(d.allCases(t, key)); n != 0 {
		t.Fatalf("after the language switch: %d cases, want 0 (nothing filed)", n)
	}
	send := formOf(sw.body)
	send.Set("set_password", "1")
	send.Set("note", "メモ: I clicked it")
	r := b.post(t, "/report", send)
	r.wantStatus(t, http.StatusSeeOther)
	st := b.get(t, r.location())
	wantLang(t, st, "ja", "status after switching")
	ref := caseRefRE.FindString(st.body)
	c := d.caseByRef(t, key, ref)
	if c.AccountRef != "acct-switch" || c.Severity != "critical" || len(c.Reports) != 1 {
		t.Errorf("after switching and sending: case %s account %q severity %q with %d reports; want acct-switch, critical, 1",
			ref, c.AccountRef, c.Severity, len(c.Reports))
	}
}
