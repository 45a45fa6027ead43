package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mail.feedback_loop_senders reaches the parser, and only names that cannot
// trust the whole world are accepted, with the desk's own MTA to vouch.
func TestFeedbackLoopSendersConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notme.yaml")
	noEnv := func(string) (string, bool) { return "", false }
	os.WriteFile(file, []byte(`
mail:
  trusted_authserv_ids: [mx.desk.example.com]
  feedback_loop_senders: [fbl.mailbox.example, FBL@Feedback.Example.Net]
`), 0o600)
	cfg, err := Load(file, noEnv)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	want := []string{"fbl.mailbox.example", "FBL@Feedback.Example.Net"}
	if o := parserOptions(cfg); !slices.Equal(o.FeedbackLoopSenders, want) {
		t.Errorf("parserOptions().FeedbackLoopSenders = %q, want %q", o.FeedbackLoopSenders, want)
	}

	for _, tc := range []struct{ yaml, key string }{
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], feedback_loop_senders: ['*']}", "mail.feedback_loop_senders[0]"},
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], feedback_loop_senders: [example.net, com]}", "mail.feedback_loop_senders[1]"},
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], feedback_loop_senders: ['.example.net']}", "mail.feedback_loop_senders[0]"},
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], feedback_loop_senders: ['@example.net']}", "mail.feedback_loop_senders[0]"},
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], feedback_loop_senders: ['Feedback <fbl@example.net>']}", "mail.feedback_loop_senders[0]"},
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], feedback_loop_senders: ['fbl@localhost']}", "mail.feedback_loop_senders[0]"},
		{"mail: {trusted_authserv_ids: [mx.desk.example.com], feedback_loop_senders: ['']}", "mail.feedback_loop_senders[0]"},
		// Without the desk's own MTA, no DKIM verdict can be believed.
		{"mail: {feedback_loop_senders: [fbl.mailbox.example]}", "mail.feedback_loop_senders"},
	} {
		os.WriteFile(file, []byte(tc.yaml), 0o600)
		_, err := Load(file, noEnv)
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("Load(%s) = %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
}
