package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"notme/app/webhook"
	"notme/cases"
	"notme/ui"
)

// The browser tests drive Debian's Chromium through the whole desk: the
// server, its workers and the webhook outbox, as a user meets them. One
// Chromium serves every flow (each in its own browser context, so cookies
// do not leak between people). Selectors are form actions and input names,
// which stay put while the pages are restyled.
//
// Screenshots: NOTME_SCREENSHOTS=ui/screenshots go test ./app -run TestBrowser
// writes NAME-phone.png and NAME-desktop.png there (a relative directory is
// taken from the module root).

const browserWebhookSecret = "browser test secret, thirty-two bytes long"

// chromiumPath finds Debian's Chromium. Without it the test fails in CI
// (CI=true), where .ci/run installs it, and skips on a developer's machine.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found on PATH: the browser tests need Debian's chromium package (.ci/run installs it)")
	}
	t.Skip("chromium not found: install Debian's chromium (apt-get install --no-install-recommends chromium) to run the browser tests")
	return ""
}

// hookReceiver is the company's account system as far as the desk can
// tell: it checks each webhook's signature and notes what it accepted. It
// does not confirm, so a case stays where the agent puts it.
type hookReceiver struct {
	mu      sync.Mutex
	arrived map[string]chan struct{} // case ref + action → closed on arrival
	bad     error
}

func (h *hookReceiver) arrival(caseRef, action string) chan struct{} {
	key := caseRef + " " + action
	if h.arrived[key] == nil {
		h.arrived[key] = make(chan struct{})
	}
	return h.arrived[key]
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err == nil {
		err = webhook.Verify([]byte(browserWebhookSecret), r.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute)
	}
	var b cases.WebhookBody
	if err == nil {
		err = json.Unmarshal(body, &b)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.bad = err
		http.Error(w, "refused", http.StatusUnauthorized)
		return
	}
	select {
	case <-h.arrival(b.CaseRef, b.Action):
	default:
		close(h.arrival(b.CaseRef, b.Action))
	}
	w.WriteHeader(http.StatusOK)
}

// await waits until the receiver has accepted action for caseRef.
func (h *hookReceiver) await(t *testing.T, caseRef, action string) {
	t.Helper()
	h.mu.Lock()
	arrived := h.arrival(caseRef, action)
	h.mu.Unlock()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		h.mu.Lock()
		defer h.mu.Unlock()
		t.Fatalf("no signed %s webhook for %s reached the account system within 20s (last refusal: %v)", action, caseRef, h.bad)
	}
}

type browserDesk struct {
	base  string
	app   *App
	seed  DemoSeed
	hooks *hookReceiver
}

func (d browserDesk) password(email string) string {
	for _, u := range d.seed.Users {
		if u.Email == email {
			return u.Password
		}
	}
	panic("no seeded user " + email)
}

func (d browserDesk) link(account string) string {
	for _, l := range d.seed.Links {
		if l.AccountRef == account {
			return l.URL
		}
	}
	panic("no seeded link for " + account)
}

// startBrowserDesk runs the desk on a real listener with the demo's staff
// and links, and a real webhook receiver; no mailbox, so only the flows
// under test make cases.
func startBrowserDesk(t *testing.T, configure ...func(*Config)) browserDesk {
	t.Helper()
	hooks := &hookReceiver{arrived: map[string]chan struct{}{}}
	receiver := httptest.NewServer(hooks)
	t.Cleanup(receiver.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.PublicURL = "http://" + ln.Addr().String()
	cfg.Webhooks.URL, cfg.Webhooks.Secret = receiver.URL, Secret(browserWebhookSecret)
	cfg.HTTP.OpsAddr = "127.0.0.1:0" // a free port: other desks may run beside this one
	// The flows sign in as the demo's staff at once; the second factor's
	// own test turns the requirement on.
	cfg.Auth.SecondFactorRoles = nil
	for _, f := range configure {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	// The demo's outbox page too, so that the phone walk reaches it.
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler), func(o *ui.Options) { o.Outbox = phoneOutbox })
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	seed, err := Seed(context.Background(), a)
	if err != nil {
		t.Fatalf("Seed() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run() = %v", err)
		}
		a.Close()
	})
	return browserDesk{base: cfg.HTTP.PublicURL, app: a, seed: seed, hooks: hooks}
}

