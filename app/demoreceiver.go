package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"notme/app/webhook"
	"notme/cases"
)

// demoReceiver stands in for the company's account system in the demo: it
// verifies each webhook's Standard Webhooks signature, acts on each
// webhook-id once, logs what it accepted, "does" the action, and confirms
// it back through the desk's API, as a real receiver would (see
// docs/webhooks.md).
type demoReceiver struct {
	URL    string
	Secret string // whsec_…, as the desk's config takes it
	key    []byte
	log    *slog.Logger
	srv    *http.Server
	jobs   chan cases.WebhookBody
	client *http.Client

	mu     sync.Mutex
	apiKey string
	seen   map[string]bool // webhook-ids acted on
}

// demoTolerance is how far a signature's time may be from the receiver's.
const demoTolerance = 5 * time.Minute

func startDemoReceiver(log *slog.Logger) (*demoReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	r := &demoReceiver{
		URL: "http://" + ln.Addr().String() + "/notme/webhook", Secret: webhook.FormatSecret(key), key: key,
		log: log.With("component", "demo account system"), jobs: make(chan cases.WebhookBody, 256),
		client: &http.Client{Timeout: 10 * time.Second}, seen: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notme/webhook", r.receive)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// run confirms accepted actions to the desk until ctx is done; the API key
// comes from the demo's seed.
func (r *demoReceiver) run(ctx context.Context, apiKey string) {
	r.mu.Lock()
	r.apiKey = apiKey
	r.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-r.jobs:
			if err := r.confirm(ctx, b); err != nil && ctx.Err() == nil {
				r.log.Warn("confirmation refused by the desk", "case", b.CaseRef, "action", b.Action, "err", err)
			}
		}
	}
}

func (r *demoReceiver) close() {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(sctx)
}

// receive is POST /notme/webhook: answer fast, act afterwards.
func (r *demoReceiver) receive(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 64<<10))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	// The id is inside the signed content: a captured webhook re-sent
	// under a new id fails here, and under its own id is deduplicated below.
	key, err := webhook.VerifyStandard([][]byte{r.key}, req.Header, body, time.Now(), demoTolerance)
	if err != nil {
		r.log.Warn("webhook refused", "err", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var b cases.WebhookBody
	if err := json.Unmarshal(body, &b); err != nil || b.Event != cases.WebhookEventContainment {
		http.Error(w, "unknown event", http.StatusBadRequest)
		return
	}
	if b.DeliveryID != key {
		http.Error(w, "delivery_id is not the webhook-id", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	again := r.seen[key]
	r.seen[key] = true
	r.mu.Unlock()
	if again {
		// The same delivery again (the desk did not hear our answer): it
		// was acted on once; say so and do nothing.
		w.WriteHeader(http.StatusOK)
		return
	}
	select {
	case r.jobs <- b:
	default:
		r.mu.Lock()
		delete(r.seen, key)
		r.mu.Unlock()
		http.Error(w, "busy", http.StatusServiceUnavailable) // the desk retries
		return
	}
	r.log.Info("webhook accepted", "case", b.CaseRef, "action", b.Action, "delivery_id", b.DeliveryID)
	w.WriteHeader(http.StatusOK)
}

// confirm reports the action done through POST /api/v1/cases/{ref}/containment.
func (r *demoReceiver) confirm(ctx context.Context, b cases.WebhookBody) error {
	r.mu.Lock()
	key := r.apiKey
	r.mu.Unlock()
	if !strings.HasSuffix(b.ConfirmURL, "/api/v1/cases/"+b.CaseRef+"/containment") {
		return errors.New("unexpected confirm_url")
	}
	payload, _ := json.Marshal(map[string]any{"results": []map[string]string{{
		"action": b.Action, "status": "done", "detail": "done by the demo account system",
	}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.ConfirmURL, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	r.log.Info("action confirmed to the desk", "case", b.CaseRef, "action", b.Action)
	return nil
}
