package inbox_test

// Two whole desks (app.Open + Run: each its own HTTP listener, workers and
// database pool) on one PostgreSQL and one Dovecot mailbox. In one process
// rather than two `notme serve` subprocesses: the same code paths, a
// debuggable failure, and the kill is the end of the instance's context,
// after which it holds nothing (its lease is released, its claims given
// back). A holder that dies without releasing is covered by
// TestMailboxLeaseTakeover, where the lease runs out.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"notme/app"
	"notme/app/testdb"
	"notme/app/webhook"
	"notme/cases"
	"notme/inbox"
)

const multiSecret = "two desks, one receiver, thirty-two bytes or more"

// hookReceiver stands in for the company's account system: it checks each
// webhook's signature and counts deliveries per idempotency key.
type hookReceiver struct {
	mu    sync.Mutex
	byKey map[string]int
	bad   []string
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	err := webhook.Verify([]byte(multiSecret), req.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute)
	var wb cases.WebhookBody
	if err == nil {
		err = json.Unmarshal(body, &wb)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.bad = append(r.bad, err.Error())
		http.Error(w, "bad webhook", http.StatusBadRequest)
		return
	}
	r.byKey[req.Header.Get(webhook.IdempotencyHeader)]++
	w.WriteHeader(http.StatusNoContent)
}

// instance is one running desk.
type instance struct {
	app    *app.App
	base   string
	cancel context.CancelFunc
	ran    chan error
	once   sync.Once
}

// stop ends the instance's context and waits for Run to return.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	in.once.Do(func() {
		in.cancel()
		select {
		case err := <-in.ran:
			if err != nil {
				t.Errorf("Run(%s) = %v after cancel, want nil", in.base, err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("Run(%s) did not return within 60s of cancel", in.base)
		}
	})
}

