package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"notme/app/webhook"
	"notme/cases"
)

// capture is a transport that keeps the last request it sent: what a
// network attacker who sees one webhook has.
type capture struct {
	header http.Header
	body   []byte
}

func (c *capture) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	c.header, c.body = req.Header.Clone(), body
	req.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(req)
}

// Issue 12, "Webhooks on a standard": a captured webhook re-sent inside
// the tolerance under a new idempotency key must not be acted on again.
// The demo's account system is the receiver README's guide describes.
func TestDemoReceiverRefusesReplayUnderNewKey(t *testing.T) {
	r, err := startDemoReceiver(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("startDemoReceiver() = %v", err)
	}
	t.Cleanup(r.close)
	key, err := webhook.ParseSecret(r.Secret)
	if err != nil {
		t.Fatalf("ParseSecret(the demo's secret) = %v", err)
	}
	tap := &capture{}
	sender, err := webhook.New(webhook.Config{URL: r.URL, Secret: key, Client: &http.Client{Transport: tap}})
	if err != nil {
		t.Fatalf("webhook.New() = %v", err)
	}
	body, _ := json.Marshal(cases.WebhookBody{Event: cases.WebhookEventContainment, DeliveryID: "nmd_first",
		CaseRef: "NM-TEST-0001", AccountRef: "ACC-1", Kind: "registration", Action: cases.ActionSuppressRecipient,
		RequestedAt: time.Now().UTC(), ConfirmURL: "http://127.0.0.1:1/api/v1/cases/NM-TEST-0001/containment"})
	if err := sender.SendWebhook(context.Background(), cases.Webhook{ID: 1, Key: "nmd_first", Body: body, Attempt: 1}); err != nil {
		t.Fatalf("SendWebhook() = %v, want the demo receiver to accept it", err)
	}
	if n := len(r.jobs); n != 1 {
		t.Fatalf("after one webhook the receiver queued %d actions, want 1", n)
	}

	replay := func(name string, mutate func(http.Header)) int {
		h := tap.header.Clone()
		mutate(h)
		req, err := http.NewRequest(http.MethodPost, r.URL, bytes.NewReader(tap.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("replay %s: %v", name, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct {
		name   string
		mutate func(http.Header)
		want   int
	}{
		{"new Idempotency-Key", func(h http.Header) { h.Set("Idempotency-Key", "nmd_attacker") }, http.StatusOK}, // the same webhook-id: already done
		{"new Idempotency-Key and webhook-id", func(h http.Header) {
			h.Set("Idempotency-Key", "nmd_attacker")
			h.Set("webhook-id", "nmd_attacker")
		}, http.StatusUnauthorized},
		{"unchanged (a retry)", func(http.Header) {}, http.StatusOK},
	} {
		got := replay(tt.name, tt.mutate)
		if got != tt.want {
			t.Errorf("replay with %s: HTTP %d, want %d", tt.name, got, tt.want)
		}
		if n := len(r.jobs); n != 1 {
			t.Errorf("after a replay with %s the receiver queued %d actions, want 1 (acted on once)", tt.name, n)
		}
	}
}
