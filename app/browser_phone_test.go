package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"notme/cases"
	"notme/cases/passwd"
	"notme/ui"
)

// The phone walk: every page a GET reaches, staff and public, in English
// and Japanese, on a 360-px phone, with data as long as real data gets
// (long Message-IDs and account refs, fifty queue rows, long Japanese
// text). A page fails when it scrolls sideways, when a tap target is
// smaller than a finger, or when it shows a message id instead of words.

// phoneWidth is the narrowest phone the desk promises to serve.
const phoneWidth = 360

// minTap is the smallest tap target, in CSS px (WCAG 2.5.5, Apple's HIG).
const minTap = 44

// phoneOutbox stands in for the demo's SMTP sink: an acknowledgement with
// a long address and a long Japanese text, so /demo/outbox is walked too.
func phoneOutbox() []ui.OutboxMail {
	return []ui.OutboxMail{{
		At:   time.Now().UTC(),
		From: "bounces+notme-ack-0123456789abcdef0123456789abcdef@desk.customer-support.example.co.jp",
		To:   []string{"a.very.long.mailbox.name.of.someone.who.got.the.mail@subdomain.mail-provider.example.co.jp"},
		Raw: "Subject: =?utf-8?B?5Y+X5LuY?=\r\nAuto-Submitted: auto-replied\r\nX-Long-Header: " + strings.Repeat("0123456789", 12) +
			"\r\n\r\n" + strings.Repeat("お知らせいただきありがとうございます。", 8),
		Subject: "ご報告を受け付けました（受付番号のご案内）",
		Text:    strings.Repeat("お知らせいただきありがとうございます。このメールアドレスに届いたメールについて確認しています。", 4),
	}}
}

// phoneData is what seedPhoneData made, for the walk's URLs.
type phoneData struct {
	caseRef    string // an exact-match case with mail evidence and a long account ref
	mailID     int64  // the evidence on caseRef
	statusURL  string // a reporter's status page
	freshLink  string // a "not me" link nobody has used
	reportRefs []string
}

// longAccountRef and longMessageID are as long as a real system's get,
// with no break opportunities a browser would use by itself.
func longAccountRef(i int) string {
	return fmt.Sprintf("ACC-JP-TOKYO-SHINJUKU-HOUSEHOLD-PREMIUM-MEMBERSHIP-%012d", i)
}

func longMessageID(i int) string {
	return fmt.Sprintf("<20261206T0102%02d.%s.%d@transactional-mail.customer-notifications.example.co.jp>",
		i%60, strings.Repeat("a1b2c3d4e5", 5), i)
}

