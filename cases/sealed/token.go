package sealed

// Sealed tokens
//
// A sealed token lets the desk map a "not me" report back to the account mail
// it concerns without a database lookup: the company puts it in the link
// (https://desk/r/TOKEN) and in the Message-ID (<nm1.TOKEN@mail.example.com>),
// and only the desk's keys can open it.
//
//	token     = base64url, no padding (RFC 4648 section 5), of:
//	            version (1 byte, 0x01)
//	            key id  (1 byte, in clear, so Open tries the right key)
//	            nonce   (24 bytes, from crypto/rand)
//	            XChaCha20-Poly1305 ciphertext of the plaintext, then the 16-byte tag
//	            additional data = version and key id, so neither can be swapped
//	plaintext = issued-at   uvarint, Unix seconds (UTC)
//	            flags       1 byte: bit 0 recipient hash present,
//	                        bit 1 Message-ID hash present, other bits zero
//	            account ref uvarint length (1..128), then the bytes
//	            kind        uvarint length (1..64), then the bytes
//	            recipient hash  16 bytes, if flag bit 0
//	            Message-ID hash 16 bytes, if flag bit 1
//
// Decoding is strict, so one set of bytes has exactly one token: base64 with
// nonzero padding bits, a non-minimal uvarint, a length out of range, an
// unknown flag bit or a trailing byte makes the token invalid. The characters
// are only [A-Za-z0-9_-], which fits a URL path segment and the dot-atom of a
// Message-ID's left part (RFC 5322 section 3.2.3, atext). A token is 64 to
// 368 characters; an account ref of 12 bytes, kind "registration" and both
// hashes make 142.
//
// Keys rotate: the newest key seals, every configured key opens. Any token
// that does not open, for whatever reason, yields ErrInvalid and nothing
// more, so a prober learns nothing.

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Key is one sealing key. ID is written in clear in the token so the
// right key is tried.
type Key struct {
	ID     byte
	Secret []byte // exactly 32 bytes
}

// String names the key without its secret, so a key printed by mistake leaks
// nothing.
func (k Key) String() string { return fmt.Sprintf("token key %d", k.ID) }

// GoString keeps %#v from printing the secret.
func (k Key) GoString() string { return k.String() }

// LogValue logs the key's ID only.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", int(k.ID)))
}

// Claims is what a sealed token carries.
type Claims struct {
	KeyID         byte      // set by Open: which key opened it
	AccountRef    string    // required, 1..128 bytes
	Kind          string    // required, 1..64 bytes, message kind name
	IssuedAt      time.Time // seconds precision, UTC
	RecipientHash []byte    // optional: nil or exactly 16 bytes (see RecipientHash)
	MessageIDHash []byte    // optional: nil or exactly 16 bytes (see MessageIDHash)
}

// ErrInvalid is the only error Open returns for any bad token: tampered,
// truncated, unknown key, wrong version, garbage. It says nothing more.
var ErrInvalid = errors.New("token does not open")

// SecretLen is the length of a token key's secret, in bytes.
const SecretLen = tokenSecretLen

const (
	tokenVersion     = 0x01
	tokenHeaderLen   = 2 // version, key id
	tokenNonceLen    = chacha20poly1305.NonceSizeX
	tokenTagLen      = chacha20poly1305.Overhead
	tokenSecretLen   = chacha20poly1305.KeySize
	tokenHashLen     = 16
	tokenMaxAccount  = 128
	tokenMaxKind     = 64
	tokenFlagRcpt    = 1 << 0
	tokenFlagMsgID   = 1 << 1
	tokenFlagsKnown  = tokenFlagRcpt | tokenFlagMsgID
	tokenMaxUnixSecs = 253402300799 // 9999-12-31T23:59:59Z, a 6-byte uvarint

	// Plaintext bounds: issued-at, flags, two length-prefixed strings, hashes.
	tokenMinPlain = 1 + 1 + (1 + 1) + (1 + 1)
	tokenMaxPlain = 6 + 1 + (2 + tokenMaxAccount) + (1 + tokenMaxKind) + 2*tokenHashLen

	tokenOverhead = tokenHeaderLen + tokenNonceLen + tokenTagLen
	tokenMinBytes = tokenOverhead + tokenMinPlain
	tokenMaxBytes = tokenOverhead + tokenMaxPlain

	// Lengths in characters of unpadded base64: 4 per 3 bytes, rounded up.
	tokenMinLen = (tokenMinBytes*4 + 2) / 3 // 64
	tokenMaxLen = (tokenMaxBytes*4 + 2) / 3 // 368
)

