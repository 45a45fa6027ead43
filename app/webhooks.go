package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"notme/app/webhook"
	"notme/cases"
	"notme/internal/loopback"
)

// WebhooksConfig is where containment webhooks go. With no URL the desk
// still records every containment request; nothing is sent.
type WebhooksConfig struct {
	// URL of the company's account system; https, or http to loopback.
	URL string `yaml:"url"`
	// Secret signs each webhook (HMAC-SHA256, Standard Webhooks):
	// "whsec_" + base64 of at least 24 random bytes, or the older form, at
	// least 32 characters whose bytes are the key (its whsec_ form is
	// "whsec_" + base64 of those bytes). Give one of secret, secret_file
	// (one secret a line, newest first) and secrets; from the environment
	// NOTME_WEBHOOKS_SECRET (or NOTME_WEBHOOKS_SECRET_FILE).
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// Secrets are several signing secrets during a rotation, newest first:
	// every webhook carries a signature under each, so receivers switch to
	// the new one while the old still verifies. From the environment
	// NOTME_WEBHOOKS_SECRETS, comma-separated.
	Secrets []Secret `yaml:"secrets"`
	// Timeout of one attempt.
	Timeout Duration `yaml:"timeout"`
	// MaxAge: a webhook still failing this long after it was queued is a
	// dead letter, shown on the case for staff to retry.
	MaxAge Duration `yaml:"max_age"`
	// BackoffMin and BackoffMax bound the exponential back-off between
	// attempts: the n-th wait is drawn between half and all of BackoffMin
	// doubled n-1 times, at most BackoffMax (internal/backoff).
	BackoffMin Duration `yaml:"backoff_min"`
	BackoffMax Duration `yaml:"backoff_max"`
	// Concurrency is how many webhooks are in flight at once.
	Concurrency int `yaml:"concurrency"`
}

// minWebhookSecret is the shortest signing secret accepted in the older
// form, in characters; minStandardKey the shortest whsec_ key, in bytes
// (the standard: "between 24 bytes (192 bits) and 64 bytes"); at most
// maxWebhookSecrets sign at once.
const (
	minWebhookSecret  = 32
	minStandardKey    = 24
	maxWebhookSecrets = 4
)

func defaultWebhooks() WebhooksConfig {
	return WebhooksConfig{
		Timeout:     Duration(10 * time.Second),
		MaxAge:      Duration(cases.DefaultWebhookMaxAge),
		BackoffMin:  Duration(cases.DefaultWebhookBackoffMin),
		BackoffMax:  Duration(cases.DefaultWebhookBackoffMax),
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
		case u.Scheme == "http" && !loopback.Host(u.Hostname()):
			v.add("webhooks.url", "plain http is allowed only to loopback; use https")
		case u.User != nil:
			v.add("webhooks.url", "must not contain user information; the signature authenticates the desk")
		}
		w.validateSecrets(v)
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

func (w WebhooksConfig) validateSecrets(v *validator) {
	given := 0
	for _, set := range []bool{w.Secret != "", w.SecretFile != "", len(w.Secrets) > 0} {
		if set {
			given++
		}
	}
	if given != 1 {
		v.add("webhooks.secret", "give exactly one of secret, secret_file and secrets when url is set")
		return
	}
	key := "webhooks.secret"
	switch {
	case w.SecretFile != "":
		key = "webhooks.secret_file"
	case len(w.Secrets) > 0:
		key = "webhooks.secrets"
	}
	secrets, err := w.webhookSecrets()
	if err != nil {
		v.add(key, err.Error())
		return
	}
	switch {
	case len(secrets) == 0:
		v.add(key, "holds no secret")
	case len(secrets) > maxWebhookSecrets:
		v.add(key, fmt.Sprintf("at most %d secrets sign at once (newest first); drop the oldest", maxWebhookSecrets))
	}
	for i, s := range secrets {
		if err := checkWebhookSecret(s); err != nil {
			where := key
			if len(secrets) > 1 {
				where = fmt.Sprintf("%s[%d]", key, i)
			}
			v.add(where, err.Error())
		}
	}
}

// checkWebhookSecret says what is wrong with one secret, never repeating it.
func checkWebhookSecret(s string) error {
	k, err := webhook.ParseSecret(s)
	switch {
	case err != nil:
		return errors.New("whsec_ must be followed by base64 of the key (openssl rand -base64 32)")
	case strings.HasPrefix(s, "whsec_") && len(k) < minStandardKey:
		return fmt.Errorf("a whsec_ key must be at least %d bytes (openssl rand -base64 32)", minStandardKey)
	case !strings.HasPrefix(s, "whsec_") && len(s) < minWebhookSecret:
		return fmt.Errorf("must be at least %d characters, or whsec_ + base64 of at least %d bytes (openssl rand -base64 32)",
			minWebhookSecret, minStandardKey)
	}
	return nil
}

// webhookSecrets lists the configured secrets, newest first, as written.
func (w WebhooksConfig) webhookSecrets() ([]string, error) {
	switch {
	case w.SecretFile != "":
		s, err := readSecretFile(w.SecretFile)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimRight(line, "\r"); strings.TrimSpace(line) != "" {
				out = append(out, line)
			}
		}
		return out, nil
	case len(w.Secrets) > 0:
		out := make([]string, len(w.Secrets))
		for i, s := range w.Secrets {
			out[i] = s.Reveal()
		}
		return out, nil
	case w.Secret != "":
		return []string{w.Secret.Reveal()}, nil
	}
	return []string{}, nil // none configured: webhooks are recorded, not sent
}

