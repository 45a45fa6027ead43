package app

import (
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"notme/cases"
	"notme/inbox"
	"notme/inbox/acksend"
	"notme/ui"
)

// A mailbox configured with only its name, address and account gets what
// inbox gives such a mailbox: every field the poller defaults, compared by
// reflection, so a default added to both sides with different values
// fails here.
func TestMailboxDefaultsAreInboxs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notme.yaml")
	if err := os.WriteFile(file, []byte("mail: {mailboxes: [{name: a, addr: 'imap.example.com:993', username: u, password: p}]}"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, envMap(nil))
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	got := reflect.ValueOf(cfg.inboxMailbox(cfg.Mail.Mailboxes[0], "p", "instance-1"))
	want := reflect.ValueOf(inbox.MailboxDefaults())
	// Who the mailbox is, and what app sets from other keys on purpose.
	notDefaults := []string{"Name", "Addr", "Username", "Password", "Instance", "TLSConfig", "BatchBytes"}
	compared := 0
	for i := range got.NumField() {
		name := got.Type().Field(i).Name
		if slices.Contains(notDefaults, name) {
			continue
		}
		compared++
		if g, w := got.Field(i).Interface(), want.Field(i).Interface(); !reflect.DeepEqual(g, w) {
			t.Errorf("a bare mailbox's %s = %v from the config, inbox.MailboxDefaults() = %v", name, g, w)
		}
	}
	if compared < 8 {
		t.Errorf("compared %d fields; the mailbox config lost its defaults?", compared)
	}
	if bb := got.FieldByName("BatchBytes").Int(); bb < inbox.DefaultBatchBytes {
		t.Errorf("BatchBytes = %d, below inbox.DefaultBatchBytes %d", bb, inbox.DefaultBatchBytes)
	}
}

// The limits of a mailbox are inbox's: the config accepts what the poller
// accepts and refuses one more.
func TestMailboxLimitsAreInboxs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*MailboxConfig)
		key    string
		refuse bool
	}{
		{"largest batch", func(b *MailboxConfig) { b.BatchSize = inbox.MaxBatchSize }, "batch_size", false},
		{"one more", func(b *MailboxConfig) { b.BatchSize = inbox.MaxBatchSize + 1 }, "batch_size", true},
		{"longest idle refresh", func(b *MailboxConfig) { b.IdleRefresh = Duration(inbox.MaxIdleRefresh) }, "idle_refresh", false},
		{"a second more", func(b *MailboxConfig) { b.IdleRefresh = Duration(inbox.MaxIdleRefresh + time.Second) }, "idle_refresh", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.Mail.Mailboxes = []MailboxConfig{{Name: "a", Addr: "imap.example.com:993", Username: "u", Password: "p"}}
			cfg.normalize()
			tc.edit(&cfg.Mail.Mailboxes[0])
			err := cfg.Validate()
			if refused := err != nil && strings.Contains(err.Error(), "mail.mailboxes[0]."+tc.key); refused != tc.refuse {
				t.Errorf("Validate() = %v; want refused %v", err, tc.refuse)
			}
		})
	}
}

