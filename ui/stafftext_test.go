package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"notme/cases"
	"notme/ui"
)

var missingKeyRE = regexp.MustCompile(`\?[a-z0-9]+\.[a-z0-9.]+\?`)

// domainTextRE finds what cases writes in English for staff (timeline
// entries, escalation reasons) and what is data rather than the page's
// words: code, raw text, mail headers, script.
var domainTextRE = regexp.MustCompile(`(?s)<ol class="timeline">.*?</ol>|<ul class="reasons">.*?</ul>|<code[^>]*>.*?</code>|<pre[^>]*>.*?</pre>|<table class="ev-headers">.*?</table>|<script[^>]*>.*?</script>|<blockquote>.*?</blockquote>`)

var (
	tagRE          = regexp.MustCompile(`(?s)<[^>]*>`)
	englishWordsRE = regexp.MustCompile(`[A-Za-z]{2,}(?:[ ,][A-Za-z]+){2,}`)
)

// wantJapanese checks what a Japanese reader notices: the page says it is
// Japanese, and no English sentence of the staff catalog is left on it
// outside the domain's own words.
func wantJapanese(t *testing.T, r response, data ...string) {
	t.Helper()
	if !strings.Contains(r.body, `<html lang="ja">`) {
		t.Errorf("%s: no <html lang=\"ja\">", r.call)
	}
	body := domainTextRE.ReplaceAllString(r.body, "")
	for _, f := range ui.StaffEnglishFragments() {
		if strings.Contains(body, f) {
			t.Errorf("%s shows the English %q", r.call, f)
		}
	}
	// Visible text with three English words in a row is a phrase someone
	// forgot to put in the catalog.
	text := tagRE.ReplaceAllString(body, " ")
	for _, x := range data {
		text = strings.ReplaceAll(text, x, "")
	}
	if m := englishWordsRE.FindString(text); m != "" {
		t.Errorf("%s shows English text %q", r.call, m)
	}
	if m := missingKeyRE.FindString(r.body); m != "" {
		t.Errorf("%s shows the missing message %s", r.call, m)
	}
}

