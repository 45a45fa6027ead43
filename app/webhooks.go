package app

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"notme/app/webhook"
	"notme/cases"
)

// WebhooksConfig is where containment webhooks go. With no URL the desk
// still records every containment request; nothing is sent.
type WebhooksConfig struct {
	// URL of the company's account system; https, or http to loopback.
	URL string `yaml:"url"`
	// Secret signs each webhook (HMAC-SHA256); at least 32 characters.
	// Give it or secret_file; from the environment NOTME_WEBHOOKS_SECRET
	// (or NOTME_WEBHOOKS_SECRET_FILE).
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// Timeout of one attempt.
	Timeout Duration `yaml:"timeout"`
	// MaxAge: a webhook still failing this long after it was queued is a
	// dead letter, shown on the case for staff to retry.
	MaxAge Duration `yaml:"max_age"`
	// BackoffMin and BackoffMax bound the exponential back-off with full
	// jitter between attempts.
	BackoffMin Duration `yaml:"backoff_min"`
	BackoffMax Duration `yaml:"backoff_max"`
	// Concurrency is how many webhooks are in flight at once.
	Concurrency int `yaml:"concurrency"`
}

// minWebhookSecret is the shortest signing secret accepted, in bytes.
const minWebhookSecret = 32

func defaultWebhooks() WebhooksConfig {
	return WebhooksConfig{
		Timeout:     Duration(10 * time.Second),
		MaxAge:      Duration(24 * time.Hour),
		BackoffMin:  Duration(time.Second),
		BackoffMax:  Duration(15 * time.Minute),
		Concurrency: 4,
	}
}

func (c *Config) validateWebhooks(v *validator) {
	w := &c.Webhooks
	if w.URL != "" {
		u, err := url.Parse(w.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.add("webhooks.url", "must be an absolute https URL")
		case u.Scheme == "http" && !loopbackAddr(hostPort(u)):
			v.add("webhooks.url", "plain http is allowed only to loopback; use https")
		case u.User != nil:
			v.add("webhooks.url", "must not contain user information; the signature authenticates the desk")
		}
		if (w.Secret == "") == (w.SecretFile == "") {
			v.add("webhooks.secret", "give exactly one of secret and secret_file when url is set")
		} else if s, err := w.WebhookSecret(); err != nil {
			v.add("webhooks.secret_file", err.Error())
		} else if len(s) < minWebhookSecret {
			v.add("webhooks.secret", fmt.Sprintf("must be at least %d characters (openssl rand -hex 32)", minWebhookSecret))
		}
	}
	if w.Timeout <= 0 || w.Timeout > Duration(5*time.Minute) {
		v.add("webhooks.timeout", "must be positive and at most 5m")
	}
	if w.MaxAge < Duration(time.Minute) {
		v.add("webhooks.max_age", "must be at least 1m")
	}
	if w.BackoffMin <= 0 {
		v.add("webhooks.backoff_min", "must be positive")
	}
	if w.BackoffMax < w.BackoffMin {
		v.add("webhooks.backoff_max", "must be at least backoff_min")
	}
	if w.Concurrency < 1 || w.Concurrency > 64 {
		v.add("webhooks.concurrency", "must be 1 to 64")
	}
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return strings.TrimSuffix(strings.TrimPrefix(u.Hostname(), "["), "]") + ":" + port
}

// WebhookSecret resolves the signing secret from the config or its file.
func (w WebhooksConfig) WebhookSecret() (string, error) {
	if w.SecretFile != "" {
		return readSecretFile(w.SecretFile)
	}
	return w.Secret.Reveal(), nil
}

// webhookOptions is the retry policy cases applies. The lease leaves a
// full timeout and then some for a send started with half of it left.
func (c Config) webhookOptions() cases.WebhookOptions {
	w := c.Webhooks
	return cases.WebhookOptions{MaxAge: w.MaxAge.D(), BackoffMin: w.BackoffMin.D(), BackoffMax: w.BackoffMax.D(),
		Lease: 2*w.Timeout.D() + 30*time.Second}
}

// webhookWorker is the worker that sends containment webhooks, or nil
// when no URL is configured: then requests are only recorded, and the log
// says so once at start.
func (a *App) webhookWorker() (*worker, error) {
	w := a.Config.Webhooks
	if w.URL == "" {
		a.Log.Warn("webhooks.url is not set: containment requests are recorded on cases but not sent")
		return nil, nil
	}
	secret, err := w.WebhookSecret()
	if err != nil {
		return nil, fmt.Errorf("webhooks: secret: %w", err)
	}
	sender, err := webhook.New(webhook.Config{URL: w.URL, Secret: []byte(secret), Timeout: w.Timeout.D()})
	if err != nil {
		return nil, err
	}
	d := a.Service.NewDeliverer(sender, cases.DelivererOptions{Concurrency: w.Concurrency, Logger: a.Log.With("worker", "webhooks")})
	return &worker{name: "webhooks", run: d.Run}, nil
}