// startBrowser starts one headless Chromium for the whole test: no
// network of its own, a fresh profile, no sandbox when running as root
// (CI containers), where Chromium's sandbox cannot start.
func startBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(windowWidth, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("mute-audio", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if _, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{}); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return bctx
}

// person opens a tab in a browser context of its own (its own cookies),
// whose browser asks for pages in acceptLanguage.
func person(t *testing.T, bctx context.Context, acceptLanguage string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err == nil {
		_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	}
	if err == nil {
		_, err = chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: strings.Replace(v.UserAgent, "HeadlessChrome", "Chrome", 1), AcceptLanguage: acceptLanguage,
		})
	}
	if err != nil {
		t.Fatalf("open a tab with Accept-Language %s: %v", acceptLanguage, err)
	}
	// Bound each person's flow, now that the tab exists (a timeout on the
	// first call would bound the tab's whole life, not the flow).
	ctx, cancelTimeout := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// page is what the user sees after a navigation.
type page struct {
	Status int
	URL    string
	Lang   string
	Main   string // the visible text of <main> (the whole body if none)
	Links  []string
}

const readPage = `(() => {
  const m = document.querySelector('main') || document.body;
  return {
    URL: location.href,
    Lang: document.documentElement.lang,
    Main: m.innerText,
    Links: Array.from(m.querySelectorAll('a[href]'), a => a.href),
  };
})()`

// do runs actions that end in a navigation (a click on a submit button,
// a Navigate) and returns the page they led to.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) page {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[page](readPage))
	if err != nil {
		t.Fatalf("%s: read the page: %v", what, err)
	}
	p.Status = int(resp.Status)
	return p
}

func open(t *testing.T, ctx context.Context, url string) page {
	t.Helper()
	return do(t, ctx, "open "+url, chromedp.Navigate(url))
}

// unfold opens the <details> that hides the element sel, as a user
// would, by clicking its summary.
func unfold(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	summary := fmt.Sprintf(`details:not([open]):has(%s) > summary`, sel)
	if exists(t, ctx, summary) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(summary), chromedp.NodeVisible)); err != nil {
			t.Fatalf("open the section holding %s: %v", sel, err)
		}
	}
}

// click presses the button matched by sel and waits for the next page.
func click(t *testing.T, ctx context.Context, sel string) page {
	t.Helper()
	return do(t, ctx, "click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func exists(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
	if err != nil {
		t.Fatalf("look for %s: %v", sel, err)
	}
	return ok
}

func login(t *testing.T, ctx context.Context, d browserDesk, email string, shots *screenshots) page {
	t.Helper()
	open(t, ctx, d.base+"/login")
	if shots != nil {
		shots.take(t, ctx, "login")
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`form[action="/login"] input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`form[action="/login"] input[name="password"]`), d.password(email)),
	); err != nil {
		t.Fatalf("fill the login form as %s: %v", email, err)
	}
	return click(t, ctx, `form[action="/login"] button[type="submit"]`)
}

var (
	caseRefRE = regexp.MustCompile(`NM-[0-9A-Z]{4}-[0-9A-Z]{4}`)
	kanaRE    = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}]`)
)

// fitsPhone checks that the page needs no sideways scrolling on a
// 360-px-wide phone, the narrowest the reporter pages promise to serve.
func fitsPhone(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(1), chromedp.EmulateMobile))
	var width int
	if err == nil {
		width, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	}
	if err != nil {
		t.Fatalf("measure %s at 360 px: %v", what, err)
	}
	resetViewport(t, ctx, what)
	if width > 360 {
		t.Errorf("%s is %d px wide on a 360-px phone: the reader must scroll sideways", what, width)
	}
}

