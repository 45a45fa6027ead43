package sealed

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTokenKey derives a fixed 32-byte secret from label, so tests and
// every fuzz worker agree on the keys.
func testTokenKey(id byte, label string) Key {
	sum := sha256.Sum256([]byte("notme test token key\x00" + label))
	return Key{ID: id, Secret: sum[:]}
}

var testTokenNow = time.Date(2026, 5, 4, 9, 30, 15, 0, time.UTC)

func testTokenClock() time.Time { return testTokenNow }

func newTestSealer(t testing.TB, keys ...Key) *Sealer {
	t.Helper()
	s, err := NewSealer(keys, testTokenClock)
	if err != nil {
		t.Fatalf("NewSealer(%v) = %v", keys, err)
	}
	return s
}

// deterministic makes s draw nonces from a fixed stream, so the same calls
// give the same tokens in every process.
func deterministic(s *Sealer, seed byte) *Sealer {
	s.rand = mathrand.NewChaCha8([32]byte{seed})
	return s
}

func sealOK(t testing.TB, s *Sealer, c Claims) string {
	t.Helper()
	tok, err := s.Seal(c)
	if err != nil {
		t.Fatalf("Seal(%+v) = %v", c, err)
	}
	return tok
}

// claimsDiff describes how got differs from want, or returns "".
func claimsDiff(got, want Claims) string {
	var d []string
	if got.KeyID != want.KeyID {
		d = append(d, fmt.Sprintf("KeyID %d, want %d", got.KeyID, want.KeyID))
	}
	if got.AccountRef != want.AccountRef {
		d = append(d, fmt.Sprintf("AccountRef %q, want %q", got.AccountRef, want.AccountRef))
	}
	if got.Kind != want.Kind {
		d = append(d, fmt.Sprintf("Kind %q, want %q", got.Kind, want.Kind))
	}
	if !got.IssuedAt.Equal(want.IssuedAt) || got.IssuedAt.Location() != time.UTC {
		d = append(d, fmt.Sprintf("IssuedAt %v, want %v in UTC", got.IssuedAt, want.IssuedAt))
	}
	if !bytes.Equal(got.RecipientHash, want.RecipientHash) || (got.RecipientHash == nil) != (want.RecipientHash == nil) {
		d = append(d, fmt.Sprintf("RecipientHash %x, want %x", got.RecipientHash, want.RecipientHash))
	}
	if !bytes.Equal(got.MessageIDHash, want.MessageIDHash) || (got.MessageIDHash == nil) != (want.MessageIDHash == nil) {
		d = append(d, fmt.Sprintf("MessageIDHash %x, want %x", got.MessageIDHash, want.MessageIDHash))
	}
	return strings.Join(d, "; ")
}

