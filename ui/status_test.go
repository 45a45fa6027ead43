package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

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
		}, "This address has been removed from the account; you will not receive its mail again.",
			"このメールアドレスはアカウントから削除されました。今後、このアカウントのメールがあなたに届くことはありません。"},
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
	for lang, want := range map[string]string{"en": "no change to the account was needed", "ja": "アカウントの変更は必要ありませんでした"} {
		r := b.get(t, strings.TrimSuffix(path2, "?filed=1")+"?lang="+lang)
		if !strings.Contains(r.body, want) || strings.Contains(r.body, "holder") || strings.Contains(r.body, "removed from the account") {
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
