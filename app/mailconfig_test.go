package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMailConfig(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "imap-pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "notme.yaml")
	os.WriteFile(file, []byte(`
tokens: {message_id_domain: mail.example.com}
mail:
  mailboxes:
    - name: reports
      addr: imap.example.com:993
      username: notme@example.com
      password_file: `+pwFile+`
`), 0o600)
	cfg, err := Load(file, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	b := cfg.Mail.Mailboxes[0]
	if b.Security != "tls" || b.Folder != "INBOX" || b.DoneFolder != "notme/processed" || b.BatchSize != 100 ||
		b.IdleRefresh.D() != 4*time.Minute || b.Timeout.D() != time.Minute {
		t.Errorf("mailbox defaults = %+v", b)
	}
	if pw, err := b.MailboxPassword(); pw != "s3cret" || err != nil {
		t.Errorf("MailboxPassword = %q, %v", pw, err)
	}
	if got := cfg.MailAddress(); got != "notme@mail.example.com" {
		t.Errorf("MailAddress = %q, want notme@mail.example.com", got)
	}

	for _, tc := range []struct {
		yaml, key string
	}{
		{"mail: {mailboxes: [{name: a, addr: 'imap.example.com:143', security: plain, username: u, password: p}]}", "mail.mailboxes[0].security"},
		{"mail: {mailboxes: [{name: a, addr: nohost, username: u, password: p}]}", "mail.mailboxes[0].addr"},
		{"mail: {mailboxes: [{name: a, addr: 'h:1', username: u}]}", "mail.mailboxes[0].password"},
		{"mail: {mailboxes: [{name: a, addr: 'h:1', username: u, password: p}, {name: a, addr: 'h:1', username: u, password: p}]}", "mail.mailboxes[1].name"},
		{"mail: {smtp: {addr: 'smtp.example.com:25', security: plain}}", "mail.smtp.security"},
		{"mail: {address: 'Desk <notme@example.com>'}", "mail.address"},
		{"mail: {max_size: 10}", "mail.max_size"},
		{"mail: {mailboxes: [{name: a, addr: 'h:1', username: u, password: p, idle_refresh: 30m}]}", "mail.mailboxes[0].idle_refresh"},
		{"mail: {mailboxes: [{name: a, addr: 'h:1', username: u, password: p, timeout: 10ms}]}", "mail.mailboxes[0].timeout"},
		{"mail: {trusted_authserv_ids: ['mx.example.com (ours)']}", "mail.trusted_authserv_ids[0]"},
	} {
		os.WriteFile(file, []byte(tc.yaml), 0o600)
		_, err := Load(file, func(string) (string, bool) { return "", false })
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("Load(%s) = %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
	// A plain connection to a server on loopback is fine (tests, a local relay).
	os.WriteFile(file, []byte("mail: {smtp: {addr: '127.0.0.1:2525', security: plain}}"), 0o600)
	if _, err := Load(file, func(string) (string, bool) { return "", false }); err != nil {
		t.Errorf("plain SMTP on loopback: %v", err)
	}
}
