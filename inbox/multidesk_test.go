package inbox_test

// Two desk instances as operators run them: two `notme serve` processes,
// built from this tree, on one PostgreSQL and one Dovecot mailbox. One is
// killed with SIGKILL in the middle of the work: no shutdown, no lease
// released, no claim given back, transactions cut off by the database.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"notme/app"
	"notme/app/testdb"
	"notme/app/webhook"
	"notme/cases"
)

const multiSecret = "two desks, one receiver, thirty-two bytes or more"

// hookReceiver stands in for the company's account system: it checks each
// webhook's signature and notes which desk sent each idempotency key, and
// when. Each desk posts to its own path (/a, /b), so that a copy is known
// by its sender, not guessed from its time: a request the killed desk
// wrote just before the kill may be read after it.
type hookReceiver struct {
	mu    sync.Mutex
	byKey map[string][]arrival
	bad   []string
}

type arrival struct {
	at   time.Time
	desk string
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
	key := req.Header.Get(webhook.IdempotencyHeader)
	r.byKey[key] = append(r.byKey[key], arrival{time.Now(), strings.Trim(req.URL.Path, "/")})
	w.WriteHeader(http.StatusNoContent)
}

// deskBinary builds cmd/notme once per test run, with the race detector
// when the test has it.
var deskBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "notme-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "notme")
	// go test puts its own GOROOT/bin first on the PATH of the test.
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("find the go command: %w", err)
	}
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool, append(args, "notme/cmd/notme")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build notme: %v\n%s", err, out)
	}
	return bin, nil
})

// process is one running `notme serve`.
type process struct {
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	ops  string // the operations listener (/readyz, /metrics), likewise
	log  string // its stderr, kept for a failure's report
	done chan error
}

// instance is the name the process gives itself in mailbox leases.
func (p *process) instance() string {
	return "/" + strconv.Itoa(p.cmd.Process.Pid) + "/"
}