func TestTokenRoundTrip(t *testing.T) {
	key := testTokenKey(7, "round trip")
	s := newTestSealer(t, key)
	rcpt := RecipientHash("alice@example.com")
	msgid := MessageIDHash("<nm1.x@mail.example.com>")
	at := time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)

	tests := []struct {
		name    string
		in      Claims
		wantAt  time.Time
		wantLen int // 0: not checked
	}{
		{"minimal, clock", Claims{AccountRef: "a", Kind: "k"}, testTokenNow, 0},
		{"explicit issued-at", Claims{AccountRef: "acct-1", Kind: "registration", IssuedAt: at}, at, 0},
		{"sub-second and zone dropped",
			Claims{AccountRef: "acct-1", Kind: "registration", IssuedAt: time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.FixedZone("X", 3600))},
			time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC), 0},
		{"unix epoch", Claims{AccountRef: "a", Kind: "k", IssuedAt: time.Unix(0, 0)}, time.Unix(0, 0), 0},
		{"last second of 9999", Claims{AccountRef: "a", Kind: "k", IssuedAt: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
			time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), 0},
		{"recipient hash", Claims{AccountRef: "acct-1", Kind: "password-reset", RecipientHash: rcpt}, testTokenNow, 0},
		{"message-id hash", Claims{AccountRef: "acct-1", Kind: "password-reset", MessageIDHash: msgid}, testTokenNow, 0},
		{"both hashes, 12-byte account, registration",
			Claims{AccountRef: "acct-0000042", Kind: "registration", RecipientHash: rcpt, MessageIDHash: msgid}, testTokenNow, 142},
		{"longest fields", Claims{AccountRef: strings.Repeat("a", 128), Kind: strings.Repeat("k", 64),
			IssuedAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), RecipientHash: rcpt, MessageIDHash: msgid},
			time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), tokenMaxLen},
		{"any bytes in strings", Claims{AccountRef: "ü\x00\xff/.@", Kind: "a b"}, testTokenNow, 0},
		{"KeyID on input ignored", Claims{KeyID: 99, AccountRef: "a", Kind: "k"}, testTokenNow, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sealOK(t, s, tt.in)
			if tt.wantLen != 0 && len(tok) != tt.wantLen {
				t.Errorf("len(Seal(%+v)) = %d, want %d", tt.in, len(tok), tt.wantLen)
			}
			if !LooksLikeToken(tok) {
				t.Errorf("LooksLikeToken(%q) = false for a sealed token", tok)
			}
			got, err := s.Open(tok)
			if err != nil {
				t.Fatalf("Open(%q) = %v", tok, err)
			}
			want := tt.in
			want.KeyID, want.IssuedAt = key.ID, tt.wantAt
			if d := claimsDiff(got, want); d != "" {
				t.Errorf("Open(Seal(%+v)): %s", tt.in, d)
			}
		})
	}
}

func TestSealFreshNonce(t *testing.T) {
	s := newTestSealer(t, testTokenKey(1, "nonce"))
	c := Claims{AccountRef: "a", Kind: "k"}
	if a, b := sealOK(t, s, c), sealOK(t, s, c); a == b {
		t.Errorf("Seal(%+v) twice = %q both times, want different nonces", c, a)
	}
}

func TestOpenHashesDoNotAlias(t *testing.T) {
	s := newTestSealer(t, testTokenKey(1, "alias"))
	c := Claims{AccountRef: "a", Kind: "k", RecipientHash: RecipientHash("a@b"), MessageIDHash: MessageIDHash("m@b")}
	got, err := s.Open(sealOK(t, s, c))
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	_ = append(got.RecipientHash, 0xff)
	if !bytes.Equal(got.MessageIDHash, c.MessageIDHash) {
		t.Errorf("appending to Open(...).RecipientHash changed MessageIDHash to %x", got.MessageIDHash)
	}
}

func TestTokenKeyRotation(t *testing.T) {
	oldKey := testTokenKey(1, "old")
	newKey := testTokenKey(2, "new")
	c := Claims{AccountRef: "acct-1", Kind: "registration"}

	oldOnly := newTestSealer(t, oldKey)
	oldTok := sealOK(t, oldOnly, c)

	rotated := newTestSealer(t, newKey, oldKey)
	got, err := rotated.Open(oldTok)
	if err != nil || got.KeyID != oldKey.ID {
		t.Errorf("[new, old].Open(old token) = KeyID %d, %v; want KeyID %d, nil", got.KeyID, err, oldKey.ID)
	}
	newTok := sealOK(t, rotated, c)
	got, err = rotated.Open(newTok)
	if err != nil || got.KeyID != newKey.ID {
		t.Errorf("[new, old].Open([new, old].Seal) = KeyID %d, %v; want KeyID %d, nil", got.KeyID, err, newKey.ID)
	}
	if _, err := oldOnly.Open(newTok); err != ErrInvalid {
		t.Errorf("[old].Open(new token) = %v, want ErrInvalid", err)
	}

	retired := newTestSealer(t, newKey)
	if _, err := retired.Open(oldTok); err != ErrInvalid {
		t.Errorf("[new].Open(old token) = %v, want ErrInvalid", err)
	}
	impostor := newTestSealer(t, testTokenKey(oldKey.ID, "impostor"))
	if _, err := impostor.Open(oldTok); err != ErrInvalid {
		t.Errorf("Open(token) with key id %d but another secret = %v, want ErrInvalid", oldKey.ID, err)
	}
}