// screenshots writes each page at phone and desktop width, only when
// NOTME_SCREENSHOTS names a directory.
type screenshots struct{ dir string }

func newScreenshots(t *testing.T) *screenshots {
	dir := os.Getenv("NOTME_SCREENSHOTS")
	if dir == "" {
		return &screenshots{}
	}
	if !filepath.IsAbs(dir) {
		root, err := filepath.Abs("..") // go test runs in app/, one below the module root
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("NOTME_SCREENSHOTS: %v", err)
	}
	return &screenshots{dir: dir}
}

func (s *screenshots) take(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if s.dir == "" {
		return
	}
	for _, size := range []struct {
		suffix string
		w, h   int64
		mobile bool
	}{{"phone", 390, 844, true}, {"desktop", windowWidth, 900, false}} {
		emu := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if size.mobile {
			emu = append(emu, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h, emu...))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is PNG
		}
		if err != nil {
			t.Fatalf("screenshot %s at %dx%d: %v", name, size.w, size.h, err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, name+"-"+size.suffix+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	resetViewport(t, ctx, name)
}

// windowWidth is the browser window's width, the page's own once an
// emulated viewport is cleared.
const windowWidth = 1280

// resetViewport clears an emulated viewport and waits for the page to be
// laid out at the window's width again. The renderer takes the new size
// after the command returns: a click aimed meanwhile would be aimed at the
// phone layout and land beside its target, and wait for a page that never
// comes.
func resetViewport(t *testing.T, ctx context.Context, after string) {
	t.Helper()
	_, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
	if err == nil {
		err = laidOutAt(ctx, windowWidth)
	}
	if err != nil {
		t.Fatalf("reset the viewport after %s: %v", after, err)
	}
}

// laidOutAt waits until the page is laid out at width: the renderer takes
// a new viewport after the command that set it returns.
func laidOutAt(ctx context.Context, width int) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`new Promise(done => {
		const laidOut = () => window.innerWidth === %d ? requestAnimationFrame(() => done(true)) : requestAnimationFrame(laidOut);
		laidOut();
	})`, width), chromedp.EvalAwaitPromise))
	return err
}

