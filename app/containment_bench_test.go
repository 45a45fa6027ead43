package app

// BenchmarkLinkToWebhook is the containment target: the time from
// a "not me" link POST to the containment webhooks arriving at the
// company's receiver, through the whole desk (HTTP server, filing, outbox,
// the webhook worker with its default settings, a signed HTTP POST to a
// local receiver that verifies it). Each op is one report on a new
// account of kind registration, which requests three actions; the
// latency of a report is until its last webhook arrived. Percentiles want
// a thousand reports:
//
//	go test -run XXX -bench LinkToWebhook -benchtime 1000x ./app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"notme/app/webhook"
	"notme/cases"
)

func BenchmarkLinkToWebhook(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchLinkToWebhook(b, clients) })
	}
}

const benchSecret = "benchmark secret, thirty-two bytes or more"

// arrivals records when each account's webhooks arrived.
type arrivals struct {
	mu      sync.Mutex
	last    map[string]time.Time
	count   map[string]int
	total   int
	want    int
	all     chan struct{}
	problem atomic.Pointer[string]
}

func (r *arrivals) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	now := time.Now()
	if err := webhook.Verify([]byte(benchSecret), req.Header.Get(webhook.SignatureHeader), body, now, time.Minute); err != nil {
		msg := "receiver: " + err.Error()
		r.problem.CompareAndSwap(nil, &msg)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var wb cases.WebhookBody
	_ = json.Unmarshal(body, &wb)
	r.mu.Lock()
	r.last[wb.AccountRef] = now
	r.count[wb.AccountRef]++
	r.total++
	if r.total == r.want {
		close(r.all)
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func benchLinkToWebhook(b *testing.B, clients int) {
	rcv := &arrivals{last: map[string]time.Time{}, count: map[string]int{}, want: 3 * b.N, all: make(chan struct{})}
	receiver := httptest.NewServer(rcv)
	defer receiver.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	cfg := Defaults() // default worker settings: concurrency 4, timeout 10s
	cfg.DataDir = b.TempDir()
	cfg.Database.URL = Secret(testDatabaseURL(b, cfg.DataDir)) // PostgreSQL with NOTME_TEST_POSTGRES
	cfg.HTTP.PublicURL = "http://" + ln.Addr().String()
	cfg.HTTP.ReportRate = RateConfig{PerMinute: 1e9, Burst: 1e9}
	cfg.Webhooks.URL, cfg.Webhooks.Secret = receiver.URL, Secret(benchSecret)
	if err := cfg.Validate(); err != nil {
		b.Fatalf("Validate() = %v", err)
	}
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatalf("Open() = %v", err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			b.Errorf("Run() = %v", err)
		}
	}()

	tokens := make([]string, b.N)
	for i := range tokens {
		m, err := a.Service.Mint(fmt.Sprintf("bench-%06d", i), "registration", "")
		if err != nil {
			b.Fatalf("Mint() = %v", err)
		}
		tokens[i] = m.Token
	}
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	base := cfg.HTTP.PublicURL
	resp, err := client.Get(base + "/r/" + tokens[0])
	if err != nil {
		b.Fatalf("GET /r/{token}: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]*)"`).FindSubmatch(page)
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "notme_csrf" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if m == nil || cookie == "" {
		b.Fatalf("GET /r/{token}: no CSRF field or cookie")
	}
	form := url.Values{"_csrf": {string(m[1])}}.Encode()

	posted := make([]time.Time, b.N)
	var next atomic.Int64
	var failure atomic.Pointer[string]
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N || failure.Load() != nil {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, base+"/r/"+tokens[i], strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Cookie", cookie)
				posted[i] = time.Now()
				resp, err := client.Do(req)
				if err != nil {
					msg := err.Error()
					failure.CompareAndSwap(nil, &msg)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					msg := fmt.Sprintf("POST /r/{token} = %d, want 303", resp.StatusCode)
					failure.CompareAndSwap(nil, &msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	if f := failure.Load(); f != nil {
		b.Fatal(*f)
	}
	select {
	case <-rcv.all:
	case <-time.After(2 * time.Minute):
		b.Fatalf("%d of %d webhooks arrived within 2 minutes", rcv.total, rcv.want)
	}
	b.StopTimer()
	if p := rcv.problem.Load(); p != nil {
		b.Fatal(*p)
	}
	lat := make([]time.Duration, b.N)
	rcv.mu.Lock()
	for i := range b.N {
		acc := fmt.Sprintf("bench-%06d", i)
		if rcv.count[acc] != 3 {
			b.Fatalf("account %s got %d webhooks, want 3", acc, rcv.count[acc])
		}
		lat[i] = rcv.last[acc].Sub(posted[i])
	}
	rcv.mu.Unlock()
	slices.Sort(lat)
	ms := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)]) / float64(time.Millisecond) }
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(ms(1), "max-ms")
}