func TestOpenTampered(t *testing.T) {
	keys := []Key{testTokenKey(1, "one"), testTokenKey(2, "two"), testTokenKey(3, "three")}
	s := newTestSealer(t, keys...)
	tok := sealOK(t, s, Claims{AccountRef: "acct-0000042", Kind: "registration",
		RecipientHash: RecipientHash("a@example.com"), MessageIDHash: MessageIDHash("<x@y>")})
	raw, err := tokenEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("decode sealed token: %v", err)
	}
	mustNotOpen := func(what, in string) {
		t.Helper()
		if c, err := s.Open(in); err != ErrInvalid {
			t.Fatalf("Open(%q) [%s] = %+v, %v; want ErrInvalid", in, what, c, err)
		}
	}

	t.Run("bit flips", func(t *testing.T) {
		for i := range len(raw) * 8 {
			b := bytes.Clone(raw)
			b[i/8] ^= 1 << (i % 8)
			mustNotOpen(fmt.Sprintf("bit %d flipped", i), tokenEncoding.EncodeToString(b))
		}
	})
	t.Run("truncated bytes", func(t *testing.T) {
		for n := range len(raw) {
			mustNotOpen(fmt.Sprintf("first %d bytes", n), tokenEncoding.EncodeToString(raw[:n]))
		}
	})
	t.Run("truncated text", func(t *testing.T) {
		for n := range len(tok) {
			mustNotOpen(fmt.Sprintf("first %d chars", n), tok[:n])
		}
	})
	t.Run("extended", func(t *testing.T) {
		mustNotOpen("extra byte", tokenEncoding.EncodeToString(append(bytes.Clone(raw), 0)))
		for _, suffix := range []string{"A", "AA", "=", "==", " ", "\n", "\r\n", "."} {
			mustNotOpen(fmt.Sprintf("suffix %q", suffix), tok+suffix)
		}
		mustNotOpen("newline inside", tok[:40]+"\n"+tok[40:])
		mustNotOpen("space before", " "+tok)
	})
	t.Run("key id swapped", func(t *testing.T) {
		for id := range 256 {
			if byte(id) == raw[1] {
				continue
			}
			b := bytes.Clone(raw)
			b[1] = byte(id)
			mustNotOpen(fmt.Sprintf("key id %d", id), tokenEncoding.EncodeToString(b))
		}
	})
	t.Run("version changed", func(t *testing.T) {
		for v := range 256 {
			if v == tokenVersion {
				continue
			}
			b := bytes.Clone(raw)
			b[0] = byte(v)
			mustNotOpen(fmt.Sprintf("version %d", v), tokenEncoding.EncodeToString(b))
		}
	})
	t.Run("other spelling of the last character", func(t *testing.T) {
		// A 106-byte token ends in a character of which only the top 2 bits
		// count; a lax decoder would accept 15 other last characters.
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for _, c := range alphabet {
			if in := tok[:len(tok)-1] + string(c); in != tok {
				mustNotOpen("last char "+string(c), in)
			}
		}
	})
	t.Run("forged plaintexts under a real key", func(t *testing.T) {
		// A plaintext that authenticates but is malformed, as a buggy sealer
		// holding the key could make, must not open either.
		k := s.keys[0]
		forge := func(plain []byte) string {
			b := []byte{tokenVersion, k.id}
			nonce := bytes.Repeat([]byte{9}, tokenNonceLen)
			b = append(b, nonce...)
			return tokenEncoding.EncodeToString(k.aead.Seal(b, nonce, plain, b[:tokenHeaderLen]))
		}
		if _, err := s.Open(forge([]byte{5, 0, 1, 'a', 1, 'k'})); err != nil {
			t.Fatalf("Open(forged well-formed plaintext) = %v, want it to open (the forge helper is wrong)", err)
		}
		hash := bytes.Repeat([]byte{7}, tokenHashLen)
		bad := []struct {
			name  string
			plain []byte
		}{
			{"empty", nil},
			{"only time", []byte{5}},
			{"non-minimal uvarint time", []byte{0x85, 0x00, 0, 1, 'a', 1, 'k'}},
			{"time after 9999", append(appendUvarint(nil, tokenMaxUnixSecs+1), 0, 1, 'a', 1, 'k')},
			{"time overflows", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 1, 'a', 1, 'k'}},
			{"unknown flag", []byte{5, 4, 1, 'a', 1, 'k'}},
			{"empty account", []byte{5, 0, 0, 1, 'k'}},
			{"account longer than 128", append(append([]byte{5, 0, 0x81, 0x01}, bytes.Repeat([]byte{'a'}, 129)...), 1, 'k')},
			{"account length past end", []byte{5, 0, 9, 'a', 1, 'k'}},
			{"non-minimal account length", []byte{5, 0, 0x81, 0x00, 'a', 1, 'k'}},
			{"empty kind", []byte{5, 0, 1, 'a', 0}},
			{"kind longer than 64", append([]byte{5, 0, 1, 'a', 65}, bytes.Repeat([]byte{'k'}, 65)...)},
			{"no kind", []byte{5, 0, 1, 'a'}},
			{"trailing byte", []byte{5, 0, 1, 'a', 1, 'k', 0}},
			{"recipient flag, no hash", []byte{5, 1, 1, 'a', 1, 'k'}},
			{"recipient flag, short hash", append([]byte{5, 1, 1, 'a', 1, 'k'}, hash[:15]...)},
			{"both flags, one hash", append([]byte{5, 3, 1, 'a', 1, 'k'}, hash...)},
			{"hash without flag", append([]byte{5, 0, 1, 'a', 1, 'k'}, hash...)},
		}
		for _, tt := range bad {
			mustNotOpen(tt.name, forge(tt.plain))
		}
	})
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func TestOpenGarbage(t *testing.T) {
	s := newTestSealer(t, testTokenKey(1, "garbage"))
	tok := sealOK(t, s, Claims{AccountRef: "a", Kind: "k"})
	tests := []string{
		"",
		"A",
		"not a token",
		strings.Repeat("A", tokenMinLen),
		strings.Repeat("A", tokenMaxLen),
		strings.Repeat("A", 100_000),
		strings.Repeat("_", 100),
		strings.ReplaceAll(tok, "A", "+"),
		"https://desk/r/" + tok,
		"nm1." + tok,
		"<" + tok + ">",
		strings.ToUpper(tok),
		"AQ" + strings.Repeat("é", 40),
		"AQ\x00" + strings.Repeat("A", 80),
	}
	for _, in := range tests {
		if c, err := s.Open(in); err != ErrInvalid {
			t.Errorf("Open(%q) = %+v, %v; want ErrInvalid", in, c, err)
		}
	}
	if got := ErrInvalid.Error(); got != "token does not open" {
		t.Errorf("ErrInvalid.Error() = %q, want the fixed message", got)
	}
}