// TestBrowser walks the desk's main flows in Chromium, one person at a
// time, as each of them sees it.
func TestBrowser(t *testing.T) {
	longTest(t, "Chromium through every flow, about a minute")
	path := chromiumPath(t)
	d := startBrowserDesk(t)
	bctx := startBrowser(t, path)
	shots := newScreenshots(t)

	// (a) A reporter clicks the one button, in English and in Japanese.
	reported := map[string]string{} // language → case reference
	for _, tc := range []struct {
		lang, acceptLanguage, account string
	}{
		{"en", "en-GB,en;q=0.9", "ACC-1002"},
		{"ja", "ja-JP,ja;q=0.9,en;q=0.5", "ACC-1003"},
	} {
		t.Run("reporter_"+tc.lang, func(t *testing.T) {
			ctx := person(t, bctx, tc.acceptLanguage)
			link := open(t, ctx, d.link(tc.account))
			if link.Status != http.StatusOK {
				t.Fatalf("GET not-me link = %d, want 200", link.Status)
			}
			fitsPhone(t, ctx, "the not-me link page")
			shots.take(t, ctx, "link-"+tc.lang)

			filed := click(t, ctx, `form[action^="/r/"] button[type="submit"]`)
			if filed.Status != http.StatusOK {
				t.Fatalf("after the not-me button: %s = %d, want 200", filed.URL, filed.Status)
			}
			ref := caseRefRE.FindString(filed.Main)
			if ref == "" {
				t.Fatalf("after the not-me button the page shows no case reference:\n%s", filed.Main)
			}
			statusURL := regexp.MustCompile(regexp.QuoteMeta(d.base) + `/s/[A-Za-z0-9_-]+`).
				FindString(filed.Main + "\n" + strings.Join(filed.Links, "\n"))
			if statusURL == "" {
				t.Fatalf("after the not-me button the page shows no status link:\n%s", filed.Main)
			}
			shots.take(t, ctx, "filed-"+tc.lang)

			status := open(t, ctx, statusURL)
			if status.Status != http.StatusOK || !strings.Contains(status.Main, ref) {
				t.Fatalf("status link %s = %d showing %q, want 200 and the reference %s", statusURL, status.Status, status.Main, ref)
			}
			if status.Lang != tc.lang {
				t.Errorf("status page is in %q for a %s browser, want %q", status.Lang, tc.acceptLanguage, tc.lang)
			}
			if hasKana := kanaRE.MatchString(status.Main); hasKana != (tc.lang == "ja") {
				t.Errorf("status page for a %s browser reads:\n%s\nwant it written in %s", tc.acceptLanguage, status.Main, tc.lang)
			}
			fitsPhone(t, ctx, "the status page")
			shots.take(t, ctx, "status-"+tc.lang)
			reported[tc.lang] = ref
		})
	}

	t.Run("report_form", func(t *testing.T) {
		ctx := person(t, bctx, "en")
		p := open(t, ctx, d.base+"/report")
		if p.Status != http.StatusOK || !exists(t, ctx, `form[action^="/report"] textarea`) {
			t.Fatalf("GET /report = %d, want 200 with a form to paste the mail into", p.Status)
		}
		fitsPhone(t, ctx, "the report form")
		shots.take(t, ctx, "report")
	})

	// (b) A security-trained agent takes the case, sees containment
	// requested, asks for more, and resolves it.
	t.Run("agent", func(t *testing.T) {
		ref := reported["en"]
		if ref == "" {
			t.Fatal("reporter_en filed no case to work on")
		}
		ctx := person(t, bctx, "en")
		queue := login(t, ctx, d, "agent@example.com", shots)
		if queue.Status != http.StatusOK || !strings.HasSuffix(queue.URL, "/queue") || !strings.Contains(queue.Main, ref) {
			t.Fatalf("after login: %s = %d showing\n%s\nwant the queue with %s", queue.URL, queue.Status, queue.Main, ref)
		}
		fitsPhone(t, ctx, "the queue")
		shots.take(t, ctx, "queue")

		cp := click(t, ctx, fmt.Sprintf(`main a[href="/cases/%s"]`, ref))
		if cp.Status != http.StatusOK || !strings.Contains(cp.Main, ref) {
			t.Fatalf("open %s from the queue = %d", ref, cp.Status)
		}
		cp = click(t, ctx, `form[action$="/take"] button[type="submit"]`)
		if cp.Status != http.StatusOK || !strings.Contains(cp.Main, "agent@example.com") || exists(t, ctx, `form[action$="/take"]`) {
			t.Fatalf("after Take: %s = %d showing\n%s\nwant the case assigned to agent@example.com and no Take button", cp.URL, cp.Status, cp.Main)
		}
		// An exact match on an order confirmation: its kind's actions were
		// requested when the report came in, and reach the account system.
		for action, words := range map[string]string{
			"suppress_recipient": "suppress mail to the address", "require_reverification": "require re-verification",
		} {
			if !strings.Contains(cp.Main, words) {
				t.Errorf("case page lists no %q (%s) containment request:\n%s", words, action, cp.Main)
			}
			d.hooks.await(t, ref, action)
		}
		more := `form[action$="/containment"] select[name="action"]`
		if exists(t, ctx, more) {
			action, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(more)))
			var words string
			if err == nil {
				words, err = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).selectedOptions[0].text`, more)))
			}
			if err != nil {
				t.Fatalf("read the containment choice: %v", err)
			}
			cp = click(t, ctx, `form[action$="/containment"] button[type="submit"]`)
			if !strings.Contains(cp.Main, words) {
				t.Errorf("after requesting %q (%s) the case page does not list it:\n%s", words, action, cp.Main)
			}
			d.hooks.await(t, ref, action)
		}
		fitsPhone(t, ctx, "the case page")
		shots.take(t, ctx, "case")

		cp = click(t, ctx, `form[action$="/status"]:has(input[name="status"][value="contained"]) button[type="submit"]`)
		if cp.Status != http.StatusOK || !exists(t, ctx, `form[action$="/status"] input[name="status"][value="resolved"]`) {
			t.Fatalf("after Mark contained: %s = %d showing\n%s\nwant a Resolve button", cp.URL, cp.Status, cp.Main)
		}
		// Resolving cannot be undone: it sits behind a second, explicit button.
		resolve := `form[action$="/status"]:has(input[name="status"][value="resolved"]) button[type="submit"][name="confirm"][value="yes"]`
		unfold(t, ctx, `input[name="status"][value="resolved"]`)
		cp = click(t, ctx, resolve)
		if cp.Status != http.StatusOK || !regexp.MustCompile(`(?i)\bresolved\b`).MatchString(cp.Main) ||
			exists(t, ctx, `form[action$="/status"] input[name="status"][value="resolved"]`) {
			t.Fatalf("after Resolve: %s = %d showing\n%s\nwant the case resolved and no Resolve button", cp.URL, cp.Status, cp.Main)
		}
	})

	// (c) A lead sees a possible takeover on /leads and de-escalates it.
	t.Run("lead", func(t *testing.T) {
		link := d.link("ACC-1001") // registration: a set-your-password mail
		filed, err := d.app.Service.FileReport(context.Background(), cases.ReportInput{
			Channel: cases.ChannelLink, Token: link[strings.LastIndex(link, "/")+1:], SetPassword: true,
		})
		if err != nil {
			t.Fatalf("FileReport(set a password) = %v", err)
		}
		ref := filed.CaseRef
		ctx := person(t, bctx, "en")
		login(t, ctx, d, "lead@example.com", nil)
		leads := open(t, ctx, d.base+"/leads")
		caseLink := fmt.Sprintf(`main a[href="/cases/%s"]`, ref)
		if leads.Status != http.StatusOK || !exists(t, ctx, caseLink) {
			t.Fatalf("GET /leads = %d showing\n%s\nwant the escalated case %s", leads.Status, leads.Main, ref)
		}
		fitsPhone(t, ctx, "the leads' dashboard")
		shots.take(t, ctx, "leads")

		click(t, ctx, caseLink)
		unfold(t, ctx, `form[action$="/deescalate"]`)
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`form[action$="/deescalate"] input[name="reason"]`),
			"The reporter set a password on their own account by mistake")); err != nil {
			t.Fatalf("fill the de-escalation reason: %v", err)
		}
		cp := click(t, ctx, `form[action$="/deescalate"] button[type="submit"]`)
		if cp.Status != http.StatusOK || exists(t, ctx, `form[action$="/deescalate"]`) || !exists(t, ctx, `form[action$="/escalate"]`) {
			t.Fatalf("after De-escalate: %s = %d showing\n%s\nwant the case no longer escalated", cp.URL, cp.Status, cp.Main)
		}
		if !strings.Contains(cp.Main, "by mistake") {
			t.Errorf("the case page does not show the de-escalation reason:\n%s", cp.Main)
		}
		if leads = open(t, ctx, d.base+"/leads"); exists(t, ctx, caseLink) {
			t.Errorf("GET /leads still lists %s after it was de-escalated", ref)
		}
	})

	// (d) Staff without the security-trained flag cannot take a case, even
	// with a form of their own making.
	t.Run("untrained", func(t *testing.T) {
		ref := reported["ja"]
		if ref == "" {
			t.Fatal("reporter_ja filed no case to try")
		}
		ctx := person(t, bctx, "en")
		login(t, ctx, d, "parcel-desk@example.com", nil)
		cp := open(t, ctx, d.base+"/cases/"+ref)
		if cp.Status != http.StatusForbidden || !strings.Contains(cp.Main, "security-trained") {
			t.Errorf("GET /cases/%s as an untrained agent = %d showing\n%s\nwant 403 saying security-trained staff handle it", ref, cp.Status, cp.Main)
		}
		shots.take(t, ctx, "forbidden")

		jar, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{d.base}})
		if err != nil {
			t.Fatalf("read the browser's cookies: %v", err)
		}
		var token string
		for _, c := range jar.Cookies {
			if c.Name == "notme_csrf" {
				token = c.Value
			}
		}
		// A stale page's Take button: a form posted with a valid CSRF token.
		take := fmt.Sprintf(`(() => {
  const f = document.createElement('form');
  f.method = 'post'; f.action = '/cases/%s/take';
  const i = document.createElement('input');
  i.type = 'hidden'; i.name = '_csrf'; i.value = %q;
  f.appendChild(i); document.body.appendChild(f); f.submit();
  return true;
})()`, ref, token)
		refused := do(t, ctx, "POST /cases/"+ref+"/take", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](take)(ctx, tg)
			return err
		}))
		if refused.Status != http.StatusForbidden || !strings.Contains(refused.Main, "security-trained") {
			t.Errorf("POST /cases/%s/take as an untrained agent = %d showing\n%s\nwant 403 saying security-trained staff handle it", ref, refused.Status, refused.Main)
		}
		_, lead, err := d.app.Service.Login(context.Background(), "lead@example.com", d.password("lead@example.com"), time.Minute)
		if err != nil {
			t.Fatalf("Login(lead) = %v", err)
		}
		detail, err := d.app.Service.CaseByRef(context.Background(), cases.Actor{User: &lead}, ref)
		if err != nil {
			t.Fatalf("CaseByRef(%s) = %v", ref, err)
		}
		if detail.Assignee != nil {
			t.Errorf("case %s is assigned to %s after an untrained agent's refused take", ref, detail.Assignee.Email)
		}
	})

	// (d2) A company's sign-up form (the demo's) with the "did you mean
	// …?" helper: a typed typo gets its suggestion under the field, the
	// button puts it in, and the guard's answer comes back on the page.
	t.Run("signup_helper", func(t *testing.T) {
		ctx := person(t, bctx, "en-GB,en;q=0.9")
		if p := open(t, ctx, d.base+"/demo/signup"); p.Status != http.StatusOK {
			t.Fatalf("GET /demo/signup = %d", p.Status)
		}
		err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`#email`), "taro@gmial.com"),
			chromedp.Click(chromedp.CSS(`#account`)), // the address is left: the helper asks
			chromedp.WaitVisible(chromedp.CSS(`.notme-suggest button`)))
		if err != nil {
			t.Fatalf("type a mistyped address and leave the field: %v", err)
		}
		note, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".notme-suggest").textContent`))
		if err != nil || !strings.Contains(note, "Did you mean taro@gmail.com?") {
			t.Errorf("the helper's note = %q, %v; want Did you mean taro@gmail.com?", note, err)
		}
		shots.take(t, ctx, "signup-suggest")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.notme-suggest button`), chromedp.NodeVisible)); err != nil {
			t.Fatalf("take the suggestion: %v", err)
		}
		if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#email`))); err != nil || v != "taro@gmail.com" {
			t.Errorf("the field after taking the suggestion = %q, %v; want taro@gmail.com", v, err)
		}
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#email`), "jiro@gmial.com")); err != nil {
			t.Fatal(err)
		}
		checked := click(t, ctx, `form[action="/demo/signup"] button[type="submit"]`)
		if !strings.Contains(checked.Main, "Confirm the address first") || !strings.Contains(checked.Main, "did you mean jiro@gmail.com?") {
			t.Errorf("the guard's answer for jiro@gmial.com:\n%s", checked.Main)
		}
		shots.take(t, ctx, "signup-checked")
	})

	// (e) Every GET page, in both languages, on a 360-px phone, once the
	// desk holds as much as a busy day leaves.
	t.Run("phone", func(t *testing.T) {
		phoneWalk(t, d, bctx, seedPhoneData(t, d))
	})
}