func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// startProcess runs `notme serve` on config and waits until it answers.
func startProcess(t *testing.T, name, config string) *process {
	t.Helper()
	bin, err := deskBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan error, 1)}
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "serve", "--config", config, "--addr", "127.0.0.1:0")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start notme serve (%s): %v", name, err)
	}
	addr := make(chan [2]string, 1)
	go func() {
		// The log line "notme serving" names the address it listens on.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			var rec struct {
				Msg, Addr string
				OpsAddr   string `json:"ops_addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "notme serving" {
				addr <- [2]string{rec.Addr, rec.OpsAddr}
			}
		}
		logFile.Close()
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("desk %s (pid %d) log, last lines:\n%s", name, p.cmd.Process.Pid, p.logTail())
		}
	})
	select {
	case a := <-addr:
		p.base, p.ops = "http://"+a[0], "http://"+a[1]
	case err := <-p.done:
		t.Fatalf("notme serve (%s) exited before serving: %v\n%s", name, err, p.logTail())
	case <-time.After(60 * time.Second):
		t.Fatalf("notme serve (%s) did not serve within 60s\n%s", name, p.logTail())
	}
	waitFor(t, 30*time.Second, name+" answering /healthz", func() bool {
		resp, err := http.Get(p.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// kill ends the process with SIGKILL and waits for it to be gone.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still running 30s after SIGKILL", p.name)
	}
}

// deskConfig writes a config for one instance: the shared database, token
// key, mailbox and webhook receiver, and this instance's own data folder.
func deskConfig(t *testing.T, pg, tokenKey, mailAddr, user, password, receiver, smtpAddr string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`data_dir: %q
log: {level: info, format: json}
http:
  public_url: http://desk.example.com
  insecure_cookies: true
  ops_addr: 127.0.0.1:0
  report_rate: {per_minute: 1000000000, burst: 1000000000}
database: {url: %q, max_open_conns: 10}
tokens:
  keys: [{id: 1, secret: %q}]
webhooks: {url: %q, secret: %q, timeout: 2s}
mail:
  address: notme@desk.example.com
  mailbox_lease: 2s
  # The 500 reporters share one domain: the per-domain bound on
  # acknowledgements is not what this test measures.
  ack_domain_per_hour: 1000
  smtp: {addr: %q, security: plain}
  mailboxes:
    - name: reports
      addr: %q
      security: plain
      username: %q
      password: %q
      folder: INBOX
      done_folder: notme/processed
      batch_size: 50
      poll_interval: 30s
      full_check: 5s
`, dir, pg, tokenKey, receiver, multiSecret, smtpAddr, mailAddr, user, password)
	p := filepath.Join(dir, "notme.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTwoDesksOnePostgres is issue 6's test: two real desk instances on
// one PostgreSQL take 1,000 reports, links through both and mail through
// one mailbox; the instance polling the mailbox is killed in the middle.
// Every report ends on exactly one case, every webhook reaches the account
// system under its idempotency key, and the survivor takes the mailbox.
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
	rcv := &hookReceiver{byKey: map[string][]arrival{}}
	receiver := httptest.NewServer(rcv)
	defer receiver.Close()
	sink := startAckSink(t, ackSinkOptions{buffer: 1000}) // every acknowledgement, counted at the end
	var key [32]byte
	rand.Read(key[:])
	tokenKey := base64.StdEncoding.EncodeToString(key[:])

	// The test's own hand on the database: it registers the ledger, mints
	// links and reads the outcome. It runs no workers.
	cfg := app.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Database.URL = app.Secret(pg)
	cfg.Tokens.Keys = []app.TokenKeyConfig{{ID: 1, Secret: app.Secret(tokenKey)}}
	cfg.HTTP.PublicURL = "http://desk.example.com"
	hand, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("app.Open = %v", err)
	}
	defer hand.Close()
	db, err := app.OpenPostgresSQL(pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := &desk{svc: hand.Service, db: db}

	// 500 mailed replies to registered mail, 500 links of sealed mail.
	ts := threads(t, d, "multi", 500, 1024)
	tokens := make([]string, 500)
	for i := range tokens {
		m, err := hand.Service.Mint(fmt.Sprintf("ACC-link-%d", i), "registration", "")
		if err != nil {
			t.Fatalf("Mint() = %v", err)
		}
		tokens[i] = m.Token
	}

	desks := make([]*process, 2)
	var wg sync.WaitGroup
	for i, name := range []string{"a", "b"} {
		conf := deskConfig(t, pg, tokenKey, srv.addr(hostFull, false), u.Name, u.Password, receiver.URL+"/"+name, sink.addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			desks[i] = startProcess(t, name, conf)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
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
	name := regexp.MustCompile(`name="submission" value="([^"]*)"`).FindSubmatch(page)
	if m == nil || name == nil {
		t.Fatalf("GET /r/{token} on desk a: no CSRF or submission field")
	}
	// One form for every link: each POST is filed under the form's name,
	// the browser's CSRF token and its link, so a POST sent again after
	// its instance died files nothing twice.
	form := url.Values{"_csrf": {string(m[1])}, "submission": {string(name[1])}}.Encode()

	var (
		mu    sync.Mutex
		alive = []*process{desks[0], desks[1]}
		// retried: link reports whose POST failed on one instance and was
		// sent again to the other, as a load balancer does. The first may
		// have been filed before its instance died; the second then finds it.
		retried int
	)
	post := func(i int) error {
		var last error
		for attempt := range 10 {
			mu.Lock()
			in := alive[(i+attempt)%len(alive)]
			if attempt > 0 {
				retried++
			}
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
			last = fmt.Errorf("POST /r/{token} on %s = %d", in.name, resp.StatusCode)
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

	// All the mail into the mailbox; the first half of the links through
	// both instances.
	u.deliver(t, "", false, replies(ts)...)
	postAll(0, 250)
	waitFor(t, 60*time.Second, "a desk polling the mailbox", func() bool { return holder(t, d, "reports").Owner != "" })
	waitFor(t, 60*time.Second, "some mail taken in", func() bool { return d.mailReports(t) > 0 })

	// Kill the instance polling the mailbox, in the middle of the work:
	// the second half of the links is being posted through both, mail is
	// being taken in and webhooks sent.
	first := holder(t, d, "reports").Owner
	var victim, survivor *process
	for i, p := range desks {
		if strings.Contains(first, p.instance()) {
			victim, survivor = p, desks[1-i]
		}
	}
	if victim == nil {
		t.Fatalf("mailbox held by %q, which is neither desk (pids %d, %d)", first, desks[0].cmd.Process.Pid, desks[1].cmd.Process.Pid)
	}
	var second sync.WaitGroup
	second.Add(1)
	go func() {
		defer second.Done()
		postAll(250, 500)
	}()
	waitFor(t, 30*time.Second, "links of the second half filed", func() bool {
		return d.count(t, `SELECT count(*) FROM reports WHERE channel = 'link'`) >= 300
	})
	mailBefore := d.mailReports(t)
	deliveredBefore := d.count(t, `SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'`)
	killedAt := time.Now()
	victim.kill(t)
	mu.Lock()
	alive = []*process{survivor}
	mu.Unlock()
	t.Logf("killed desk %s (SIGKILL) after %d mail reports, %d of the links, %d webhooks recorded delivered",
		victim.name, mailBefore, d.count(t, `SELECT count(*) FROM reports WHERE channel = 'link'`), deliveredBefore)
	second.Wait()

	waitFor(t, 60*time.Second, "the survivor taking the mailbox over", func() bool {
		return strings.Contains(holder(t, d, "reports").Owner, survivor.instance())
	})
	tookOver := time.Since(killedAt)
	waitFor(t, 120*time.Second, "500 mail reports", func() bool { return d.mailReports(t) >= 500 })
	// The victim's claimed webhooks go again once their claim runs out
	// (2 × webhooks.timeout + 30s).
	waitFor(t, 120*time.Second, "every webhook delivered", func() bool {
		return d.count(t, `SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'`) == 0
	})
	mu.Lock()
	t.Logf("after the kill: mailbox taken over in %v; %d mail reports, %d link reports, %d link POSTs retried on the survivor",
		tookOver.Round(100*time.Millisecond), d.mailReports(t), d.count(t, `SELECT count(*) FROM reports WHERE channel = 'link'`), retried)
	mu.Unlock()

	// Every report on exactly one case: mail on its ledger account's case,
	// each link's reports on its account's one case.
	checkReports(t, d, ts)
	if n := d.count(t, `SELECT count(*) FROM reports WHERE channel = 'link'`); n != 500 {
		mu.Lock()
		t.Errorf("link reports = %d, want 500: one per link, though %d POSTs were sent again after their instance died", n, retried)
		mu.Unlock()
	}
	if n := d.count(t, `SELECT count(*) FROM (SELECT account_ref FROM cases GROUP BY account_ref HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d accounts with more than one case, want 0", n)
	}
	if n := d.count(t, `SELECT count(*) FROM cases`); n != 125+500 {
		t.Errorf("cases = %d, want %d (125 mailed accounts, 500 linked)", n, 125+500)
	}
	if n := d.count(t, `SELECT count(DISTINCT c.account_ref) FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.channel = 'link'`); n != 500 {
		t.Errorf("link reports are on %d accounts' cases, want all 500", n)
	}

	// Every containment webhook reached the account system under its
	// idempotency key. At-least-once: a webhook the victim sent but had not
	// yet recorded when killed goes again, under the same key, so the
	// receiver applies it once. Only those may arrive twice.
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
	again := 0
	for _, k := range keys {
		at := rcv.byKey[k]
		switch {
		case len(at) == 0:
			t.Errorf("webhook %s never arrived", k)
		case len(at) > 2 || len(at) == 2 && (at[0].desk != victim.name || at[1].desk != survivor.name):
			t.Errorf("webhook %s arrived %d times, from %v: only a webhook the killed desk %s sent before it died may arrive again, from %s",
				k, len(at), at, victim.name, survivor.name)
		case len(at) == 2:
			again++
		}
	}
	t.Logf("%d webhooks, each received under its key; %d of them again after the kill (in flight when it came)", len(keys), again)

	// Acknowledgements: each reply's sender gets at most one, whichever
	// instance sends it. The SMTP listener takes every mail, so no attempt
	// may fail. Those the dead instance had claimed wait for their claim to
	// run out (10 minutes, longer than the test): the wait is for every
	// other one to be sent.
	ackStates := func() string {
		rows, err := db.Query(`SELECT state, attempts, lease_owner <> '', last_error, count(*) FROM acks
			GROUP BY state, attempts, lease_owner <> '', last_error ORDER BY state, attempts`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var state, lastErr string
			var attempts, n int
			var claimed bool
			if err := rows.Scan(&state, &attempts, &claimed, &lastErr, &n); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "\n  %d %s after %d attempts, claimed %v, last error %q", n, state, attempts, claimed, lastErr)
		}
		return b.String()
	}
	waitFor(t, 90*time.Second, "every acknowledgement not claimed by the dead instance sent", func() bool {
		return d.count(t, `SELECT count(*) FROM acks WHERE state = 'pending' AND lease_owner = ''`) == 0
	}, ackStates)
	// One statement, so one snapshot: the survivor may still be sending
	// its last claim, and counts read apart would miss an ack that went
	// from claimed to sent between them. The sink is read after it, so
	// every ack recorded sent has been received by then.
	var sent, claimed, failed int
	if err := db.QueryRow(`SELECT
		count(*) FILTER (WHERE state = 'sent'),
		count(*) FILTER (WHERE state = 'pending'),
		count(*) FILTER (WHERE attempts > 0 AND state <> 'sent' OR state = 'failed')
		FROM acks`).Scan(&sent, &claimed, &failed); err != nil {
		t.Fatal(err)
	}
	// An acknowledgement the killed desk had sent but not yet recorded is
	// sent again by the survivor once the dead desk's claim returns: at
	// least once, as a mail must be. The copy is the same mail (one
	// Message-ID), so the reporter's client shows one, and only the dead
	// desk's one claim can be sent twice.
	acked := map[string]int{}
	ids := map[string]map[string]bool{}
	for len(sink.got) > 0 {
		a := <-sink.got
		for _, to := range a.to {
			acked[to]++
			if ids[to] == nil {
				ids[to] = map[string]bool{}
			}
			ids[to][messageID(t, a.data)] = true
		}
	}
	ackedAgain := 0
	for to, n := range acked {
		switch {
		case len(ids[to]) > 1:
			t.Errorf("%s got %d acknowledgements under %d Message-IDs, want one mail: a resend must be the same mail", to, n, len(ids[to]))
		case n > 2:
			t.Errorf("%s got %d acknowledgements, want at most one and a resend", to, n)
		case n == 2:
			ackedAgain++
		}
	}
	if ackedAgain > 10 {
		t.Errorf("%d acknowledgements sent twice, want at most the dead desk's one claim of 10", ackedAgain)
	}
	// In hand when the check ran: the dead instance's one claim, and at
	// most one claim of the survivor still being sent.
	if len(acked) < sent || sent+claimed != 500 || claimed > 2*10 || failed > 0 {
		t.Errorf("%d addresses acknowledged, %d acknowledgements recorded sent, %d claimed, %d failed; want every one recorded sent received, "+
			"the rest in at most two claims of 10, none failed:%s", len(acked), sent, claimed, failed, ackStates())
	}
	t.Logf("acknowledgements: %d received, %d recorded sent, %d claimed when checked, %d sent again under their first Message-ID", len(acked), sent, claimed, ackedAgain)

	// The survivor says who polls the mailbox.
	resp, err = http.Get(survivor.ops + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "polled by instance ") || !strings.Contains(string(body), survivor.instance()) {
		t.Errorf("GET /readyz on the survivor = %q, want the mailbox polled by it (pid %d)", body, survivor.cmd.Process.Pid)
	}
}