func TestSealInvalid(t *testing.T) {
	s := newTestSealer(t, testTokenKey(1, "seal invalid"))
	tests := []struct {
		name     string
		in       Claims
		wantWord string // the field the error must name
	}{
		{"empty account", Claims{Kind: "k"}, "account"},
		{"account too long", Claims{AccountRef: strings.Repeat("a", 129), Kind: "k"}, "account"},
		{"empty kind", Claims{AccountRef: "a"}, "kind"},
		{"kind too long", Claims{AccountRef: "a", Kind: strings.Repeat("k", 65)}, "kind"},
		{"recipient hash 15 bytes", Claims{AccountRef: "a", Kind: "k", RecipientHash: make([]byte, 15)}, "recipient"},
		{"recipient hash 17 bytes", Claims{AccountRef: "a", Kind: "k", RecipientHash: make([]byte, 17)}, "recipient"},
		{"recipient hash empty, not nil", Claims{AccountRef: "a", Kind: "k", RecipientHash: []byte{}}, "recipient"},
		{"message-id hash 32 bytes", Claims{AccountRef: "a", Kind: "k", MessageIDHash: make([]byte, 32)}, "message-id"},
		{"issued before 1970", Claims{AccountRef: "a", Kind: "k", IssuedAt: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)}, "issued-at"},
		{"issued after 9999", Claims{AccountRef: "a", Kind: "k", IssuedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "issued-at"},
	}
	for _, tt := range tests {
		tok, err := s.Seal(tt.in)
		if err == nil {
			t.Errorf("Seal(%s) = %q, nil; want an error", tt.name, tok)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantWord) {
			t.Errorf("Seal(%s) = %v, want an error naming %q", tt.name, err, tt.wantWord)
		}
	}
}

