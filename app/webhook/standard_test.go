package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"notme/app/webhook"
	"notme/cases"
)

// The Standard Webhooks library verifies with its own clock (time.Now) and
// a 5-minute tolerance, so these desks run on the real time: nothing here
// waits on it, and the stale cases are ten minutes off.

// captured is one request as the receiver got it.
type captured struct {
	header http.Header
	body   []byte
}

// tap is an account system that answers 204 and keeps every request.
type tap struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []captured
}

func newTap(t *testing.T) *tap {
	tp := &tap{}
	tp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tp.mu.Lock()
		tp.reqs = append(tp.reqs, captured{r.Header.Clone(), body})
		tp.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(tp.srv.Close)
	return tp
}

func (tp *tap) all() []captured {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]captured(nil), tp.reqs...)
}

// libraryFor is a receiver's verifier for one whsec_ secret.
func libraryFor(t *testing.T, key []byte) *standardwebhooks.Webhook {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(webhook.FormatSecret(key))
	if err != nil {
		t.Fatalf("standardwebhooks.NewWebhook(%s…) = %v", webhook.FormatSecret(key)[:10], err)
	}
	return wh
}

// deliverReal files an exact report on a desk whose webhooks go to tp,
// signed with keys, and returns what the account system received.
func deliverReal(t *testing.T, keys [][]byte) []captured {
	t.Helper()
	tp := newTap(t)
	clk := &clock{t: time.Now()}
	dk := openDeskTo(t, t.TempDir(), clk, webhook.Config{URL: tp.srv.URL, Secrets: keys, Now: clk.Now}, policy)
	dk.report(t, "ACC-1")
	if n := dk.deliverDue(t); n != 2 {
		t.Fatalf("DeliverDue() = %d, want the 2 automatic actions", n)
	}
	got := tp.all()
	if len(got) != 2 {
		t.Fatalf("the account system received %d webhooks, want 2", len(got))
	}
	for _, c := range got {
		var b cases.WebhookBody
		if err := json.Unmarshal(c.body, &b); err != nil {
			t.Fatalf("webhook body %s: %v", c.body, err)
		}
		id := c.header.Get(standardwebhooks.HeaderWebhookID)
		if id == "" || id != b.DeliveryID || id != c.header.Get(webhook.IdempotencyHeader) {
			t.Errorf("webhook-id %q, Idempotency-Key %q, delivery_id %q: want one id, the same in all three",
				id, c.header.Get(webhook.IdempotencyHeader), b.DeliveryID)
		}
	}
	return got
}

var (
	keyNew = []byte("the new key, thirty-two bytes ok")
	keyOld = []byte("the old key, thirty-two bytes ok")
)

// What the desk sends, the standard's Go library verifies: one secret.
func TestStandardLibraryVerifiesDelivery(t *testing.T) {
	for _, c := range deliverReal(t, [][]byte{keyNew}) {
		if err := libraryFor(t, keyNew).Verify(c.body, c.header); err != nil {
			t.Errorf("standardwebhooks Verify(a real delivery) = %v, want nil", err)
		}
		if err := libraryFor(t, keyOld).Verify(c.body, c.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("standardwebhooks Verify(another secret) = %v, want ErrNoMatchingSignature", err)
		}
		// The deprecated header is still there, under the same key.
		if err := webhook.Verify(keyNew, c.header.Get(webhook.SignatureHeader), c.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("Verify(Notme-Signature) = %v, want nil for one release", err)
		}
	}
}

// During a rotation every webhook carries a signature under each secret:
// receivers on the old secret and on the new one both verify.
func TestStandardLibraryVerifiesDuringRotation(t *testing.T) {
	for _, c := range deliverReal(t, [][]byte{keyNew, keyOld}) {
		if sigs := strings.Fields(c.header.Get(standardwebhooks.HeaderWebhookSignature)); len(sigs) != 2 {
			t.Errorf("webhook-signature = %q, want two space-separated signatures", sigs)
		}
		for name, key := range map[string][]byte{"new": keyNew, "old": keyOld} {
			if err := libraryFor(t, key).Verify(c.body, c.header); err != nil {
				t.Errorf("standardwebhooks Verify(%s secret) = %v, want nil", name, err)
			}
			if err := webhook.Verify(key, c.header.Get(webhook.SignatureHeader), c.body, time.Now(), 5*time.Minute); err != nil {
				t.Errorf("Verify(Notme-Signature, %s secret) = %v, want nil", name, err)
			}
		}
		other := []byte("a third key, not in the rotation")
		if err := libraryFor(t, other).Verify(c.body, c.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("standardwebhooks Verify(a third secret) = %v, want ErrNoMatchingSignature", err)
		}
	}
}