// tokenEncoding rejects nonzero padding bits, so no second spelling of a
// token decodes to the same bytes.
var tokenEncoding = base64.RawURLEncoding.Strict()

// tokenFirstChar is the character every token starts with: the top six bits
// of the version byte.
var tokenFirstChar = tokenEncoding.EncodeToString([]byte{tokenVersion})[0]

type sealKey struct {
	id   byte
	aead cipher.AEAD
	// nonceKey derives the nonce of SealDeterministic; it is derived from
	// the secret, never the secret itself, so the two uses stay apart.
	nonceKey []byte
	// statusKey derives the status token of a submission (StatusToken).
	statusKey []byte
}

// Sealer seals and opens tokens. It is safe for concurrent use.
type Sealer struct {
	keys []sealKey // newest first; keys[0] seals
	now  func() time.Time
	rand io.Reader // nonce source; tests replace it to make tokens repeatable
}

// NewSealer returns a Sealer for keys, newest first: keys[0] seals, all of
// them open. now is the clock for IssuedAt; nil means time.Now.
func NewSealer(keys []Key, now func() time.Time) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("new sealer: no token keys")
	}
	if now == nil {
		now = time.Now
	}
	s := &Sealer{now: now, rand: rand.Reader}
	seen := make(map[byte]bool, len(keys))
	for i, k := range keys {
		if len(k.Secret) != tokenSecretLen {
			return nil, fmt.Errorf("new sealer: token key %d (#%d) has a %d-byte secret, want %d", k.ID, i+1, len(k.Secret), tokenSecretLen)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("new sealer: token key id %d is listed twice", k.ID)
		}
		seen[k.ID] = true
		aead, err := chacha20poly1305.NewX(k.Secret) // copies the secret
		if err != nil {
			return nil, fmt.Errorf("new sealer: token key %d: %w", k.ID, err)
		}
		nk := hmac.New(sha256.New, k.Secret)
		nk.Write([]byte("notme token nonce key v1"))
		sk := hmac.New(sha256.New, k.Secret)
		sk.Write([]byte("notme status token key v1"))
		s.keys = append(s.keys, sealKey{id: k.ID, aead: aead, nonceKey: nk.Sum(nil), statusKey: sk.Sum(nil)})
	}
	return s, nil
}