func TestSealNonceError(t *testing.T) {
	s := newTestSealer(t, testTokenKey(1, "nonce error"))
	s.rand = bytes.NewReader(make([]byte, tokenNonceLen-1))
	if tok, err := s.Seal(Claims{AccountRef: "a", Kind: "k"}); err == nil {
		t.Errorf("Seal with a short nonce source = %q, nil; want an error", tok)
	}
}

func TestNewSealerErrors(t *testing.T) {
	good := testTokenKey(1, "good")
	tests := []struct {
		name string
		keys []Key
	}{
		{"nil", nil},
		{"empty", []Key{}},
		{"nil secret", []Key{{ID: 1}}},
		{"31-byte secret", []Key{{ID: 1, Secret: make([]byte, 31)}}},
		{"33-byte secret", []Key{{ID: 1, Secret: make([]byte, 33)}}},
		{"second key bad", []Key{good, {ID: 2, Secret: make([]byte, 16)}}},
		{"duplicate id", []Key{good, testTokenKey(1, "other")}},
		{"same key twice", []Key{good, good}},
	}
	for _, tt := range tests {
		if s, err := NewSealer(tt.keys, testTokenClock); err == nil || s != nil {
			t.Errorf("NewSealer(%s) = %v, %v; want nil, an error", tt.name, s, err)
		} else if bytes.Contains([]byte(err.Error()), good.Secret) {
			t.Errorf("NewSealer(%s) = %v, the error holds a secret", tt.name, err)
		}
	}

	s, err := NewSealer([]Key{good, testTokenKey(0, "zero id")}, nil)
	if err != nil {
		t.Fatalf("NewSealer(two keys, nil clock) = %v", err)
	}
	before := time.Now().Add(-time.Second)
	c, err := s.Open(sealOK(t, s, Claims{AccountRef: "a", Kind: "k"}))
	if err != nil || c.IssuedAt.Before(before) || c.IssuedAt.After(time.Now()) {
		t.Errorf("Open(Seal) with nil clock = IssuedAt %v, %v; want about now", c.IssuedAt, err)
	}
}

func TestNewSealerCopiesSecret(t *testing.T) {
	key := testTokenKey(1, "copy")
	s := newTestSealer(t, key)
	tok := sealOK(t, s, Claims{AccountRef: "a", Kind: "k"})
	clear(key.Secret)
	if _, err := s.Open(tok); err != nil {
		t.Errorf("Open after the caller cleared its secret = %v, want the Sealer to keep its own copy", err)
	}
}