// WebhookKeys resolves the signing keys, newest first: whsec_ secrets
// decoded, older ones as their bytes.
func (w WebhooksConfig) WebhookKeys() ([][]byte, error) {
	secrets, err := w.webhookSecrets()
	if err != nil {
		return nil, err
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		if keys[i], err = webhook.ParseSecret(s); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// legacyWebhookSecrets counts secrets not yet in the whsec_ form.
func (w WebhooksConfig) legacyWebhookSecrets() int {
	secrets, _ := w.webhookSecrets()
	n := 0
	for _, s := range secrets {
		if !strings.HasPrefix(s, "whsec_") {
			n++
		}
	}
	return n
}

// webhookOptions is the retry policy cases applies. The lease leaves a
// full timeout and then some for a send started with half of it left.
func (c Config) webhookOptions() cases.WebhookOptions {
	w := c.Webhooks
	return cases.WebhookOptions{MaxAge: w.MaxAge.D(), BackoffMin: w.BackoffMin.D(), BackoffMax: w.BackoffMax.D(),
		Lease: 2*w.Timeout.D() + 30*time.Second}
}

// webhookWorker is the worker that sends containment webhooks; ok is
// false when no URL is configured: then requests are only recorded, and
// the log says so once at start.
func (a *App) webhookWorker() (wk worker, ok bool, err error) {
	w := a.Config.Webhooks
	if w.URL == "" {
		a.Log.Warn("webhooks.url is not set: containment requests are recorded on cases but not sent")
		return worker{}, false, nil
	}
	keys, err := w.WebhookKeys()
	if err != nil {
		return worker{}, false, fmt.Errorf("webhooks: secret: %w", err)
	}
	if n := w.legacyWebhookSecrets(); n > 0 {
		// Not an error: the bytes sign as before. Receivers using a
		// Standard Webhooks library need the whsec_ form of the same key.
		a.Log.Warn("a webhook secret is in the older form; receivers using a Standard Webhooks library need it as whsec_ + base64 of its bytes (docs/webhooks.md)",
			"secrets_in_older_form", n)
	}
	sender, err := webhook.New(webhook.Config{URL: w.URL, Secrets: keys, Timeout: w.Timeout.D()})
	if err != nil {
		return worker{}, false, err
	}
	d := a.Service.NewDeliverer(sender, cases.DelivererOptions{Concurrency: w.Concurrency, Logger: a.Log.With("worker", "webhooks")})
	return worker{name: "webhooks", run: func(ctx context.Context) error { return d.Run(withWriterPriority(ctx)) }}, true, nil
}
