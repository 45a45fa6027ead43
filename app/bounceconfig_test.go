package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mail.bounce_senders reaches the parser, with the same rules as the
// feedback-loop senders: no name that trusts the whole world, and the
// desk's own MTA to vouch.
func TestBounceSendersConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notme.yaml")
	noEnv := func(string) (string, bool) { return "", false }
	os.WriteFile(file, []byte("mail: {trusted_authserv_ids: [mx.desk.example.com], bounce_senders: [amazonses.com]}\n"), 0o600)
	cfg, err := Load(file, noEnv)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if o := parserOptions(cfg); !slices.Equal(o.BounceSenders, []string{"amazonses.com"}) {
		t.Errorf("parserOptions().BounceSenders = %q, want [amazonses.com]", o.BounceSenders)
	}
	for _, tc := range []struct{ yaml, key string }{
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], bounce_senders: [com]}", "mail.bounce_senders[0]"},
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], bounce_senders: ['*']}", "mail.bounce_senders[0]"},
		{"mail: {bounce_senders: [amazonses.com]}", "mail.bounce_senders"},
	} {
		os.WriteFile(file, []byte(tc.yaml), 0o600)
		if _, err := Load(file, noEnv); err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("Load(%s) = %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
}
