// Package webhook puts the desk's containment webhooks on the wire: signed
// JSON over HTTP, the Standard Webhooks way (https://www.standardwebhooks.com,
// spec/standard-webhooks.md: webhook-id, webhook-timestamp,
// webhook-signature). What to send and when to retry is decided in cases;
// this package only knows HTTP and the signature.
//
// Until the next release every webhook also carries the deprecated
// Notme-Signature and Idempotency-Key headers, so that receivers written
// against them keep working; Notme-Signature does not cover the key, so a
// receiver must move to webhook-signature and deduplicate on webhook-id.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// Header names of a webhook request (Standard Webhooks, "Webhook Metadata").
// The id is the delivery's idempotency key, the same on every attempt; it
// is inside the signed content, so a captured webhook re-sent under a new
// id no longer verifies.
const (
	IDHeader                = "webhook-id"
	TimestampHeader         = "webhook-timestamp"
	StandardSignatureHeader = "webhook-signature"
)

// Deprecated headers, still sent for one release.
const (
	// SignatureHeader is "t=UNIX,v1=hex(HMAC-SHA256(key, "UNIX." + body))".
	//
	// Deprecated: it does not cover IdempotencyHeader; verify
	// StandardSignatureHeader instead.
	SignatureHeader = "Notme-Signature"
	// IdempotencyHeader equals IDHeader.
	//
	// Deprecated: deduplicate on IDHeader, which the signature covers.
	IdempotencyHeader = "Idempotency-Key"
)

// secretPrefix marks a Standard Webhooks secret: "whsec_" + base64(key).
const secretPrefix = "whsec_"

// ParseSecret turns a configured secret into its key bytes. A secret
// starting with "whsec_" is the standard's form, base64 (standard
// alphabet) of the key; anything else is the desk's older form, whose
// bytes are the key. Both headers are signed with these bytes, so a secret
// rewritten as FormatSecret(its bytes) signs exactly as before.
func ParseSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return []byte(s), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook: a whsec_ secret must be followed by base64 of the key (standard alphabet, padded)")
	}
	return key, nil
}

// FormatSecret is the Standard Webhooks form of key: "whsec_" + base64.
func FormatSecret(key []byte) string {
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Config is where webhooks go and how they are signed.
type Config struct {
	URL string
	// Secret is the signing key; Secrets, instead, several (newest first)
	// during a rotation: every webhook carries one signature per key.
	Secret  []byte
	Secrets [][]byte
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
	keys   [][]byte
	client *http.Client
	now    func() time.Time
}

// New checks c and returns a Sender.
func New(c Config) (*Sender, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook: the URL must be an absolute http or https URL")
	}
	keys := c.Secrets
	switch {
	case c.Secret != nil && c.Secrets != nil:
		return nil, errors.New("webhook: give Secret or Secrets, not both")
	case c.Secret != nil:
		keys = [][]byte{c.Secret}
	case len(keys) == 0:
		return nil, errors.New("webhook: no signing secret")
	}
	for _, k := range keys {
		if len(k) < 16 {
			return nil, errors.New("webhook: each secret must be at least 16 bytes")
		}
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
	return &Sender{url: c.URL, keys: keys, client: c.Client, now: c.Now}, nil
}

// SendWebhook POSTs one webhook; nil means the receiver answered 2xx.
func (s *Sender) SendWebhook(ctx context.Context, w cases.Webhook) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(w.Body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "notme-webhook/1")
	now := s.now()
	// Set canonicalises the names (Webhook-Id); HTTP header names are
	// case-insensitive (RFC 9110, section 5.1).
	req.Header.Set(IDHeader, w.Key)
	req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(StandardSignatureHeader, signStandard(s.keys, w.Key, now, w.Body))
	req.Header.Set(IdempotencyHeader, w.Key)
	req.Header.Set(SignatureHeader, signLegacy(s.keys, now, w.Body))
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

// StandardSignature is one webhook-signature value for a webhook with id
// sent at t: "v1," + base64(HMAC-SHA256(key, id + "." + UNIX + "." + body))
// (Standard Webhooks, "Signature scheme").
func StandardSignature(key []byte, id string, t time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(standardMAC(key, id, strconv.FormatInt(t.Unix(), 10), body))
}

// signStandard signs with every key, space-separated, newest first.
func signStandard(keys [][]byte, id string, t time.Time, body []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = StandardSignature(k, id, t, body)
	}
	return strings.Join(sigs, " ")
}

func standardMAC(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte("."))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// VerifyStandard checks a webhook's Standard Webhooks headers against its
// raw body, as a receiver must, and returns its id: the timestamp within
// tolerance of now, and one v1 signature under one of keys equal in
// constant time. Several keys are the receiver's side of a rotation.
func VerifyStandard(keys [][]byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) (string, error) {
	id, ts, header := h.Get(IDHeader), h.Get(TimestampHeader), h.Get(StandardSignatureHeader)
	unix, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || header == "" || err != nil {
		return "", ErrNoSignature
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return "", ErrStale
	}
	for _, k := range keys {
		want := standardMAC(k, id, ts, body)
		for _, sig := range strings.Fields(header) {
			b64, ok := strings.CutPrefix(sig, "v1,")
			if !ok {
				continue // another scheme (v1a is asymmetric): not ours
			}
			if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
				return id, nil
			}
		}
	}
	return "", ErrBadSignature
}

// Sign returns the Notme-Signature header value for body sent at t:
// "t=UNIX,v1=hex(HMAC-SHA256(secret, UNIX + "." + body))". The time is
// inside the MAC so that a captured request cannot be replayed later.
//
// Deprecated: the header does not cover the idempotency key; see
// StandardSignature.
func Sign(secret []byte, t time.Time, body []byte) string {
	return signLegacy([][]byte{secret}, t, body)
}

// signLegacy is Notme-Signature with one v1 per key.
func signLegacy(keys [][]byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, k := range keys {
		b.WriteString(",v1=" + hex.EncodeToString(mac(k, ts, body)))
	}
	return b.String()
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
	ErrNoSignature  = errors.New("webhook: no valid signature headers")
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrStale        = errors.New("webhook: signature time outside the tolerance")
)

// Verify checks a Notme-Signature header against the body: the time
// within tolerance of now, and one v1 signature equal in constant time.
// Several v1 values are accepted (a secret being rotated).
//
// Deprecated: Notme-Signature does not cover the Idempotency-Key header,
// so a captured webhook verifies again under a new key; use VerifyStandard.
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
