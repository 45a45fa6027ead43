package ident

import (
	"strings"
	"testing"
)

func TestNormalizeCaseRef(t *testing.T) {
	tests := []struct{ in, want string }{
		{"NM-7K3Q-9XRD", "NM-7K3Q-9XRD"},
		{"nm-7k3q-9xrd", "NM-7K3Q-9XRD"},
		{"7k3q9xrd", "NM-7K3Q-9XRD"},
		{"NM-O0I1-L000", "NM-0011-1000"},
		{"NM-7K3Q-9XR", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeCaseRef(tt.in); got != tt.want {
			t.Errorf("NormalizeCaseRef(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for range 50 {
		if ref := NewCaseRef(); NormalizeCaseRef(ref) != ref || len(ref) != 12 {
			t.Fatalf("NormalizeCaseRef(NewCaseRef() = %q) = %q, want it unchanged", ref, NormalizeCaseRef(ref))
		}
	}
}

func TestRandomValues(t *testing.T) {
	a, b := RandomToken(18), RandomToken(18)
	if len(a) != 24 || a == b || strings.ContainsAny(a, "+/=") {
		t.Errorf("RandomToken(18) = %q then %q, want two different 24-character base64url strings", a, b)
	}
	if c := CrockfordRandom(5); len(c) != 8 || strings.ContainsAny(c, "ILOU") {
		t.Errorf("CrockfordRandom(5) = %q, want 8 characters of Crockford's alphabet", c)
	}
	if h := HashSecret(a); len(h) != 32 || string(h) == string(HashSecret(b)) {
		t.Errorf("HashSecret() = %x, want 32 bytes that differ per secret", h)
	}
}