// seedPhoneData fills the browser desk with realistic volume: fifty cases
// from link reports (Japanese notes, every kind, a possible takeover),
// report mail whose evidence has long headers, kept mail that became no
// report, a long staff address and audit entries.
func seedPhoneData(t *testing.T, d browserDesk) phoneData {
	t.Helper()
	ctx := context.Background()
	svc := d.app.Service
	var pd phoneData
	kinds := []string{"registration", "order_confirmation", "postal_notice", "newsletter"}
	sent := time.Now().Add(-3 * time.Hour).UTC()
	note := "登録した覚えのないサービスから、会員証の発送や住所の確認についてのメールが何通も届いています。" +
		"私はこのアカウントの持ち主ではありません。これ以上私のアドレスに送らないでください。"
	var first cases.LedgerMessage
	for i := range 52 {
		m := cases.LedgerMessage{
			MessageID: longMessageID(i), AccountRef: longAccountRef(i), Kind: kinds[i%len(kinds)],
			Recipient: fmt.Sprintf("someone.with.a.rather.long.name.%02d@gmial.com", i),
			Subject:   "【重要】会員登録が完了しました。初回パスワードを設定してください（お問い合わせ番号 0123-4567-8901）",
			SentAt:    &sent,
		}
		reg, _, err := svc.RegisterMessage(ctx, m)
		if err != nil {
			t.Fatalf("RegisterMessage(%s) = %v", m.MessageID, err)
		}
		token := reg.URL[strings.LastIndex(reg.URL, "/")+1:]
		if i == 51 {
			pd.freshLink = reg.URL // never reported: its GET page is walked
			continue
		}
		if i == 0 {
			first = m
			continue // reported by mail below, so its case has evidence
		}
		filed, err := svc.FileReport(ctx, cases.ReportInput{
			Channel: cases.ChannelLink, Token: token, OpenedLink: i%3 == 0, SetPassword: i%10 == 1,
			NeverSignedUp: i%2 == 0, Note: note,
		})
		if err != nil {
			t.Fatalf("FileReport(link %d) = %v", i, err)
		}
		pd.reportRefs = append(pd.reportRefs, filed.CaseRef)
		if pd.statusURL == "" {
			pd.statusURL = d.base + "/s/" + filed.StatusToken
		}
	}

	date := time.Now().Format(time.RFC1123Z)
	mails := [][]byte{
		// A reply to the first ledger message: a report with evidence (a
		// text and an HTML body, an attachment with a long Japanese name).
		[]byte("From: =?utf-8?B?5bGx55Sw5aSq6YOO?= <someone.with.a.rather.long.name.00@gmial.com>\r\n" +
			"To: notme@desk.example\r\nSubject: Re: " + first.Subject + "\r\nDate: " + date + "\r\n" +
			"Message-ID: <reply-" + strings.Repeat("0123456789abcdef", 4) + "@mail.gmial.com>\r\n" +
			"In-Reply-To: " + first.MessageID + "\r\nReferences: " + first.MessageID + " " + longMessageID(99) + "\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n" +
			"--m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n" +
			"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			strings.Repeat("このメールは私宛てではありません。間違って届いているようです。", 6) + "\r\n" +
			"https://shop.example.co.jp/account/confirm?token=" + strings.Repeat("abcdefghij", 12) + "\r\n" +
			"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>このメールは私宛てではありません。</p>\r\n--a--\r\n" +
			"--m\r\nContent-Type: application/pdf; name*=UTF-8''%E9%A0%98%E5%8F%8E%E6%9B%B8_2026%E5%B9%B412%E6%9C%88%E5%88%86_" +
			strings.Repeat("0", 30) + ".pdf\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--m--\r\n"),
		// Kept mail that is no report: /mail lists it with its long subject.
		[]byte("From: automatic-notifications-no-reply@very-long-subdomain.mailer-daemon.example.co.jp\r\n" +
			"To: notme@desk.example\r\nSubject: 自動応答：ただいま長期休暇のため不在にしております。" +
			"十二月十五日以降に順次ご返信いたします。お急ぎの方は代表番号までお電話ください。\r\n" +
			"Date: " + date + "\r\nMessage-ID: <ooo-" + strings.Repeat("fedcba9876543210", 4) + "@example.co.jp>\r\n" +
			"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			"不在にしております。\r\n"),
	}
	var batch []cases.InboundMail
	for _, raw := range mails {
		batch = append(batch, cases.InboundMail{Raw: raw})
	}
	out, err := d.app.Pipeline.Ingest(ctx, batch)
	if err != nil {
		t.Fatalf("Ingest(phone mails) = %v", err)
	}
	if out[0].CaseRef == "" {
		t.Fatalf("Ingest(reply to %s) filed no report: %+v", first.MessageID, out[0])
	}
	pd.caseRef, pd.mailID = out[0].CaseRef, out[0].MailID

	// A long staff address: the admin table, the assignee column.
	long := "ichiro.tanaka.security-operations-tokyo@customer-support.example.co.jp"
	u, err := svc.AddUser(ctx, long, cases.RoleAgent, false, passwd.Generate())
	if err != nil {
		t.Fatalf("AddUser(%s) = %v", long, err)
	}
	session, admin, err := svc.Login(ctx, "admin@example.com", d.password("admin@example.com"), time.Minute)
	if err != nil {
		t.Fatalf("Login(admin) = %v", err)
	}
	actor := cases.Actor{User: &admin}
	if _, err := svc.SetSecurityTrained(ctx, actor, u.ID, true); err != nil {
		t.Fatalf("SetSecurityTrained(%s) = %v", long, err)
	}
	if _, err := svc.Take(ctx, actor, pd.caseRef); err != nil {
		t.Fatalf("Take(%s) = %v", pd.caseRef, err)
	}
	if _, err := svc.AddNote(ctx, actor, pd.caseRef, strings.Repeat("名義人への別経路での連絡を検討中。", 5)); err != nil {
		t.Fatalf("AddNote(%s) = %v", pd.caseRef, err)
	}
	if _, err := svc.RequestContainment(ctx, actor, pd.caseRef, cases.ActionLockAccount); err != nil {
		t.Fatalf("RequestContainment(%s, lock) = %v", pd.caseRef, err)
	}
	// A look at an address: a row in the leads' record of reveals.
	addrs, err := svc.CaseAddresses(ctx, actor, session, pd.caseRef)
	if err != nil || len(addrs) == 0 {
		t.Fatalf("CaseAddresses(%s) = %v, %v; want the reporter's address", pd.caseRef, addrs, err)
	}
	if err := svc.RevealAddress(ctx, actor, session, pd.caseRef, addrs[0].Field,
		"名義人本人からの電話で、登録アドレスの綴りを確認するため"); err != nil {
		t.Fatalf("RevealAddress(%s) = %v", pd.caseRef, err)
	}
	// The suppression list: a long address and account, every account,
	// and one taken off with a long Japanese reason.
	for i, in := range []cases.SuppressionInput{
		{Address: "a.very.long.mailbox.name.of.someone.who.got.the.mail@subdomain.mail-provider.example.co.jp", AccountRef: longAccountRef(3), CaseRef: pd.caseRef, TTL: 90 * 24 * time.Hour},
		{Address: "taro.yamada@gmial.com", Reason: cases.SuppressNotMyAddress},
		{Address: "recycled@example.co.jp", AccountRef: longAccountRef(4), Reason: cases.SuppressBounce},
	} {
		x, _, err := svc.AddSuppression(ctx, actor, in)
		if err != nil {
			t.Fatalf("AddSuppression(%d) = %v", i, err)
		}
		if i == 2 {
			if _, err := svc.RemoveSuppression(ctx, actor, x.ID, strings.Repeat("アドレスの持ち主が変わったとアカウントシステムから連絡があったため。", 3)); err != nil {
				t.Fatalf("RemoveSuppression(%d) = %v", x.ID, err)
			}
		}
	}
	return pd
}

// phoneCheck is what the walk reads from each page, in the page.
type phoneCheck struct {
	Lang        string
	ScrollWidth int
	Widest      string   // the overflowing element furthest right, if any
	SmallTaps   []string // tap targets under minTap
	Text        string   // visible text outside code and raw mail
	Code        string   // visible text inside code and raw mail
	Domain      string   // visible text the domain wrote (see domainText)
	FirstRowTop int      // the queue's first case link, from the page's top; -1 if none
	Height      int      // the first screen's height
	SVGFont     float64  // the smallest text drawn in SVG, in px on screen; 0 if none
	SVGText     string   // that text
}

// minChartFont is the smallest chart text a phone may show, in px.
const minChartFont = 12

// domainText holds what the domain recorded as codes with arguments (the
// timeline's details, escalation reasons, audit actions), read apart so
// that a failure names where the raw id came from.
const domainText = ".timeline > li, ul.reasons, table.audit td"

// readPhone measures the laid-out page. The widest element is the
// innermost one sticking out past the viewport that no scrolling box of
// its own contains (those scroll within, not the page).
const readPhone = `(() => {
  const vw = %d, min = %d, domainText = %q;
  const de = document.documentElement;
  const clipped = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox !== 'visible' && p.getBoundingClientRect().right <= vw + 0.5) return true;
    }
    return false;
  };
  const name = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.classList.length) s += '.' + Array.from(el.classList).join('.');
    const text = (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
    return s + (text ? ' "' + text + '"' : '');
  };
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  const taps = Array.from(document.querySelectorAll(
    '#queue-list tbody a[href^="/cases/"], main button:not(.link), main input[type=submit], main summary, .top .lang-switch'))
    .filter(visible)
    .filter(el => { const r = el.getBoundingClientRect(); return r.height < min - 0.5 || r.width < min - 0.5; })
    .map(el => { const r = el.getBoundingClientRect(); return name(el) + ' ' + Math.round(r.width) + '×' + Math.round(r.height); });
  // The queue's list starts on the first screen (its top row's link).
  const firstRow = document.querySelector('#queue-list tbody a[href^="/cases/"]');
  const firstRowTop = firstRow ? Math.round(firstRow.getBoundingClientRect().top + scrollY) : -1;
  // What a tap opens must fit too: measure with every section unfolded.
  for (const d of document.querySelectorAll('details')) d.open = true;
  // Text drawn in SVG (the leads' chart) at its size on screen.
  let smallest = '';
  let smallestPx = Infinity;
  for (const el of document.querySelectorAll('svg text')) {
    const svg = el.ownerSVGElement;
    if (!el.getClientRects().length || !svg || !svg.getScreenCTM()) continue;
    const px = parseFloat(getComputedStyle(el).fontSize) * svg.getScreenCTM().a;
    if (px < smallestPx) { smallestPx = px; smallest = el.textContent; }
  }
  const raw = 'code, pre, kbd, textarea, .ev-headers, .ev-text';
  let widest = null, right = vw + 0.5;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right < right || clipped(el)) continue;
    right = r.right; widest = el;
  }
  if (!widest) { // what sticks out is inside a box that scrolls: name it anyway
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right >= right) { right = r.right; widest = el; }
    }
  }
  let text = '', code = '', domain = '';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    // A select's options have no boxes of their own; they show when it opens.
    const box = el && (el.closest('select') || el);
    if (!el || el.closest('script, style, template, dialog:not([open]), [hidden]') || !box.getClientRects().length) continue;
    if (el.closest(raw)) code += n.data + ' ';
    else if (el.closest(domainText)) domain += n.data + ' ';
    else text += n.data + ' ';
  }
  return {
    Lang: de.lang,
    ScrollWidth: Math.max(de.scrollWidth, document.body.scrollWidth),
    Widest: widest ? name(widest) + ' (right edge ' + Math.round(right) + ' px)' : '',
    SmallTaps: taps,
    Text: text,
    Code: code,
    Domain: domain,
    FirstRowTop: firstRowTop,
    SVGFont: smallestPx === Infinity ? 0 : smallestPx,
    SVGText: smallest,
    Height: innerHeight,
  };
})()`

var (
	// missingKeyRE is what tr shows for a key in no catalog: ?some.key?.
	missingKeyRE = regexp.MustCompile(`\?[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+\?`)
	// snakeRE is an identifier of the code's, not a word of a person's.
	snakeRE = regexp.MustCompile(`\b[a-z]+(?:_[a-z]+)+\b`)
	// actionIDs may not show even as code: they are the desk's, not staff's.
	actionIDs = []string{cases.ActionRevokePendingLinks, cases.ActionLockAccount, cases.ActionRequireReverification,
		cases.ActionSuppressRecipient, cases.ActionContactOwner}
)

// checkPhonePage reads the page the tab shows and reports each way it
// fails a reader on a phone.
func checkPhonePage(t *testing.T, ctx context.Context, what, lang string) {
	t.Helper()
	c, err := chromedp.Run(ctx, chromedp.Evaluate[phoneCheck](fmt.Sprintf(readPhone, phoneWidth, minTap, domainText)))
	if err != nil {
		t.Fatalf("%s: read the page: %v", what, err)
	}
	if c.Lang != lang {
		t.Errorf("%s is in %q, want %q", what, c.Lang, lang)
	}
	if c.ScrollWidth > phoneWidth {
		t.Errorf("%s is %d px wide on a %d-px phone; widest: %s", what, c.ScrollWidth, phoneWidth, c.Widest)
	}
	for _, s := range c.SmallTaps {
		t.Errorf("%s: tap target %s is under %d px", what, s, minTap)
	}
	if m := missingKeyRE.FindString(c.Text + c.Code); m != "" {
		t.Errorf("%s shows the message id %s instead of its text", what, m)
	}
	if m := snakeRE.FindString(c.Text); m != "" {
		t.Errorf("%s shows the raw id %q in its text", what, m)
	}
	if m := snakeRE.FindString(c.Domain); m != "" {
		t.Errorf("%s shows the raw id %q in a timeline entry, escalation reason or audit row", what, m)
	}
	if c.SVGFont > 0 && c.SVGFont < minChartFont-0.05 {
		t.Errorf("%s draws %q at %.1f px, under the %d px a reader needs", what, c.SVGText, c.SVGFont, minChartFont)
	}
	if c.FirstRowTop > c.Height {
		t.Errorf("%s: the first case is %d px down, below the first screen (%d px)", what, c.FirstRowTop, c.Height)
	}
	for _, id := range actionIDs {
		if strings.Contains(c.Code, id) {
			t.Errorf("%s shows the raw action id %q", what, id)
		}
	}
}

// phoneShot saves the page as the phone shows it, whole, when
// NOTME_PHONE_SHOTS names a directory: to look at what the walk checked.
func phoneShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("NOTME_PHONE_SHOTS")
	if dir == "" {
		return
	}
	name = regexp.MustCompile(`[^A-Za-z0-9.-]+`).ReplaceAllString(name, "_")
	// The whole page, and the first screen: what a phone shows on arrival.
	full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	var first []byte
	if err == nil {
		first, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), full, 0o644)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".first.png"), first, 0o644)
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
}