func TestTwoDesksOnePostgres(t *testing.T) {
	if !testdb.Postgres() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: two desks share a PostgreSQL", testdb.Env)
		}
		t.Skipf("set %s to run two desks on one PostgreSQL", testdb.Env)
	}
	srv := needDovecot(t)
	u := srv.newUser(t)
	pg := testdb.NewPostgres(t)
	rcv := &hookReceiver{byKey: map[string]int{}}
	receiver := httptest.NewServer(rcv)
	defer receiver.Close()
	var key [32]byte
	rand.Read(key[:])

	start := func(name string) *instance {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg := app.Defaults()
		cfg.DataDir = t.TempDir()
		cfg.Database.URL = app.Secret(pg)
		cfg.Tokens.Keys = []app.TokenKeyConfig{{ID: 1, Secret: app.Secret(base64.StdEncoding.EncodeToString(key[:]))}}
		cfg.HTTP.PublicURL = "http://desk.example.com"
		cfg.HTTP.InsecureCookies = true
		cfg.HTTP.ReportRate = app.RateConfig{PerMinute: 1e9, Burst: 1e9}
		cfg.Webhooks.URL, cfg.Webhooks.Secret = receiver.URL, app.Secret(multiSecret)
		cfg.Mail.MailboxLease = app.Duration(2 * time.Second)
		cfg.Mail.Mailboxes = []app.MailboxConfig{{Name: "reports", Addr: srv.addr(hostFull, false), Security: inbox.SecurityPlain,
			Username: u.Name, Password: app.Secret(u.Password), BatchSize: 50, Folder: "INBOX", DoneFolder: "notme/processed",
			PollInterval: app.Duration(30 * time.Second), FullCheck: app.Duration(5 * time.Second),
			IdleRefresh: app.Duration(4 * time.Minute), Timeout: app.Duration(time.Minute)}}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Validate(%s) = %v", name, err)
		}
		a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler).With("desk", name))
		if err != nil {
			t.Fatalf("app.Open(%s) = %v", name, err)
		}
		t.Cleanup(func() { a.Close() })
		ctx, cancel := context.WithCancel(context.Background())
		in := &instance{app: a, base: "http://" + ln.Addr().String(), cancel: cancel, ran: make(chan error, 1)}
		go func() { in.ran <- a.Run(ctx, ln) }()
		t.Cleanup(func() { in.stop(t) })
		return in
	}
	desks := []*instance{start("a"), start("b")}

	db, err := app.OpenPostgresSQL(pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := &desk{svc: desks[0].app.Service, db: db}

	// 500 mailed replies to registered mail, 500 links of sealed mail.
	ts := threads(t, d, "multi", 500, 1024)
	tokens := make([]string, 500)
	for i := range tokens {
		m, err := desks[1].app.Service.Mint(fmt.Sprintf("ACC-link-%d", i), "registration", "")
		if err != nil {
			t.Fatalf("Mint() = %v", err)
		}
		tokens[i] = m.Token
	}

	// One browser: the CSRF cookie and token from one instance are good on
	// the other (Echo's double-submit cookie needs no per-instance secret).
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(desks[0].base + "/r/" + tokens[0])
	if err != nil {
		t.Fatalf("GET /r/{token} on desk a: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]*)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("GET /r/{token} on desk a: no CSRF field")
	}
	form := url.Values{"_csrf": {string(m[1])}}.Encode()

	var (
		mu    sync.Mutex
		alive = []*instance{desks[0], desks[1]}
	)
	// post files one link report through the instances alive, the way a
	// load balancer retries another backend when one refuses.
	post := func(i int) error {
		var last error
		for attempt := range 10 {
			mu.Lock()
			in := alive[(i+attempt)%len(alive)]
			mu.Unlock()
			resp, err := client.Post(in.base+"/r/"+tokens[i], "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				last = err
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusSeeOther {
				return nil
			}
			last = fmt.Errorf("POST /r/{token} on %s = %d", in.base, resp.StatusCode)
		}
		return last
	}
	postAll := func(from, to int) {
		var wg sync.WaitGroup
		next := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					if err := post(i); err != nil {
						t.Errorf("link report %d: %v", i, err)
					}
				}
			}()
		}
		for i := from; i < to; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
	}

	// First half: mail into the mailbox and links through both.
	u.deliver(t, "", false, replies(ts[:250])...)
	postAll(0, 250)
	waitFor(t, 60*time.Second, "a desk polling the mailbox", func() bool { return holder(t, d, "reports").Owner != "" })
	waitFor(t, 60*time.Second, "some mail taken in", func() bool { return d.mailReports(t) > 0 })

	// Kill the instance polling the mailbox, in the middle of the work.
	first := holder(t, d, "reports").Owner
	var victim, survivor *instance
	for i, in := range desks {
		if in.app.Instance() == first {
			victim, survivor = in, desks[1-i]
		}
	}
	if victim == nil {
		t.Fatalf("mailbox held by %q, which is neither desk", first)
	}
	var second sync.WaitGroup
	second.Add(1)
	go func() {
		defer second.Done()
		postAll(250, 500)
	}()
	t.Logf("killing the desk polling the mailbox after %d mail reports, %d webhooks delivered",
		d.mailReports(t), d.count(t, `SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'`))
	victim.cancel() // killed: what it was sending when killed fails over
	mu.Lock()
	alive = []*instance{survivor}
	mu.Unlock()
	victim.stop(t)
	u.deliver(t, "", false, replies(ts[250:])...)
	second.Wait()

	waitFor(t, 60*time.Second, "the survivor taking the mailbox over", func() bool {
		return holder(t, d, "reports").Owner == survivor.app.Instance()
	})
	waitFor(t, 120*time.Second, "500 mail reports", func() bool { return d.mailReports(t) >= 500 })
	waitFor(t, 60*time.Second, "every webhook delivered", func() bool {
		return d.count(t, `SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'`) == 0
	})

	t.Logf("after the kill: %d mail reports, %d link reports", d.mailReports(t), d.count(t, `SELECT count(*) FROM reports WHERE channel = 'link'`))

	// Every report on exactly one case: mail on its ledger account's case,
	// links one per token, and one open case per account.
	checkReports(t, d, ts)
	if n := d.count(t, `SELECT count(*) FROM reports WHERE channel = 'link'`); n != 500 {
		t.Errorf("link reports = %d, want 500", n)
	}
	if n := d.count(t, `SELECT count(*) FROM (SELECT account_ref FROM cases GROUP BY account_ref HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d accounts with more than one case, want 0", n)
	}
	if n := d.count(t, `SELECT count(*) FROM cases`); n != 125+500 {
		t.Errorf("cases = %d, want %d (125 mailed accounts, 500 linked)", n, 125+500)
	}

	// Every containment webhook delivered once per idempotency key.
	rows, err := db.Query(`SELECT idempotency_key FROM webhook_deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Errorf("receiver refused %d webhooks: %v", len(rcv.bad), rcv.bad[0])
	}
	if len(keys) < 625 || len(rcv.byKey) != len(keys) {
		t.Errorf("outbox holds %d webhooks and the receiver got %d keys, want the same, at least one per case (625)", len(keys), len(rcv.byKey))
	}
	for _, k := range keys {
		if n := rcv.byKey[k]; n != 1 {
			t.Errorf("webhook %s received %d times, want once", k, n)
		}
	}

	// The survivor says who polls the mailbox.
	resp, err = http.Get(survivor.base + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "polled by instance "+survivor.app.Instance()) {
		t.Errorf("GET /readyz on the survivor = %q, want the mailbox polled by %s", body, survivor.app.Instance())
	}
}