// statusToken derives the status token of the report filed by submission,
// so that the same submission sent again (a double click, a retry after an
// instance died) gets the same token and finds that report. It is keyed:
// the submission alone does not tell anyone the token. Same length as
// ident.RandomToken(18).
func (s *Sealer) StatusToken(submission string) string {
	m := hmac.New(sha256.New, s.keys[0].statusKey)
	m.Write([]byte(submission))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// ClientKey is the stored key of a client (an address that reported): keyed,
// so that a table of addresses cannot be hashed to find who reported.
func (s *Sealer) ClientKey(client string) []byte {
	m := hmac.New(sha256.New, s.keys[0].statusKey)
	m.Write([]byte("notme-client\x00" + client))
	return m.Sum(nil)[:16]
}

// Seal returns the token for c under the newest key. A zero IssuedAt is
// set from the clock; IssuedAt is kept to the second. c.KeyID is ignored.
func (s *Sealer) Seal(c Claims) (string, error) { return s.seal(c, false) }

// SealDeterministic seals c with a nonce derived from the key and the
// plaintext (SIV-style), so the same claims give the same token: a ledger
// registration retried after a timeout gets the link it may already have
// mailed. It needs IssuedAt set; equal claims yield equal tokens, which is
// all it reveals.
func (s *Sealer) SealDeterministic(c Claims) (string, error) {
	if c.IssuedAt.IsZero() {
		return "", errors.New("seal token: deterministic sealing needs IssuedAt")
	}
	return s.seal(c, true)
}

func (s *Sealer) seal(c Claims, deterministic bool) (string, error) {
	issued := c.IssuedAt
	if issued.IsZero() {
		issued = s.now()
	}
	secs := issued.Unix()
	if secs < 0 || secs > tokenMaxUnixSecs {
		return "", fmt.Errorf("seal token: issued-at %s is outside 1970..9999", issued.UTC().Format(time.RFC3339))
	}
	if n := len(c.AccountRef); n < 1 || n > tokenMaxAccount {
		return "", fmt.Errorf("seal token: account ref is %d bytes, want 1..%d", n, tokenMaxAccount)
	}
	if n := len(c.Kind); n < 1 || n > tokenMaxKind {
		return "", fmt.Errorf("seal token: kind is %d bytes, want 1..%d", n, tokenMaxKind)
	}
	if c.RecipientHash != nil && len(c.RecipientHash) != tokenHashLen {
		return "", fmt.Errorf("seal token: recipient hash is %d bytes, want none or %d", len(c.RecipientHash), tokenHashLen)
	}
	if c.MessageIDHash != nil && len(c.MessageIDHash) != tokenHashLen {
		return "", fmt.Errorf("seal token: message-id hash is %d bytes, want none or %d", len(c.MessageIDHash), tokenHashLen)
	}

	plain := make([]byte, 0, tokenMaxPlain)
	plain = binary.AppendUvarint(plain, uint64(secs))
	var flags byte
	if c.RecipientHash != nil {
		flags |= tokenFlagRcpt
	}
	if c.MessageIDHash != nil {
		flags |= tokenFlagMsgID
	}
	plain = append(plain, flags)
	plain = binary.AppendUvarint(plain, uint64(len(c.AccountRef)))
	plain = append(plain, c.AccountRef...)
	plain = binary.AppendUvarint(plain, uint64(len(c.Kind)))
	plain = append(plain, c.Kind...)
	plain = append(plain, c.RecipientHash...)
	plain = append(plain, c.MessageIDHash...)

	k := s.keys[0]
	buf := make([]byte, tokenHeaderLen+tokenNonceLen, tokenOverhead+len(plain))
	buf[0], buf[1] = tokenVersion, k.id
	nonce := buf[tokenHeaderLen:]
	if deterministic {
		m := hmac.New(sha256.New, k.nonceKey)
		m.Write(buf[:tokenHeaderLen])
		m.Write(plain)
		copy(nonce, m.Sum(nil)[:tokenNonceLen])
	} else if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return "", fmt.Errorf("seal token: read nonce: %w", err)
	}
	buf = k.aead.Seal(buf, nonce, plain, buf[:tokenHeaderLen])
	return tokenEncoding.EncodeToString(buf), nil
}

// Open returns the claims sealed in token by any configured key, with KeyID
// set to that key. Any failure is ErrInvalid.
func (s *Sealer) Open(token string) (Claims, error) {
	if !LooksLikeToken(token) { // bounds the work before decoding
		return Claims{}, ErrInvalid
	}
	raw, err := tokenEncoding.DecodeString(token)
	if err != nil || len(raw) < tokenMinBytes || len(raw) > tokenMaxBytes || raw[0] != tokenVersion {
		return Claims{}, ErrInvalid
	}
	var aead cipher.AEAD
	for _, k := range s.keys {
		if k.id == raw[1] {
			aead = k.aead
			break
		}
	}
	if aead == nil {
		return Claims{}, ErrInvalid
	}
	nonce := raw[tokenHeaderLen : tokenHeaderLen+tokenNonceLen]
	plain, err := aead.Open(nil, nonce, raw[tokenHeaderLen+tokenNonceLen:], raw[:tokenHeaderLen])
	if err != nil {
		return Claims{}, ErrInvalid
	}
	c, ok := decodeClaims(plain)
	if !ok {
		return Claims{}, ErrInvalid
	}
	c.KeyID = raw[1]
	return c, nil
}

