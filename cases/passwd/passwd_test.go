package passwd

import (
	"strings"
	"testing"
)

const goodPassword = "correct horse battery"

func TestCheck(t *testing.T) {
	h := Hash(goodPassword)
	if !Check(h, goodPassword) {
		t.Fatalf("Check(Hash(p), p) = false")
	}
	if h2 := Hash(goodPassword); h2 == h {
		t.Errorf("Hash() twice gave the same hash: the salt is not random")
	}
	parts := strings.Split(h, "$") // "", argon2id, v=19, m=…,t=…,p=…, salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	flip := func(s string) string {
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", goodPassword},
		{"argon2i", with(1, "argon2i")},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"old version", with(2, "v=16")},
		{"version junk", with(2, "v=x")},
		{"other memory", with(3, "m=19456,t=3,p=1")},
		{"huge memory", with(3, "m=4194304,t=2,p=1")},
		{"many passes", with(3, "m=19456,t=1000,p=1")},
		{"no lanes", with(3, "m=19456,t=2,p=0")},
		{"params junk", with(3, "m=a,t=b,p=c")},
		{"salt changed", with(4, flip(parts[4]))},
		{"salt not base64", with(4, "!!!")},
		{"key changed", with(5, flip(parts[5]))},
		{"key truncated", with(5, parts[5][:20])},
		{"key empty", with(5, "")},
		{"key not base64", with(5, "***")},
		{"extra field", h + "$x"},
		{"missing field", strings.Join(parts[:5], "$")},
	}
	for _, tt := range tests {
		if Check(tt.hash, goodPassword) {
			t.Errorf("Check(%s hash, right password) = true, want false", tt.name)
		}
	}
	if Check(h, goodPassword+" ") || Check(h, "") {
		t.Errorf("Check(hash, wrong password) = true")
	}
}

func TestGenerate(t *testing.T) {
	a, b := Generate(), Generate()
	if len(a) != 20 || a == b {
		t.Errorf("Generate() = %q then %q, want two different 20-character passwords", a, b)
	}
	if strings.ContainsAny(a+b, "0O1lI") {
		t.Errorf("Generate() = %q, %q: contains a look-alike character", a, b)
	}
}
