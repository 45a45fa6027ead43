// Package webhook puts the desk's containment webhooks on the wire: signed
// JSON over HTTP. What to send and when to retry is decided in cases; this
// package only knows HTTP and the signature.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"notme/cases"
)

// Header names of a webhook request.
const (
	SignatureHeader   = "Notme-Signature"
	IdempotencyHeader = "Idempotency-Key"
)

// Config is where webhooks go and how they are signed.
type Config struct {
	URL     string
	Secret  []byte
	Timeout time.Duration // per attempt; default 10s
	// Client is for tests; nil means a client with Timeout that follows
	// no redirects (a redirected webhook is a misconfiguration, and a
	// followed POST would lose its body).
	Client *http.Client
	Now    func() time.Time
}

// Sender delivers webhooks over HTTP; it implements cases.WebhookSender.
type Sender struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// New checks c and returns a Sender.
func New(c Config) (*Sender, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook: the URL must be an absolute http or https URL")
	}
	if len(c.Secret) < 16 {
		return nil, errors.New("webhook: the secret must be at least 16 bytes")
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64 // one receiver: keep a connection per concurrent sender
		c.Client = &http.Client{
			Transport:     t,
			Timeout:       c.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Sender{url: c.URL, secret: c.Secret, client: c.Client, now: c.Now}, nil
}

// SendWebhook POSTs one webhook; nil means the receiver answered 2xx.
func (s *Sender) SendWebhook(ctx context.Context, w cases.Webhook) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(w.Body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "notme-webhook/1")
	req.Header.Set(IdempotencyHeader, w.Key)
	req.Header.Set(SignatureHeader, Sign(s.secret, s.now(), w.Body))
	resp, err := s.client.Do(req)
	if err != nil {
		// The URL may carry a token in its query: say what failed, not where.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST to the account system: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return fmt.Errorf("the account system answered HTTP %d%s", resp.StatusCode, describe(snippet))
}

// describe shows the start of an error answer, printable characters only.
func describe(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(string(b), ""))
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return ": " + s
}

// Sign returns the Notme-Signature header value for body sent at t:
// "t=UNIX,v1=hex(HMAC-SHA256(secret, UNIX + "." + body))". The time is
// inside the MAC so that a captured request cannot be replayed later.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verification errors.
var (
	ErrNoSignature  = errors.New("webhook: no valid Notme-Signature header")
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrStale        = errors.New("webhook: signature time outside the tolerance")
)

// Verify checks a Notme-Signature header against the body, as a receiver
// must: the time within tolerance of now, and one v1 signature equal in
// constant time. Several v1 values are accepted (a secret being rotated).
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrBadSignature
}