// A secret in the desk's older form signs with its bytes: a receiver's
// library given "whsec_" + base64 of those bytes verifies.
func TestOlderSecretFormMapsToWhsec(t *testing.T) {
	const older = "0123456789abcdef0123456789abcdef"
	key, err := webhook.ParseSecret(older)
	if err != nil || string(key) != older {
		t.Fatalf("ParseSecret(older form) = %q, %v; want its bytes", key, err)
	}
	if back, err := webhook.ParseSecret(webhook.FormatSecret(key)); err != nil || !bytes.Equal(back, key) {
		t.Fatalf("ParseSecret(FormatSecret(k)) = %q, %v; want k", back, err)
	}
	if _, err := webhook.ParseSecret("whsec_not*base64"); err == nil {
		t.Error("ParseSecret(whsec_ with bad base64) = nil error, want one")
	}
	for _, c := range deliverReal(t, [][]byte{key}) {
		wh, err := standardwebhooks.NewWebhook("whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=") // base64 of older
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(c.body, c.header); err != nil {
			t.Errorf("standardwebhooks Verify(whsec_ form of the older secret) = %v, want nil", err)
		}
	}
}

// Issue 12: a captured webhook replayed inside the tolerance under a new
// Idempotency-Key (and webhook-id) must fail verification; so must one
// replayed after the tolerance.
func TestReplayedWebhookFailsVerification(t *testing.T) {
	c := deliverReal(t, [][]byte{keyNew})[0]
	wh := libraryFor(t, keyNew)
	if err := wh.Verify(c.body, c.header); err != nil {
		t.Fatalf("standardwebhooks Verify(the captured webhook) = %v, want nil", err)
	}
	for _, tt := range []struct {
		name   string
		mutate func(http.Header)
	}{
		{"new webhook-id", func(h http.Header) { h.Set(standardwebhooks.HeaderWebhookID, "nmd_replayed") }},
		{"new webhook-id and Idempotency-Key", func(h http.Header) {
			h.Set(standardwebhooks.HeaderWebhookID, "nmd_replayed")
			h.Set(webhook.IdempotencyHeader, "nmd_replayed")
		}},
	} {
		h := c.header.Clone()
		tt.mutate(h)
		if err := wh.Verify(c.body, h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("standardwebhooks Verify(replay with %s) = %v, want ErrNoMatchingSignature", tt.name, err)
		}
		if _, err := webhook.VerifyStandard([][]byte{keyNew}, h, c.body, time.Now(), 5*time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
			t.Errorf("VerifyStandard(replay with %s) = %v, want ErrBadSignature", tt.name, err)
		}
	}
	// A new timestamp with the old signature fails too: the time is signed.
	h := c.header.Clone()
	h.Set(standardwebhooks.HeaderWebhookTimestamp, "1")
	if err := wh.VerifyIgnoringTimestamp(c.body, h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("standardwebhooks VerifyIgnoringTimestamp(new timestamp) = %v, want ErrNoMatchingSignature", err)
	}
}

