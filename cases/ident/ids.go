package ident

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// crockford is Crockford's base-32 alphabet: no I, L, O or U, so a case
// reference read out on the phone survives.
var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewCaseRef returns a reference such as "NM-7K3Q-9XRD" (40 random bits).
// It is the one identifier every channel shares; it grants nothing.
func NewCaseRef() string {
	var b [5]byte
	rand.Read(b[:])
	s := crockford.EncodeToString(b[:])
	return "NM-" + s[:4] + "-" + s[4:]
}

// NormalizeCaseRef upper-cases a reference typed by a person and maps the
// letters Crockford's alphabet leaves out to the digits they look like.
func NormalizeCaseRef(ref string) string {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	ref = strings.TrimPrefix(ref, "NM-")
	ref = strings.NewReplacer("O", "0", "I", "1", "L", "1", "-", "").Replace(ref)
	if len(ref) != 8 {
		return ""
	}
	return "NM-" + ref[:4] + "-" + ref[4:]
}

// RandomToken returns n random bytes, base64url without padding.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is the stored form of a high-entropy secret (session, status
// token, API key): SHA-256 is enough, there is nothing to brute-force.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CrockfordRandom returns n random bytes in Crockford's base 32.
func CrockfordRandom(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return crockford.EncodeToString(b)
}