func TestTokenKeyRedacted(t *testing.T) {
	key := Key{ID: 3, Secret: []byte("0123456789abcdef0123456789ABCDEF")}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("k", "key", key)
	for _, out := range []string{fmt.Sprint(key), fmt.Sprintf("%v %+v %#v %s", key, key, key, key), logged.String()} {
		if strings.Contains(out, "0123") || strings.Contains(out, fmt.Sprint(key.Secret[:4])) {
			t.Errorf("formatting a Key = %q, it shows the secret", out)
		}
	}
}

func TestSealerConcurrent(t *testing.T) {
	s := newTestSealer(t, testTokenKey(1, "concurrent"), testTokenKey(2, "old"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c := Claims{AccountRef: fmt.Sprint("acct-", i), Kind: "k"}
			for range 50 {
				tok, err := s.Seal(c)
				if err != nil {
					t.Errorf("Seal = %v", err)
					return
				}
				if got, err := s.Open(tok); err != nil || got.AccountRef != c.AccountRef {
					t.Errorf("Open(Seal(%q)) = %q, %v", c.AccountRef, got.AccountRef, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestLooksLikeToken(t *testing.T) {
	s := newTestSealer(t, testTokenKey(255, "looks"))
	accept := []string{
		sealOK(t, s, Claims{AccountRef: "a", Kind: "k", IssuedAt: time.Unix(0, 0)}),
		sealOK(t, s, Claims{AccountRef: "acct-0000042", Kind: "registration", RecipientHash: RecipientHash("a@b")}),
		sealOK(t, s, Claims{AccountRef: strings.Repeat("a", 128), Kind: strings.Repeat("k", 64),
			IssuedAt:      time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
			RecipientHash: RecipientHash("a@b"), MessageIDHash: MessageIDHash("c@d")}),
	}
	if n := len(accept[0]); n != tokenMinLen {
		t.Errorf("len(smallest sealed token) = %d, want tokenMinLen %d", n, tokenMinLen)
	}
	if n := len(accept[2]); n != tokenMaxLen {
		t.Errorf("len(largest sealed token) = %d, want tokenMaxLen %d", n, tokenMaxLen)
	}
	for _, in := range accept {
		if !LooksLikeToken(in) {
			t.Errorf("LooksLikeToken(%q) = false for a sealed token", in)
		}
	}
	tok := accept[1]
	reject := []string{
		"",
		"nm1",
		"registration",
		tok[:tokenMinLen-1],
		tok + strings.Repeat("A", tokenMaxLen),
		strings.Repeat("A", 4*((tokenMinLen+3)/4)+1), // a length base64 never has
		"B" + tok[1:], // not version 1
		tok[:30] + "+" + tok[31:],
		tok[:30] + "/" + tok[31:],
		tok[:30] + "." + tok[31:],
		tok[:30] + " " + tok[31:],
		tok + "=",
		"<" + tok + ">",
		tok[:30] + "é" + tok[32:],
	}
	for _, in := range reject {
		if LooksLikeToken(in) {
			t.Errorf("LooksLikeToken(%q) = true, want false", in)
		}
	}
}

func TestTokenHashes(t *testing.T) {
	trunc := func(s string) []byte { sum := sha256.Sum256([]byte(s)); return sum[:16] }
	tests := []struct {
		call string
		got  []byte
		want []byte
	}{
		{`RecipientHash("alice@example.com")`, RecipientHash("alice@example.com"), trunc("notme-recipient\x00alice@example.com")},
		{`RecipientHash(" Alice@Example.COM\n")`, RecipientHash(" Alice@Example.COM\n"), trunc("notme-recipient\x00alice@example.com")},
		{`MessageIDHash("<Ab.1@mail.example.com>")`, MessageIDHash("<Ab.1@mail.example.com>"), trunc("notme-msgid\x00Ab.1@mail.example.com")},
		{`MessageIDHash(" <Ab.1@mail.example.com> ")`, MessageIDHash(" <Ab.1@mail.example.com> "), trunc("notme-msgid\x00Ab.1@mail.example.com")},
		{`MessageIDHash("Ab.1@mail.example.com")`, MessageIDHash("Ab.1@mail.example.com"), trunc("notme-msgid\x00Ab.1@mail.example.com")},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s = %x, want %x", tt.call, tt.got, tt.want)
		}
	}
	if bytes.Equal(MessageIDHash("<ab.1@x>"), MessageIDHash("<AB.1@x>")) {
		t.Errorf("MessageIDHash ignores case, want it kept")
	}
	if bytes.Equal(RecipientHash("x@y"), MessageIDHash("x@y")) {
		t.Errorf(`RecipientHash("x@y") = MessageIDHash("x@y"), want separate domains`)
	}
}

// fuzzSeedClaims are sealed for FuzzOpen's seed corpus.
var fuzzSeedClaims = []Claims{
	{AccountRef: "a", Kind: "k", IssuedAt: time.Unix(0, 0)},
	{AccountRef: "acct-0000042", Kind: "registration"},
	{AccountRef: "acct-0000042", Kind: "registration", RecipientHash: RecipientHash("a@example.com")},
	{AccountRef: "acct-0000042", Kind: "password-reset", MessageIDHash: MessageIDHash("<x@mail.example.com>")},
	{AccountRef: "acct-0000042", Kind: "registration", RecipientHash: RecipientHash("a@example.com"), MessageIDHash: MessageIDHash("<y@mail.example.com>")},
	{AccountRef: strings.Repeat("a", 128), Kind: strings.Repeat("k", 64), IssuedAt: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		RecipientHash: RecipientHash("b@example.com"), MessageIDHash: MessageIDHash("<z@mail.example.com>")},
}

// FuzzOpen checks that nothing opens but the exact tokens sealed here.
// Every fuzz worker runs this setup; fixed keys and a fixed nonce stream make
// them all seal the same tokens. The keys derive from the seed claims, so
// tokens cached in the fuzz corpus by an earlier version of this test do not
// open once the seeds change.
func FuzzOpen(f *testing.F) {
	label := fmt.Sprintf("%+v", fuzzSeedClaims)
	oldKey, newKey := testTokenKey(1, "fuzz old "+label), testTokenKey(2, "fuzz new "+label)
	s := deterministic(newTestSealer(f, newKey, oldKey), 1)
	old := deterministic(newTestSealer(f, oldKey), 2)

	sealed := make(map[string]bool)
	for _, c := range fuzzSeedClaims {
		for _, by := range []*Sealer{s, old} {
			tok := sealOK(f, by, c)
			sealed[tok] = true
			f.Add(tok)
		}
	}
	some := sealOK(f, s, fuzzSeedClaims[1])
	sealed[some] = true
	for _, in := range []string{
		"", "A", "AQ", "not a token", "nm1.x@mail.example.com",
		strings.Repeat("A", tokenMinLen), strings.Repeat("_", tokenMaxLen),
		some[:len(some)-1], some + "A", some[:20] + "B" + some[21:], "B" + some[1:],
	} {
		f.Add(in)
	}

	f.Fuzz(func(t *testing.T, in string) {
		c, err := s.Open(in)
		switch {
		case err == nil && !sealed[in]:
			t.Fatalf("Open(%q) = %+v, nil; want ErrInvalid for a token not sealed here", in, c)
		case err != nil && err != ErrInvalid:
			t.Fatalf("Open(%q) = %v, want ErrInvalid", in, err)
		case err != nil && sealed[in]:
			t.Fatalf("Open(%q) = %v for a token sealed here", in, err)
		case err == nil && !LooksLikeToken(in):
			t.Fatalf("LooksLikeToken(%q) = false for a token that opens", in)
		}
	})
}

// FuzzSealOpen seals arbitrary claims: invalid ones must fail to seal, valid
// ones must open to exactly what was sealed.
func FuzzSealOpen(f *testing.F) {
	key := testTokenKey(9, "fuzz seal open")
	s := newTestSealer(f, key)
	f.Add("acct-0000042", "registration", int64(1777887015), int64(0), "a@example.com", "<x@y>")
	f.Add("a", "k", int64(0), int64(999_999_999), "", "")
	f.Add(strings.Repeat("a", 128), strings.Repeat("k", 64), int64(tokenMaxUnixSecs), int64(0), "", "m@x")
	f.Add("", "k", int64(-1), int64(0), "", "")
	f.Add("a", strings.Repeat("k", 65), int64(tokenMaxUnixSecs+1), int64(0), "r", "")

	f.Fuzz(func(t *testing.T, account, kind string, secs, nsec int64, rcpt, msgid string) {
		in := Claims{AccountRef: account, Kind: kind, IssuedAt: time.Unix(secs, nsec%1e9)}
		if rcpt != "" {
			in.RecipientHash = RecipientHash(rcpt)
		}
		if msgid != "" {
			in.MessageIDHash = MessageIDHash(msgid)
		}
		wantAt := in.IssuedAt
		if wantAt.IsZero() {
			wantAt = testTokenNow
		}
		wantAt = time.Unix(wantAt.Unix(), 0).UTC()
		valid := len(account) >= 1 && len(account) <= tokenMaxAccount &&
			len(kind) >= 1 && len(kind) <= tokenMaxKind &&
			wantAt.Unix() >= 0 && wantAt.Unix() <= tokenMaxUnixSecs

		tok, err := s.Seal(in)
		if !valid {
			if err == nil {
				t.Fatalf("Seal(%+v) = %q, nil; want an error", in, tok)
			}
			return
		}
		if err != nil {
			t.Fatalf("Seal(%+v) = %v", in, err)
		}
		if !LooksLikeToken(tok) {
			t.Fatalf("LooksLikeToken(%q) = false for Seal(%+v)", tok, in)
		}
		got, err := s.Open(tok)
		if err != nil {
			t.Fatalf("Open(Seal(%+v)) = %v", in, err)
		}
		want := in
		want.KeyID, want.IssuedAt = key.ID, wantAt
		if d := claimsDiff(got, want); d != "" {
			t.Fatalf("Open(Seal(%+v)): %s", in, d)
		}
	})
}

func TestSealDeterministic(t *testing.T) {
	k1 := Key{ID: 1, Secret: bytes.Repeat([]byte{7}, 32)}
	k2 := Key{ID: 2, Secret: bytes.Repeat([]byte{9}, 32)}
	s, err := NewSealer([]Key{k1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	c := Claims{AccountRef: "ACC-1", Kind: "registration", IssuedAt: at, MessageIDHash: MessageIDHash("a@b")}
	t1, err1 := s.SealDeterministic(c)
	t2, err2 := s.SealDeterministic(c)
	if err1 != nil || err2 != nil || t1 != t2 {
		t.Fatalf("SealDeterministic twice = %q, %q (%v, %v); want the same token", t1, t2, err1, err2)
	}
	if got, err := s.Open(t1); err != nil || got.AccountRef != "ACC-1" || !got.IssuedAt.Equal(at) {
		t.Fatalf("Open(deterministic token) = %+v, %v", got, err)
	}
	c.MessageIDHash = MessageIDHash("other@b")
	if t3, _ := s.SealDeterministic(c); t3 == t1 {
		t.Fatalf("SealDeterministic of other claims gave the same token")
	}
	s2, _ := NewSealer([]Key{k2, k1}, nil)
	if t4, _ := s2.SealDeterministic(c); t4 == t1 {
		t.Fatalf("SealDeterministic under another key gave the same token")
	}
	if _, err := s.SealDeterministic(Claims{AccountRef: "A", Kind: "k"}); err == nil {
		t.Fatalf("SealDeterministic without IssuedAt = nil error, want one")
	}
}