// A webhook signed ten minutes before (or after) the receiver's now is
// outside the standard's 5-minute tolerance.
func TestStaleWebhookFailsVerification(t *testing.T) {
	for _, tt := range []struct {
		offset time.Duration
		lib    error
	}{
		{-10 * time.Minute, standardwebhooks.ErrMessageTooOld},
		{10 * time.Minute, standardwebhooks.ErrMessageTooNew},
	} {
		tp := newTap(t)
		s, err := webhook.New(webhook.Config{URL: tp.srv.URL, Secret: keyNew,
			Now: func() time.Time { return time.Now().Add(tt.offset) }})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SendWebhook(context.Background(), cases.Webhook{Key: "nmd_k", Body: []byte(`{"delivery_id":"nmd_k"}`)}); err != nil {
			t.Fatalf("SendWebhook() = %v", err)
		}
		c := tp.all()[0]
		if err := libraryFor(t, keyNew).Verify(c.body, c.header); !errors.Is(err, tt.lib) {
			t.Errorf("standardwebhooks Verify(signed %v from now) = %v, want %v", tt.offset, err, tt.lib)
		}
		if _, err := webhook.VerifyStandard([][]byte{keyNew}, c.header, c.body, time.Now(), 5*time.Minute); !errors.Is(err, webhook.ErrStale) {
			t.Errorf("VerifyStandard(signed %v from now) = %v, want ErrStale", tt.offset, err)
		}
		if err := libraryFor(t, keyNew).VerifyIgnoringTimestamp(c.body, c.header); err != nil {
			t.Errorf("standardwebhooks VerifyIgnoringTimestamp(signed %v from now) = %v, want nil (only the time is wrong)", tt.offset, err)
		}
	}
}

func TestVerifyStandard(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"event":"containment.requested","delivery_id":"nmd_1"}`)
	headers := func(id string, ts string, sig string) http.Header {
		h := http.Header{}
		for k, v := range map[string]string{webhook.IDHeader: id, webhook.TimestampHeader: ts, webhook.StandardSignatureHeader: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		return h
	}
	good := webhook.StandardSignature(keyNew, "nmd_1", now, body)
	old := webhook.StandardSignature(keyOld, "nmd_1", now, body)
	for _, tt := range []struct {
		name string
		h    http.Header
		keys [][]byte
		body []byte
		at   time.Time
		want error
	}{
		{"good", headers("nmd_1", "1800000000", good), [][]byte{keyNew}, body, now, nil},
		{"rotation, desk side: two signatures", headers("nmd_1", "1800000000", old+" "+good), [][]byte{keyNew}, body, now, nil},
		{"rotation, receiver side: two keys", headers("nmd_1", "1800000000", good), [][]byte{keyOld, keyNew}, body, now, nil},
		{"another scheme first", headers("nmd_1", "1800000000", "v1a,AAAA "+good), [][]byte{keyNew}, body, now, nil},
		{"tampered body", headers("nmd_1", "1800000000", good), [][]byte{keyNew}, append([]byte(" "), body...), now, webhook.ErrBadSignature},
		{"other id", headers("nmd_2", "1800000000", good), [][]byte{keyNew}, body, now, webhook.ErrBadSignature},
		{"other time, in tolerance", headers("nmd_1", "1800000001", good), [][]byte{keyNew}, body, now, webhook.ErrBadSignature},
		{"other key", headers("nmd_1", "1800000000", good), [][]byte{keyOld}, body, now, webhook.ErrBadSignature},
		{"hex, the old encoding", headers("nmd_1", "1800000000", "v1,"+strings.Repeat("ab", 32)), [][]byte{keyNew}, body, now, webhook.ErrBadSignature},
		{"stale", headers("nmd_1", "1800000000", good), [][]byte{keyNew}, body, now.Add(6 * time.Minute), webhook.ErrStale},
		{"from the future", headers("nmd_1", "1800000000", good), [][]byte{keyNew}, body, now.Add(-6 * time.Minute), webhook.ErrStale},
		{"no id", headers("", "1800000000", good), [][]byte{keyNew}, body, now, webhook.ErrNoSignature},
		{"no timestamp", headers("nmd_1", "", good), [][]byte{keyNew}, body, now, webhook.ErrNoSignature},
		{"bad timestamp", headers("nmd_1", "soon", good), [][]byte{keyNew}, body, now, webhook.ErrNoSignature},
		{"no signature", headers("nmd_1", "1800000000", ""), [][]byte{keyNew}, body, now, webhook.ErrNoSignature},
	} {
		id, err := webhook.VerifyStandard(tt.keys, tt.h, tt.body, tt.at, 5*time.Minute)
		if !errors.Is(err, tt.want) || (err == nil && id != "nmd_1") || (err != nil && id != "") {
			t.Errorf("VerifyStandard(%s) = %q, %v; want %v", tt.name, id, err, tt.want)
		}
	}
}