// decodeClaims parses a plaintext strictly; see the format at the top.
// Authentication makes a malformed plaintext unlikely, but a key shared with
// a buggy or older sealer must still not yield half-read claims.
func decodeClaims(p []byte) (Claims, bool) {
	var c Claims
	secs, p, ok := readUvarint(p)
	if !ok || secs > tokenMaxUnixSecs || len(p) < 1 {
		return Claims{}, false
	}
	c.IssuedAt = time.Unix(int64(secs), 0).UTC()
	flags := p[0]
	p = p[1:]
	if flags&^tokenFlagsKnown != 0 {
		return Claims{}, false
	}
	var acct, kind []byte
	if acct, p, ok = readBytes(p, tokenMaxAccount); !ok {
		return Claims{}, false
	}
	if kind, p, ok = readBytes(p, tokenMaxKind); !ok {
		return Claims{}, false
	}
	c.AccountRef, c.Kind = string(acct), string(kind)
	if flags&tokenFlagRcpt != 0 {
		if len(p) < tokenHashLen {
			return Claims{}, false
		}
		c.RecipientHash, p = p[:tokenHashLen:tokenHashLen], p[tokenHashLen:]
	}
	if flags&tokenFlagMsgID != 0 {
		if len(p) < tokenHashLen {
			return Claims{}, false
		}
		c.MessageIDHash, p = p[:tokenHashLen:tokenHashLen], p[tokenHashLen:]
	}
	if len(p) != 0 {
		return Claims{}, false
	}
	return c, true
}

// readUvarint reads a minimally encoded uvarint from the front of p.
func readUvarint(p []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(p)
	if n <= 0 || (n > 1 && p[n-1] == 0) { // a zero last byte is a needless extra byte
		return 0, nil, false
	}
	return v, p[n:], true
}

// readBytes reads a uvarint length in 1..limit, then that many bytes.
func readBytes(p []byte, limit int) ([]byte, []byte, bool) {
	n, p, ok := readUvarint(p)
	if !ok || n < 1 || n > uint64(limit) || n > uint64(len(p)) {
		return nil, nil, false
	}
	return p[:n], p[n:], true
}

// RecipientHash returns the first 16 bytes of SHA-256 over
// "notme-recipient\x00" and the lower-cased, trimmed address. A token carries
// the hash, not the address, so a leaked token does not reveal who got it.
func RecipientHash(addr string) []byte {
	return tokenHash("notme-recipient\x00", strings.ToLower(strings.TrimSpace(addr)))
}

// MessageIDHash returns the first 16 bytes of SHA-256 over "notme-msgid\x00"
// and the Message-ID without its angle brackets and surrounding space. Case
// is kept: the left part of a Message-ID is case-sensitive.
func MessageIDHash(messageID string) []byte {
	id := strings.TrimSpace(messageID)
	id = strings.TrimPrefix(id, "<")
	id = strings.TrimSuffix(id, ">")
	return tokenHash("notme-msgid\x00", strings.TrimSpace(id))
}

func tokenHash(domain, s string) []byte {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write([]byte(s))
	return h.Sum(nil)[:tokenHashLen:tokenHashLen]
}

// LooksLikeToken is a cheap syntactic check, used before Open when scanning
// text: the first character of the current version, only [A-Za-z0-9_-], and a
// length a sealed token can have. It accepts every token Seal produces.
func LooksLikeToken(s string) bool {
	if len(s) < tokenMinLen || len(s) > tokenMaxLen || len(s)%4 == 1 || s[0] != tokenFirstChar {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