// walkShotNames counts the names walkShot gave, so a page seen twice (two
// cases) keeps both pictures; the walk runs one page at a time.
var walkShotNames = map[string]int{}

// walkShot saves the page at 390 and 1280 px under ui/screenshots/walk/
// when NOTME_SCREENSHOTS names a directory (README links them), then puts
// the phone back for the walk's checks.
func walkShot(t *testing.T, ctx context.Context, lang, who, page string) {
	t.Helper()
	shots := newScreenshots(t)
	if shots.dir == "" {
		return
	}
	shots.dir = filepath.Join(shots.dir, "walk")
	if err := os.MkdirAll(shots.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Names stay the same from run to run: tokens, refs and ids go.
	for _, r := range []struct{ re, with string }{
		{`^(POST )?/r/[^/ ]+`, "${1}link"}, {`^/s/[A-Za-z0-9_-]{20,}$`, "status"}, {`^/cases/NM-0000-0000$`, "case-missing"},
		{`^/cases/[^/]+/mail/\d+$`, "case-mail"}, {`^/cases/[^/]+$`, "case"}, {`^/mail/\d+$`, "mail-one"},
		{`^/queue\?q=.*$`, "queue-search"}, {`^/$`, "home"},
	} {
		page = regexp.MustCompile(r.re).ReplaceAllString(page, r.with)
	}
	slug := strings.Trim(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(page, "-"), "-")
	name := lang + "-" + who + "-" + slug
	walkShotNames[name]++
	if n := walkShotNames[name]; n > 1 {
		name += fmt.Sprintf("-%d", n)
	}
	shots.take(t, ctx, name)
	err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, 740, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch))
	if err == nil {
		err = laidOutAt(ctx, phoneWidth)
	}
	if err != nil {
		t.Fatalf("emulate the phone again after a screenshot: %v", err)
	}
}