// Each default the desk's configuration shares with cases, inbox or ui is
// that package's own: what it would use for a zero option is what
// Defaults() says.
func TestDefaultsAreTheirOwners(t *testing.T) {
	d := Defaults()
	sevs := func(m map[cases.Severity]time.Duration) map[string]Duration {
		out := map[string]Duration{}
		for s, v := range m {
			out[string(s)] = Duration(v)
		}
		return out
	}
	var sevNames []string
	for _, s := range cases.Severities {
		sevNames = append(sevNames, string(s))
	}
	esc := cases.DefaultEscalationRules
	for _, tc := range []struct {
		key       string
		got, want any
	}{
		{"severities", severities, sevNames},
		{"kinds.*.actions", kindActions, cases.Actions},
		{"sla.contain_by", d.SLA.ContainBy, sevs(cases.DefaultContainBy())},
		{"sla.resolve_by", d.SLA.ResolveBy, sevs(cases.DefaultResolveBy())},
		{"sla.breach_assessment", d.SLA.BreachAssessment, Duration(cases.DefaultBreachAssessment)},
		{"reports.note_max_chars", d.Reports.NoteMaxChars, cases.DefaultNoteMaxChars},
		{"reports.reopen_window", d.Reports.ReopenWindow, Duration(cases.DefaultReopenWindow)},
		{"reports.triage_cases_per_client_hour", d.Reports.TriageCasesPerClientHour, cases.DefaultTriagePerClientHour},
		{"reports.triage_burst", d.Reports.TriageBurst, cases.DefaultTriageBurst},
		{"reports.triage_burst_window", d.Reports.TriageBurstWindow, Duration(cases.DefaultTriageBurstWindow)},
		{"mail.ack_window", d.Mail.AckWindow, Duration(cases.DefaultAckWindow)},
		{"mail.ack_domain_per_hour", d.Mail.AckDomainPerHour, cases.DefaultAckDomainPerHour},
		{"mail.mailbox_lease", d.Mail.MailboxLease, Duration(inbox.DefaultLeaseTTL)},
		{"webhooks.max_age", d.Webhooks.MaxAge, Duration(cases.DefaultWebhookMaxAge)},
		{"webhooks.backoff_min", d.Webhooks.BackoffMin, Duration(cases.DefaultWebhookBackoffMin)},
		{"webhooks.backoff_max", d.Webhooks.BackoffMax, Duration(cases.DefaultWebhookBackoffMax)},
		{"auth.login_failures_before_delay", d.Auth.LoginFailuresBeforeDelay, cases.DefaultLoginFailuresBeforeDelay},
		{"auth.login_first_delay", d.Auth.LoginFirstDelay, Duration(cases.DefaultLoginFirstDelay)},
		{"auth.login_max_delay", d.Auth.LoginMaxDelay, Duration(cases.DefaultLoginMaxDelay)},
		{"escalation.multiple_reporters", d.Escalation.MultipleReporters, esc.MultipleReporters},
		{"escalation.shared_recipient", d.Escalation.SharedRecipient, esc.SharedRecipient},
		{"escalation.domain_cluster.cases", d.Escalation.DomainCluster.Cases, esc.DomainCluster},
		{"escalation.domain_cluster.window", d.Escalation.DomainCluster.Window, Duration(esc.DomainWindow)},
		{"escalation.sla_breach", d.Escalation.SLABreach, esc.SLABreach},
		{"http.session_ttl", d.HTTP.SessionTTL, Duration(ui.DefaultSessionTTL)},
		{"http.max_batch_bytes", d.HTTP.MaxBatchBytes, int64(ui.DefaultMaxBatchBytes)},
		{"http.report_rate", d.HTTP.ReportRate, RateConfig(ui.DefaultReportRate)},
		{"http.login_rate", d.HTTP.LoginRate, RateConfig(ui.DefaultLoginRate)},
		{"mail.stale_after", d.Mail.StaleAfter, Duration(ui.DefaultMailboxStaleAfter)},
		{"mail.smtp.security", d.Mail.SMTP.Security, acksend.DefaultSMTPSecurity},
		{"mail.smtp.hello_name", d.Mail.SMTP.HelloName, acksend.DefaultSMTPHelloName},
		{"evidence.view_max_bytes", d.Evidence.ViewMaxBytes, ui.DefaultEvidenceViewMaxBytes},
		{"evidence.max_concurrent_views", d.Evidence.MaxConcurrentViews, ui.DefaultEvidenceMaxConcurrentViews},
		{"evidence.view_wait", d.Evidence.ViewWait, Duration(ui.DefaultEvidenceViewWait)},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("Defaults() %s = %v, its owner says %v", tc.key, tc.got, tc.want)
		}
	}
	// Every default kind's severity and actions are ones cases knows.
	for _, name := range slices.Sorted(maps.Keys(d.Kinds)) {
		k := d.Kinds[name]
		if !cases.Severity(k.Severity).Valid() {
			t.Errorf("default kind %s: severity %q unknown to cases", name, k.Severity)
		}
		for _, a := range k.Actions {
			if !slices.Contains(cases.Actions, a) {
				t.Errorf("default kind %s: action %q unknown to cases", name, a)
			}
		}
	}
}

// A configured token key is checked by one rule: Validate refuses exactly
// what TokenSecrets refuses, naming the same key, and the key file and
// NOTME_TOKENS_KEYS take the same IDs and secrets.
func TestTokenKeyRulesAgree(t *testing.T) {
	dir := t.TempDir()
	good := Secret(key32(7))
	for _, tc := range []struct {
		name string
		keys []TokenKeyConfig
		key  string // "" = accepted
	}{
		{"one key", []TokenKeyConfig{{ID: 1, Secret: good}}, ""},
		{"ID 255", []TokenKeyConfig{{ID: 255, Secret: good}}, ""},
		{"ID 0", []TokenKeyConfig{{ID: 0, Secret: good}}, "tokens.keys[0].id"},
		{"ID 256", []TokenKeyConfig{{ID: 256, Secret: good}}, "tokens.keys[0].id"},
		{"ID twice", []TokenKeyConfig{{ID: 3, Secret: good}, {ID: 3, Secret: good}}, "tokens.keys[1].id"},
		{"31 bytes", []TokenKeyConfig{{ID: 1, Secret: Secret(base64.StdEncoding.EncodeToString(make([]byte, 31)))}}, "tokens.keys[0].secret"},
		{"neither", []TokenKeyConfig{{ID: 1}}, "tokens.keys[0]"},
		{"both", []TokenKeyConfig{{ID: 1, Secret: good, SecretFile: "x"}}, "tokens.keys[0]"},
		{"missing file", []TokenKeyConfig{{ID: 1, SecretFile: filepath.Join(dir, "nope")}}, "tokens.keys[0].secret_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.Tokens.Keys = tc.keys
			_, serr := cfg.TokenSecrets()
			verr := cfg.Validate()
			for what, err := range map[string]error{"TokenSecrets()": serr, "Validate()": verr} {
				if tc.key == "" && err != nil || tc.key != "" && (err == nil || !strings.Contains(err.Error(), tc.key+":") && !strings.Contains(err.Error(), tc.key+".")) {
					t.Errorf("%s = %v, want %s", what, err, cmpOr(tc.key, "nil"))
				}
			}
		})
	}
	for _, tc := range []struct {
		entry string
		ok    bool
	}{
		{"1:" + key32(1), true}, {"255:" + key32(1), true}, {"0:" + key32(1), false}, {"256:" + key32(1), false},
		{"1:" + base64.StdEncoding.EncodeToString(make([]byte, 31)), false},
	} {
		if _, err := parseTokenKeys(tc.entry, ",", "entry"); (err == nil) != tc.ok {
			t.Errorf("parseTokenKeys(%.12s…) = %v, want accepted %v", tc.entry, err, tc.ok)
		}
	}
}
