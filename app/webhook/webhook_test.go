package webhook_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"notme/app"
	"notme/app/webhook"
	"notme/cases"
	"notme/cases/sealed"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// clock is the desk's and the receiver's time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// receiver stands in for the company's account system: it checks every
// signature, fails the first `fail` webhooks with 503, and counts what it
// accepted per idempotency key.
type receiver struct {
	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	fail     int
	hold     chan struct{} // when set, the next webhook waits for it to close
	arrived  chan string   // the key of each webhook as it arrives
	attempts map[string]int
	accepted map[string]int
	bodies   map[string]cases.WebhookBody
	problems []string
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	r := &receiver{now: now, arrived: make(chan string, 1000), attempts: map[string]int{},
		accepted: map[string]int{}, bodies: map[string]cases.WebhookBody{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	key := req.Header.Get(webhook.IdempotencyHeader)
	r.mu.Lock()
	hold := r.hold
	r.hold = nil
	r.mu.Unlock()
	r.arrived <- key
	if hold != nil {
		<-hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts[key]++
	// The deprecated header still verifies for receivers written against
	// it, and the standard one names the same id.
	if err := webhook.Verify(testSecret, req.Header.Get(webhook.SignatureHeader), body, r.now(), 5*time.Minute); err != nil {
		r.problems = append(r.problems, "signature: "+err.Error())
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if id, err := webhook.VerifyStandard([][]byte{testSecret}, req.Header, body, r.now(), 5*time.Minute); err != nil || id != key {
		r.problems = append(r.problems, fmt.Sprintf("webhook-signature: id %q, %v; want the Idempotency-Key %q", id, err, key))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		r.problems = append(r.problems, "Content-Type "+ct)
	}
	var b cases.WebhookBody
	if err := json.Unmarshal(body, &b); err != nil || b.DeliveryID != key || key == "" {
		r.problems = append(r.problems, "body "+string(body)+" for key "+key)
	}
	if r.fail > 0 {
		r.fail--
		http.Error(w, "busy, try later", http.StatusServiceUnavailable)
		return
	}
	r.accepted[key]++
	r.bodies[key] = b
	w.WriteHeader(http.StatusNoContent)
}

// check fails the test on a bad signature or body, or a key accepted
// more than once.
func (r *receiver) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Errorf("receiver: %s", p)
	}
	for k, n := range r.accepted {
		if n != 1 {
			t.Errorf("receiver accepted key %s %d times, want once", k, n)
		}
	}
}

func (r *receiver) counts() (attempts, accepted map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return clone(r.attempts), clone(r.accepted)
}

func clone(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// desk is the domain on a SQLite file, as `notme serve` opens it.
type desk struct {
	db  *app.Database
	svc *cases.Service
	d   *cases.Deliverer
}

var testKinds = []cases.Kind{
	{Name: "registration", Severity: cases.SeverityHigh, Credential: true,
		Actions: []string{cases.ActionRevokePendingLinks, cases.ActionSuppressRecipient, cases.ActionLockAccount}},
}

func openDesk(t *testing.T, dir string, clk *clock, rcv *receiver, o cases.WebhookOptions) *desk {
	t.Helper()
	return openDeskTo(t, dir, clk, webhook.Config{URL: rcv.srv.URL, Secret: testSecret, Timeout: 10 * time.Second, Now: clk.Now}, o)
}

// openDeskTo is openDesk sending with the sender config wc.
func openDeskTo(t *testing.T, dir string, clk *clock, wc webhook.Config, o cases.WebhookOptions) *desk {
	t.Helper()
	cfg := app.Defaults()
	cfg.DataDir = dir
	db, err := app.OpenDatabase(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("OpenDatabase() = %v", err)
	}
	sum := sha256.Sum256([]byte("webhook test key"))
	sealer, err := sealed.NewSealer([]sealed.Key{{ID: 1, Secret: sum[:]}}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := cases.NewService(cases.Options{Store: db.Store, Sealer: sealer, Kinds: testKinds,
		PublicURL: "https://desk.example.com", MessageIDDomain: "mail.example.com", Webhooks: o, Now: clk.Now})
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	sender, err := webhook.New(wc)
	if err != nil {
		t.Fatalf("webhook.New() = %v", err)
	}
	dk := &desk{db: db, svc: svc, d: svc.NewDeliverer(sender, cases.DelivererOptions{Concurrency: 4})}
	t.Cleanup(func() { db.Close() })
	return dk
}

// report files an exact link report on a new account and returns its case.
func (dk *desk) report(t *testing.T, account string) cases.Filed {
	t.Helper()
	m, err := dk.svc.Mint(account, "registration", "")
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	f, err := dk.svc.FileReport(context.Background(), cases.ReportInput{Channel: cases.ChannelLink, Token: m.Token,
		Reporter: "stranger@example.net", Note: "not my account, I am Hanako"})
	if err != nil {
		t.Fatalf("FileReport() = %v", err)
	}
	return f
}

func (dk *desk) deliverDue(t *testing.T) int {
	t.Helper()
	n, err := dk.d.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue() = %v", err)
	}
	return n
}

var agent = cases.Actor{User: &cases.User{ID: 1, Email: "agent@desk.example.com", Role: cases.RoleAgent, SecurityTrained: true}}

func (dk *desk) containment(t *testing.T, f cases.Filed) []cases.ActionView {
	t.Helper()
	views, err := dk.svc.ContainmentOf(context.Background(), agent, f.Case.ID)
	if err != nil {
		t.Fatalf("ContainmentOf() = %v", err)
	}
	return views
}

var policy = cases.WebhookOptions{MaxAge: time.Hour, BackoffMin: time.Second, BackoffMax: 10 * time.Second}

func TestWebhooksRetriedSignedDeliveredOnce(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	rcv := newReceiver(t, clk.Now)
	rcv.fail = 3
	dk := openDesk(t, t.TempDir(), clk, rcv, policy)
	f := dk.report(t, "ACC-1")

	// Two automatic actions, two webhooks; lock_account waits for a lead.
	for round := 1; ; round++ {
		dk.deliverDue(t)
		if attempts, accepted := rcv.counts(); len(accepted) == 2 {
			if len(attempts) != 2 {
				t.Errorf("receiver saw %d idempotency keys, want 2 (one per action, the same on every attempt)", len(attempts))
			}
			total := 0
			for _, n := range attempts {
				total += n
			}
			if total != 5 {
				t.Errorf("receiver got %d requests, want 5 (3 refused, 2 accepted)", total)
			}
			break
		}
		if round > 10 {
			t.Fatalf("after %d rounds the receiver accepted %v, want both webhooks", round, rcv.accepted)
		}
		clk.Advance(policy.BackoffMax) // every back-off is over
	}
	rcv.check(t)
	views := dk.containment(t, f)
	if len(views) != 2 {
		t.Fatalf("ContainmentOf() = %d actions, want 2", len(views))
	}
	for _, v := range views {
		if v.State != cases.ActionDelivered || v.DeliveredAt == nil || v.Delivery.State != cases.DeliveryDelivered {
			t.Errorf("action %s: state %s, delivery %s; want delivered", v.Action, v.State, v.Delivery.State)
		}
		b := rcv.bodies[v.Delivery.IdempotencyKey]
		if b.Event != "containment.requested" || b.CaseRef != f.CaseRef || b.AccountRef != "ACC-1" || b.Kind != "registration" ||
			b.Action != v.Action || !b.RequestedAt.Equal(v.RequestedAt) || b.ConfirmURL != "https://desk.example.com/api/v1/cases/"+f.CaseRef+"/containment" {
			t.Errorf("webhook body for %s = %+v", v.Action, b)
		}
	}
	// Nothing about the reporter goes to the company.
	for _, b := range rcv.bodies {
		raw, _ := json.Marshal(b)
		if strings.Contains(string(raw), "stranger") || strings.Contains(string(raw), "Hanako") {
			t.Errorf("webhook body %s carries the reporter's data", raw)
		}
	}
	// Nothing left: another round sends nothing.
	if n := dk.deliverDue(t); n != 0 {
		t.Errorf("DeliverDue() after delivery = %d, want 0", n)
	}
}

func TestWebhookDeadLetterAndRetry(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	rcv := newReceiver(t, clk.Now)
	rcv.fail = 1 << 30
	dk := openDesk(t, t.TempDir(), clk, rcv, policy)
	f := dk.report(t, "ACC-1")
	start := clk.Now()
	for clk.Now().Sub(start) <= policy.MaxAge+policy.BackoffMax {
		dk.deliverDue(t)
		clk.Advance(policy.BackoffMax)
	}
	for _, v := range dk.containment(t, f) {
		dl := v.Delivery
		if dl.State != cases.DeliveryDead || dl.Attempts < 10 || !strings.Contains(dl.LastError, "HTTP 503") {
			t.Errorf("after max age %s: state %s, %d attempts, last error %q; want dead, many attempts, HTTP 503", v.Action, dl.State, dl.Attempts, dl.LastError)
		}
		if v.State != cases.ActionRequested {
			t.Errorf("undelivered action %s is %s, want requested", v.Action, v.State)
		}
	}
	attemptsBefore, _ := rcv.counts()
	if n := dk.deliverDue(t); n != 0 {
		t.Errorf("DeliverDue() with only dead letters = %d, want 0", n)
	}
	if after, _ := rcv.counts(); !mapsEqual(after, attemptsBefore) {
		t.Errorf("a dead letter was sent again without a retry")
	}

	views := dk.containment(t, f)
	rcv.mu.Lock()
	rcv.fail = 0
	rcv.mu.Unlock()
	_, err := dk.svc.RetryDelivery(context.Background(), cases.Actor{User: &cases.User{ID: 1, Email: "parcel@desk.example.com", Role: cases.RoleAgent}}, f.CaseRef, views[0].Delivery.ID)
	if code := cases.ErrorCode(err); code != cases.EFORBIDDEN {
		t.Errorf("RetryDelivery(untrained) = %v, want forbidden", err)
	}
	if _, err := dk.svc.RetryDelivery(context.Background(), agent, f.CaseRef, views[0].Delivery.ID); err != nil {
		t.Fatalf("RetryDelivery() = %v", err)
	}
	if n := dk.deliverDue(t); n != 1 {
		t.Fatalf("DeliverDue() after RetryDelivery = %d, want 1", n)
	}
	_, accepted := rcv.counts()
	if accepted[views[0].Delivery.IdempotencyKey] != 1 || len(accepted) != 1 {
		t.Errorf("after the retry the receiver accepted %v, want key %s once (the same key as before)", accepted, views[0].Delivery.IdempotencyKey)
	}
	if _, err := dk.svc.RetryDelivery(context.Background(), agent, f.CaseRef, views[0].Delivery.ID); cases.ErrorCode(err) != cases.ECONFLICT {
		t.Errorf("RetryDelivery(delivered) = %v, want conflict", err)
	}
	admin := cases.Actor{User: &cases.User{ID: 3, Email: "admin@desk.example.com", Role: cases.RoleAdmin, SecurityTrained: true}}
	audit, err := dk.svc.AuditLog(context.Background(), admin, 10)
	if err != nil || len(audit) != 1 || audit[0].Action != cases.AuditRetryWebhook || audit[0].Actor != agent.String() {
		t.Errorf("AuditLog() = %+v, %v; want the retry by %s", audit, err, agent)
	}
	rcv.check(t)
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A webhook that failed before a restart goes out after it with the same
// key; so does one whose desk died while sending it.
func TestWebhooksSurviveRestart(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	rcv := newReceiver(t, clk.Now)
	dir := t.TempDir()
	first := openDesk(t, dir, clk, rcv, policy)
	f := first.report(t, "ACC-1")
	views := first.containment(t, f)
	keys := []string{views[0].Delivery.IdempotencyKey, views[1].Delivery.IdempotencyKey}

	// One webhook is refused; the other hangs in the receiver while the
	// desk goes down hard (its database closed under it).
	rcv.fail = 1
	rcv.hold = make(chan struct{})
	hold := rcv.hold
	done := make(chan error, 1)
	go func() { _, err := first.d.DeliverDue(context.Background()); done <- err }()
	hung := <-rcv.arrived
	<-rcv.arrived
	if err := first.db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	second := openDesk(t, dir, clk, rcv, policy)
	close(hold) // the hung request completes: the receiver has it, the dead desk never learns
	if err := <-done; err == nil {
		t.Log("the first desk recorded its outcomes before closing") // possible, and fine
	}
	clk.Advance(3 * time.Minute) // past the lease and every back-off
	second.deliverDue(t)

	attempts, accepted := rcv.counts()
	for _, k := range keys {
		if accepted[k] < 1 {
			t.Errorf("key %s: accepted %d times after the restart, want at least once", k, accepted[k])
		}
	}
	if len(attempts) != 2 {
		t.Errorf("receiver saw keys %v, want only the two stored before the restart", attempts)
	}
	for _, v := range second.containment(t, f) {
		if v.Delivery.State != cases.DeliveryDelivered || !slices.Contains(keys, v.Delivery.IdempotencyKey) {
			t.Errorf("after restart %s: delivery %s key %s, want delivered with a key from before", v.Action, v.Delivery.State, v.Delivery.IdempotencyKey)
		}
	}
	// The hung one reached the receiver twice under one key (the dead desk
	// never recorded it): that is what the key is for. The refused one was
	// accepted once.
	for _, k := range keys {
		want := 1
		if k == hung {
			want = 2
		}
		if accepted[k] != want {
			t.Errorf("key %s accepted %d times, want %d", k, accepted[k], want)
		}
	}
	rcv.mu.Lock()
	for _, p := range rcv.problems {
		t.Errorf("receiver: %s", p)
	}
	rcv.mu.Unlock()
}

// Two desks on one database never send one webhook twice.
func TestWebhooksTwoWorkersNeverShareARow(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	rcv := newReceiver(t, clk.Now)
	dir := t.TempDir()
	a := openDesk(t, dir, clk, rcv, policy)
	b := openDesk(t, dir, clk, rcv, policy)
	for i := range 30 {
		a.report(t, "ACC-"+string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	var wg sync.WaitGroup
	for _, dk := range []*desk{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); dk.deliverDue(t) }()
	}
	wg.Wait()
	attempts, accepted := rcv.counts()
	if len(accepted) != 60 {
		t.Errorf("receiver accepted %d webhooks, want 60", len(accepted))
	}
	for k, n := range attempts {
		if n != 1 {
			t.Errorf("key %s sent %d times by two workers, want once", k, n)
		}
	}
	rcv.check(t)
}

// Run wakes on the filing's commit, and on shutdown finishes the webhook
// in hand.
func TestDelivererRunWakesAndFinishes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	rcv := newReceiver(t, clk.Now)
	dk := openDesk(t, t.TempDir(), clk, rcv, policy)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- dk.d.Run(ctx) }()

	f := dk.report(t, "ACC-1") // the commit wakes Run; no clock moves
	for range 2 {
		select {
		case <-rcv.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("no webhook arrived within 10 s of FileReport()")
		}
	}
	// The next one hangs in the receiver while the desk stops.
	rcv.mu.Lock()
	rcv.hold = make(chan struct{})
	hold := rcv.hold
	rcv.mu.Unlock()
	if _, err := dk.svc.RequestContainment(context.Background(),
		cases.Actor{User: &cases.User{ID: 2, Email: "lead@desk.example.com", Role: cases.RoleLead, SecurityTrained: true}},
		f.CaseRef, cases.ActionLockAccount); err != nil {
		t.Fatalf("RequestContainment(lock_account by a lead) = %v", err)
	}
	select {
	case <-rcv.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("lock_account did not arrive within 10 s of RequestContainment()")
	}
	cancel()
	select {
	case err := <-stopped:
		t.Fatalf("Run() = %v before the webhook in hand finished", err)
	default:
	}
	close(hold)
	if err := <-stopped; err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
	for _, v := range dk.containment(t, f) {
		if v.Delivery.State != cases.DeliveryDelivered {
			t.Errorf("after shutdown %s is %s, want delivered (the unit in hand finishes)", v.Action, v.Delivery.State)
		}
	}
	rcv.check(t)
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"event":"containment.requested"}`)
	good := webhook.Sign(testSecret, now, body)
	for _, tt := range []struct {
		name   string
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"good", good, body, now, nil},
		{"good, a little later", good, body, now.Add(4 * time.Minute), nil},
		{"rotating: a second v1", good + ",v1=00ff", body, now, nil},
		{"tampered body", good, []byte(`{"event":"containment.requested "}`), now, webhook.ErrBadSignature},
		{"other secret", webhook.Sign([]byte("another secret, also 32 bytes ok"), now, body), body, now, webhook.ErrBadSignature},
		{"replayed later", good, body, now.Add(6 * time.Minute), webhook.ErrStale},
		{"from the future", good, body, now.Add(-6 * time.Minute), webhook.ErrStale},
		{"no header", "", body, now, webhook.ErrNoSignature},
		{"no v1", "t=1800000000", body, now, webhook.ErrNoSignature},
		{"time moved into the MAC", strings.Replace(good, "t=1800000000", "t=1800000001", 1), body, now, webhook.ErrBadSignature},
	} {
		if err := webhook.Verify(testSecret, tt.header, tt.body, tt.at, 5*time.Minute); !errors.Is(err, tt.want) {
			t.Errorf("Verify(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestSenderRefusesRedirectAndShowsAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		http.Error(w, "unknown account\x00\x1b[31m", http.StatusBadRequest)
	}))
	defer srv.Close()
	for _, tt := range []struct{ path, want string }{
		{"/moved", "HTTP 307"},
		{"/hook", "HTTP 400: unknown account"},
	} {
		s, err := webhook.New(webhook.Config{URL: srv.URL + tt.path, Secret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		err = s.SendWebhook(context.Background(), cases.Webhook{Key: "k", Body: []byte("{}")})
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.ContainsAny(err.Error(), "\x00\x1b") {
			t.Errorf("SendWebhook(%s) = %v, want an error with %q and no control characters", tt.path, err, tt.want)
		}
	}
	if _, err := webhook.New(webhook.Config{URL: srv.URL, Secret: []byte("short")}); err == nil {
		t.Error("webhook.New(short secret) = nil error, want one")
	}
}