// TestStaffPagesInJapanese: a staff member who chose 日本語 on the login
// page gets every console page in Japanese, chart and timeline included,
// without ?lang= on any later link.
func TestStaffPagesInJapanese(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "lead@desk.example", cases.RoleAdmin, true)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)
	mailID, mailRef := d.ingestFixture(t, "view/html_attachments_en.eml")
	escRef, _ := d.browser(t).report(t, d.mint(t, "ACC-9", "password_reset").Token, url.Values{"set_password": {"1"}})

	b := d.browser(t)
	login := b.get(t, "/login?lang=ja")
	login.wantStatus(t, http.StatusOK)
	wantJapanese(t, login)
	wantIn(t, login, "スタッフログイン", `href="/login?lang=en"`)
	if r := b.submit(t, "/login", url.Values{"email": {"lead@desk.example"}, "password": {"wrong password here"}}); r.status != http.StatusUnauthorized {
		t.Errorf("%s with a wrong password = %d, want 401", r.call, r.status)
	} else {
		wantJapanese(t, r)
		wantIn(t, r, "メールアドレスまたはパスワードが正しくありません。")
	}
	b.submit(t, "/login", url.Values{"email": {"lead@desk.example"}, "password": {staffPassword}}).wantStatus(t, http.StatusSeeOther)

	for _, c := range []struct {
		path  string
		wants []string
	}{
		{"/queue", []string{"案件一覧", "次の案件を担当する", "キーボードショートカット", "重大度", "緊急", "エスカレーション中", `data-label="担当者"`}},
		{"/queue?severity=low", []string{"この条件に一致する案件はありません"}},
		{"/queue?q=ACC-9", []string{escRef}},
		{"/queue?q=nobody%40example.org", []string{"に一致する案件はありません"}},
		{"/cases/" + mailRef, []string{"案件 " + mailRef, "封じ込め", "対応履歴", "内部メモ", "証跡を見る", "起票"}},
		{"/cases/" + escRef, []string{"エスカレーション中：リーダーがこの案件を確認しています。", "パスワードを設定した、または情報を入力した", "漏えい評価"}},
		{"/cases/" + mailRef + "/mail/" + itoa(mailID), []string{"メールの証跡", "ヘッダー", "添付ファイル", "ダウンロード"}},
		{"/mail", []string{"報告にならなかったメール"}},
		{"/leads", []string{"エスカレーション", "報告から封じ込めまでの時間", `<title id="chart-title">メール種別ごとの日別報告数`, "同じ数値を表で見る"}},
		{"/admin", []string{"監査ログ", "セキュリティ研修済み", "管理者"}},
	} {
		r := b.get(t, c.path)
		if r.status == http.StatusSeeOther && c.path == "/queue?q=ACC-9" {
			r = b.get(t, r.location())
		}
		r.wantStatus(t, http.StatusOK)
		wantJapanese(t, r)
		wantIn(t, r, c.wants...)
	}

	// Irreversible actions without their confirmation, and a page that is
	// not there.
	tok := b.csrf(t, "/cases/"+escRef)
	r := b.post(t, "/cases/"+escRef+"/status", url.Values{"_csrf": {tok}, "status": {"resolved"}})
	r.wantStatus(t, http.StatusBadRequest)
	wantJapanese(t, r)
	wantIn(t, r, "案件 "+escRef+" を解決する", "いいえ、戻ります")
	r = b.post(t, "/cases/"+escRef+"/containment", url.Values{"_csrf": {tok}, "action": {"lock_account"}})
	r.wantStatus(t, http.StatusBadRequest)
	wantJapanese(t, r)
	wantIn(t, r, "アカウントのロック")
	r = b.get(t, "/cases/NM-0000-0000")
	r.wantStatus(t, http.StatusNotFound)
	wantJapanese(t, r)
	wantIn(t, r, "案件を探す", "案件一覧に戻る")

	// Staff without the flag, whose browser asks for Japanese.
	parcel := d.login(t, "parcel@desk.example")
	r = parcel.get(t, "/queue", "Accept-Language", "ja,en;q=0.5")
	r.wantStatus(t, http.StatusForbidden)
	wantJapanese(t, r)
	wantIn(t, r, "parcel@desk.example", "セキュリティ研修済み")
}

// TestStaffLanguageChoicePersists: the switch sets a lang cookie that
// every later page follows, over Accept-Language; without it the browser's
// language decides; the switch keeps the queue's filters.
func TestStaffLanguageChoicePersists(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "ann@desk.example", cases.RoleAgent, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-1", "newsletter").Token, nil)
	ann := d.login(t, "ann@desk.example")

	r := ann.get(t, "/queue?severity=normal")
	wantIn(t, r, `<html lang="en">`, `href="/queue?lang=ja&amp;severity=normal"`)
	if c := r.header.Get("Set-Cookie"); strings.Contains(c, "lang=") {
		t.Errorf("%s sets %q before anyone chose a language", r.call, c)
	}

	r = ann.get(t, "/queue?lang=ja&severity=normal")
	wantJapanese(t, r)
	var lang *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "lang" {
			lang = c
		}
	}
	if lang == nil || lang.Value != "ja" || lang.SameSite != http.SameSiteLaxMode || lang.Path != "/" || lang.MaxAge <= 0 {
		t.Fatalf("%s: lang cookie = %+v, want ja, SameSite=Lax, Path=/, lasting", r.call, lang)
	}
	wantJapanese(t, ann.get(t, "/cases/"+ref))
	r = ann.get(t, "/cases/"+ref, "Accept-Language", "en")
	wantJapanese(t, r) // the choice outranks the browser

	r = ann.get(t, "/cases/"+ref+"?lang=en")
	wantIn(t, r, `<html lang="en">`, "Who works it")
	wantIn(t, ann.get(t, "/queue", "Accept-Language", "ja"), `<html lang="en">`, "Take next case")

	// Someone else who never chose: their browser's Japanese decides.
	d.addUser(t, "ken@desk.example", cases.RoleAgent, true)
	ken := d.login(t, "ken@desk.example")
	wantJapanese(t, ken.get(t, "/queue", "Accept-Language", "ja-JP,ja;q=0.9,en;q=0.5"))
	wantIn(t, ken.get(t, "/queue"), `<html lang="en">`, "Take next case")
}