// phoneWalk opens every GET page of the desk in lang at phone width. Each
// person's tab keeps the phone viewport for the whole walk.
func phoneWalk(t *testing.T, d browserDesk, bctx context.Context, pd phoneData) {
	for _, tc := range []struct{ lang, acceptLanguage string }{
		{"en", "en-GB,en;q=0.9"},
		{"ja", "ja-JP,ja;q=0.9,en;q=0.5"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			visit := func(t *testing.T, ctx context.Context, who, path string, status int) {
				t.Helper()
				url := path
				if strings.HasPrefix(path, "/") {
					url = d.base + path
				}
				what := fmt.Sprintf("GET %s (%s, %s)", strings.TrimPrefix(path, d.base), tc.lang, who)
				p := open(t, ctx, url)
				if p.Status != status {
					t.Errorf("%s = %d, want %d", what, p.Status, status)
				}
				phoneShot(t, ctx, tc.lang+"-"+who+strings.TrimPrefix(path, d.base)) // before the check unfolds every section
				walkShot(t, ctx, tc.lang, who, strings.TrimPrefix(path, d.base))
				checkPhonePage(t, ctx, what, tc.lang)
			}
			phone := func(t *testing.T) context.Context {
				ctx := person(t, bctx, tc.acceptLanguage)
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, 740, chromedp.EmulateScale(1),
					chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
					t.Fatalf("emulate a %d-px phone: %v", phoneWidth, err)
				}
				return ctx
			}
			loginAs := func(t *testing.T, ctx context.Context, email string) {
				t.Helper()
				p := login(t, ctx, d, email, nil)
				// The untrained are refused the queue of security cases.
				if p.Status != http.StatusOK && p.Status != http.StatusForbidden {
					t.Fatalf("log in as %s on a phone: %s = %d", email, p.URL, p.Status)
				}
			}

			public := phone(t)
			for _, path := range []string{"/", pd.freshLink, "/report", pd.statusURL, "/login", "/s/not-a-status-token", "/no-such-page"} {
				status := http.StatusOK
				if strings.Contains(path, "not-a-status") || path == "/no-such-page" {
					status = http.StatusNotFound
				}
				visit(t, public, "public", path, status)
			}
			// The pages a reporter's buttons lead to: /report's second step
			// and what it files, and a "not me" link's answer.
			post := func(t *testing.T, ctx context.Context, what, button string) {
				t.Helper()
				p := click(t, ctx, button)
				if p.Status != http.StatusOK {
					t.Errorf("%s = %d, want 200", what, p.Status)
				}
				what = fmt.Sprintf("%s (%s, public)", what, tc.lang)
				phoneShot(t, ctx, tc.lang+"-public-"+strings.ReplaceAll(what, " ", "_"))
				walkShot(t, ctx, tc.lang, "public", strings.SplitN(what, " (", 2)[0])
				checkPhonePage(t, ctx, what, tc.lang)
			}
			open(t, public, d.base+"/report")
			pasted := "Message-ID: " + longMessageID(50) + "\nSubject: 【重要】会員登録が完了しました\nFrom: no-reply@transactional-mail.customer-notifications.example.co.jp"
			if _, err := chromedp.Run(public, chromedp.Evaluate[bool](fmt.Sprintf(
				`(document.querySelector('form[action^="/report"] textarea[name="text"]').value = %q) !== ''`, pasted))); err != nil {
				t.Fatalf("paste headers into /report: %v", err)
			}
			post(t, public, "POST /report (step two)", `form[action^="/report"] button[type="submit"]`)
			post(t, public, "POST /report (filed)", `form[action^="/report"] input[name="step"][value="send"] ~ button[type="submit"]`)
			open(t, public, pd.freshLink)
			post(t, public, "POST /r/{token} (filed)", `form[action^="/r/"] button[type="submit"]`)

			admin := phone(t)
			loginAs(t, admin, "admin@example.com")
			for _, p := range []struct {
				path   string
				status int
			}{
				{"/queue", http.StatusOK},
				{"/queue?severity=high", http.StatusOK},
				{"/queue?q=" + longAccountRef(7), http.StatusOK},
				{"/cases/" + pd.caseRef, http.StatusOK},
				{"/cases/" + pd.reportRefs[0], http.StatusOK},
				{fmt.Sprintf("/cases/%s/mail/%d", pd.caseRef, pd.mailID), http.StatusOK},
				{"/mail", http.StatusOK},
				{fmt.Sprintf("/mail/%d", pd.mailID), http.StatusOK},
				{"/leads", http.StatusOK},
				{"/leads/suppressions", http.StatusOK},
				{"/leads/suppressions?removed=true", http.StatusOK},
				{"/admin", http.StatusOK},
				{"/admin/audit", http.StatusOK},
				{"/demo/outbox", http.StatusOK},
				{"/cases/NM-0000-0000", http.StatusNotFound},
			} {
				visit(t, admin, "admin", p.path, p.status)
			}
			// The queue's filters fold on the phone and stay open on a desktop.
			open(t, admin, d.base+"/queue")
			if !exists(t, admin, "details.fold:not([open])") {
				t.Errorf("GET /queue (%s) on a phone shows its filters unfolded, above the list", tc.lang)
			}
			resetViewport(t, admin, "the phone walk")
			open(t, admin, d.base+"/queue")
			if !exists(t, admin, "details.fold[open]") {
				t.Errorf("GET /queue (%s) on a desktop folds its filters away", tc.lang)
			}

			untrained := phone(t)
			loginAs(t, untrained, "parcel-desk@example.com")
			visit(t, untrained, "untrained", "/cases/"+pd.caseRef, http.StatusForbidden)
			visit(t, untrained, "untrained", "/leads", http.StatusForbidden)
		})
	}
}
