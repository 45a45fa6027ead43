package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testHookSecret = "0123456789abcdef0123456789abcdef"

// Standard Webhooks secrets: whsec_ + base64 of 32 and of 24 bytes.
const (
	testStdSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="
	testStdSecretOld = "whsec_c2l4dGVlbiBieXRlcyBvbGQgc2VjcmV0IQ=="
)

func TestValidateWebhooks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hook-secret")
	if err := os.WriteFile(file, []byte(testHookSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rotating := filepath.Join(t.TempDir(), "hook-secrets")
	if err := os.WriteFile(rotating, []byte(testStdSecret+"\n"+testHookSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const hookURL = "https://crm.example.com/h"
	for _, tt := range []struct {
		name   string
		mutate func(*WebhooksConfig)
		key    string // "" = valid
	}{
		{"no url: record only", func(w *WebhooksConfig) {}, ""},
		{"https", func(w *WebhooksConfig) { w.URL, w.Secret = "https://crm.example.com/hooks/notme", testHookSecret }, ""},
		{"http to loopback", func(w *WebhooksConfig) { w.URL, w.Secret = "http://127.0.0.1:9000/hook", testHookSecret }, ""},
		{"secret from a file", func(w *WebhooksConfig) { w.URL, w.SecretFile = "https://crm.example.com/h", file }, ""},
		{"http elsewhere", func(w *WebhooksConfig) { w.URL, w.Secret = "http://crm.example.com/h", testHookSecret }, "webhooks.url"},
		{"not a URL", func(w *WebhooksConfig) { w.URL, w.Secret = "crm.example.com/h", testHookSecret }, "webhooks.url"},
		{"user info", func(w *WebhooksConfig) { w.URL, w.Secret = "https://u:p@crm.example.com/h", testHookSecret }, "webhooks.url"},
		{"no secret", func(w *WebhooksConfig) { w.URL = "https://crm.example.com/h" }, "webhooks.secret"},
		{"both secrets", func(w *WebhooksConfig) {
			w.URL, w.Secret, w.SecretFile = "https://crm.example.com/h", testHookSecret, file
		}, "webhooks.secret"},
		{"short secret", func(w *WebhooksConfig) { w.URL, w.Secret = "https://crm.example.com/h", "hunter2" }, "webhooks.secret"},
		{"whsec_ secret", func(w *WebhooksConfig) { w.URL, w.Secret = hookURL, testStdSecret }, ""},
		{"whsec_ of 16 bytes", func(w *WebhooksConfig) { w.URL, w.Secret = hookURL, "whsec_MDEyMzQ1Njc4OWFiY2RlZg==" }, "webhooks.secret"},
		{"whsec_ not base64", func(w *WebhooksConfig) { w.URL, w.Secret = hookURL, "whsec_not base64 at all, but long enough!" }, "webhooks.secret"},
		{"rotation: secrets", func(w *WebhooksConfig) { w.URL, w.Secrets = hookURL, []Secret{testStdSecret, testStdSecretOld} }, ""},
		{"rotation: one bad", func(w *WebhooksConfig) { w.URL, w.Secrets = hookURL, []Secret{testStdSecret, "hunter2"} }, "webhooks.secrets[1]"},
		{"rotation: too many", func(w *WebhooksConfig) {
			w.URL, w.Secrets = hookURL, []Secret{testStdSecret, testStdSecret, testStdSecret, testStdSecret, testStdSecret}
		}, "webhooks.secrets"},
		{"rotation: a file of two", func(w *WebhooksConfig) { w.URL, w.SecretFile = hookURL, rotating }, ""},
		{"secret and secrets", func(w *WebhooksConfig) {
			w.URL, w.Secret, w.Secrets = hookURL, testStdSecret, []Secret{testStdSecretOld}
		}, "webhooks.secret"},
		{"missing secret file", func(w *WebhooksConfig) { w.URL, w.SecretFile = "https://crm.example.com/h", file+".gone" }, "webhooks.secret_file"},
		{"timeout", func(w *WebhooksConfig) { w.Timeout = 0 }, "webhooks.timeout"},
		{"max age", func(w *WebhooksConfig) { w.MaxAge = Duration(time.Second) }, "webhooks.max_age"},
		{"backoff min", func(w *WebhooksConfig) { w.BackoffMin = 0 }, "webhooks.backoff_min"},
		{"backoff max", func(w *WebhooksConfig) { w.BackoffMax = Duration(time.Millisecond) }, "webhooks.backoff_max"},
		{"concurrency", func(w *WebhooksConfig) { w.Concurrency = 0 }, "webhooks.concurrency"},
	} {
		cfg := Defaults()
		tt.mutate(&cfg.Webhooks)
		err := cfg.Validate()
		switch {
		case tt.key == "" && err != nil:
			t.Errorf("Validate(%s) = %v, want nil", tt.name, err)
		case tt.key != "" && (err == nil || !strings.Contains(err.Error(), tt.key+":")):
			t.Errorf("Validate(%s) = %v, want an error naming %s", tt.name, err, tt.key)
		case err != nil && (strings.Contains(err.Error(), testHookSecret) || strings.Contains(err.Error(), "hunter2") ||
			strings.Contains(err.Error(), "MfKQ9r8")):
			t.Errorf("Validate(%s) = %v repeats the secret", tt.name, err)
		}
	}
}

func TestWebhookSecretFromEnvironment(t *testing.T) {
	cfg, err := Load("", envMap(map[string]string{
		"NOTME_WEBHOOKS_URL":     "https://crm.example.com/hooks/notme",
		"NOTME_WEBHOOKS_SECRET":  testHookSecret,
		"NOTME_WEBHOOKS_MAX_AGE": "2d",
	}))
	if err != nil {
		t.Fatalf("Load(NOTME_WEBHOOKS_*) = %v", err)
	}
	if keys, err := cfg.Webhooks.WebhookKeys(); err != nil || len(keys) != 1 || string(keys[0]) != testHookSecret {
		t.Errorf("WebhookKeys() = %q, %v; want the variable's bytes (the older form)", keys, err)
	}
	if got := cfg.webhookOptions(); got.MaxAge != 48*time.Hour || got.Lease <= cfg.Webhooks.Timeout.D() {
		t.Errorf("webhookOptions() = %+v, want max age 48h and a lease longer than the timeout", got)
	}
}

// Rotation from the environment: NOTME_WEBHOOKS_SECRETS, newest first; a
// whsec_ secret is its base64 decoded.
func TestWebhookSecretsFromEnvironment(t *testing.T) {
	cfg, err := Load("", envMap(map[string]string{
		"NOTME_WEBHOOKS_URL":     "https://crm.example.com/hooks/notme",
		"NOTME_WEBHOOKS_SECRETS": testStdSecret + "," + testHookSecret,
	}))
	if err != nil {
		t.Fatalf("Load(NOTME_WEBHOOKS_SECRETS) = %v", err)
	}
	keys, err := cfg.Webhooks.WebhookKeys()
	if err != nil || len(keys) != 2 || len(keys[0]) != 32 || string(keys[1]) != testHookSecret {
		t.Fatalf("WebhookKeys() = %d keys, %v; want the whsec_ key (32 bytes) then the older one", len(keys), err)
	}
	if s := fmt.Sprintf("%v %+v", cfg.Webhooks, cfg.Webhooks); strings.Contains(s, "MfKQ9r8") || strings.Contains(s, testHookSecret) {
		t.Errorf("a printed WebhooksConfig shows a secret: %s", s)
	}
}

func TestNoWebhookURLIsSaidAtStart(t *testing.T) {
	var buf syncBuffer
	a := &App{Config: Defaults(), Log: NewLogger(LogConfig{Level: "info", Format: "text"}, &buf)}
	if _, ok, err := a.webhookWorker(); ok || err != nil {
		t.Fatalf("webhookWorker() without a URL = ok %v, %v; want no worker", ok, err)
	}
	if !strings.Contains(buf.String(), "containment requests are recorded on cases but not sent") {
		t.Errorf("webhookWorker() without a URL logged %q, want a warning that nothing is sent", buf.String())
	}
}

// A secret in the older form still signs, and the log says once at start
// that libraries need its whsec_ form; a whsec_ secret is not warned about.
func TestOlderWebhookSecretIsSaidAtStart(t *testing.T) {
	for _, tt := range []struct {
		secret Secret
		warned bool
	}{{testHookSecret, true}, {testStdSecret, false}} {
		var buf syncBuffer
		cfg := Defaults()
		cfg.Webhooks.URL, cfg.Webhooks.Secret = "https://crm.example.com/hooks/notme", tt.secret
		a := &App{Config: cfg, Log: NewLogger(LogConfig{Level: "info", Format: "text"}, &buf)}
		w, ok, err := a.webhookWorker()
		if !ok || w.run == nil || err != nil {
			t.Fatalf("webhookWorker() = ok %v, %v; want a worker", ok, err)
		}
		if got := strings.Contains(buf.String(), "older form"); got != tt.warned {
			t.Errorf("webhookWorker(whsec_ %v) logged %q; want a warning about the older form: %v",
				!tt.warned, buf.String(), tt.warned)
		}
		if strings.Contains(buf.String(), testHookSecret) || strings.Contains(buf.String(), "MfKQ9r8") {
			t.Errorf("webhookWorker() logged the secret: %q", buf.String())
		}
	}
}
