package app

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

const redacted = "[redacted]"

// Secret holds a token key, a password or a database URL with credentials.
// Every way of printing it (fmt with any verb, slog, YAML, JSON) shows
// "[redacted]", so a config or struct that carries one can be logged whole;
// only Reveal gives the value. An empty Secret prints as "" so that "not set"
// stays visible.
type Secret string

// Reveal returns the value. Call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

func (s Secret) GoString() string { return s.String() }

// Format covers the verbs String does not: without it fmt.Sprintf("%d", s)
// or "%x" inside a struct would print the bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
		return
	}
	_, _ = io.WriteString(f, s.String())
}

func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText redacts for encoders that only know encoding.TextMarshaler
// (map keys, some loggers).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// TokenSecret is one resolved sealing key.
type TokenSecret struct {
	ID  byte
	Key []byte
}

func (t TokenSecret) String() string {
	return "token key " + strconv.Itoa(int(t.ID)) + " " + redacted
}

func (t TokenSecret) GoString() string { return t.String() }

func (t TokenSecret) Format(f fmt.State, verb rune) {
	_, _ = io.WriteString(f, t.String())
}

func (t TokenSecret) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", int(t.ID)), slog.String("key", redacted))
}

func (t TokenSecret) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"id": t.ID, "key": redacted})
}
