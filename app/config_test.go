package app

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

var noEnv = envMap(nil)

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is subject to umask
		t.Fatal(err)
	}
	return path
}

func key32(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func TestDefaults(t *testing.T) {
	cfg := Defaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Defaults().Validate() = %v, want nil", err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"PublicURL", cfg.PublicURL(), "http://localhost:8080"},
		{"DatabaseURL", cfg.DatabaseURL(), "sqlite:./data/notme.db"},
		{"TokenKeyFile", cfg.TokenKeyFile(), "./data/token.key"},
		{"MessageIDDomain", cfg.MessageIDDomain(), "localhost"},
	} {
		if c.got != c.want {
			t.Errorf("Defaults().%s() = %q, want %q", c.name, c.got, c.want)
		}
	}
	if cfg.HTTP.OpsAddr != "127.0.0.1:9090" || cfg.HTTP.OpsAllow != nil {
		t.Errorf("HTTP.OpsAddr, OpsAllow = %q, %v; want the operations listener on loopback, for loopback clients", cfg.HTTP.OpsAddr, cfg.HTTP.OpsAllow)
	}
	if got := cfg.HTTP.SessionTTL.D(); got != 12*time.Hour {
		t.Errorf("HTTP.SessionTTL = %v, want 12h", got)
	}
	if got := cfg.SLA.ContainBy["critical"].D(); got != 15*time.Minute {
		t.Errorf("SLA.ContainBy[critical] = %v, want 15m", got)
	}
	if got := cfg.HTTP.MaxBatchBytes; got != 512<<20 {
		t.Errorf("HTTP.MaxBatchBytes = %d, want 512 MiB", got)
	}
	names := sortedKeys(cfg.Kinds)
	want := []string{"newsletter", "order_confirmation", "password_reset", "postal_notice", "registration"}
	if !slices.Equal(names, want) {
		t.Errorf("default kinds = %v, want %v", names, want)
	}
	// Fresh maps each call: a caller's change must not leak into the next.
	cfg.Kinds["newsletter"] = KindConfig{}
	cfg.SLA.ContainBy["low"] = 0
	if Defaults().Kinds["newsletter"].Severity != "low" || Defaults().SLA.ContainBy["low"] == 0 {
		t.Error("Defaults() shares maps between calls")
	}
}

func TestLoadNoFile(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := Load("", noEnv)
	if err != nil {
		t.Fatalf("Load(\"\") = %v", err)
	}
	if !reflect.DeepEqual(cfg, Defaults()) {
		t.Errorf("Load(\"\") without notme.yaml = %+v, want Defaults()", cfg)
	}
}

func TestLoadReadsNotmeYAMLInWorkingDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "notme.yaml", "http:\n  addr: \":9090\"\n", 0o644)
	t.Chdir(dir)
	cfg, err := Load("", noEnv)
	if err != nil {
		t.Fatalf("Load(\"\") = %v", err)
	}
	if cfg.HTTP.Addr != ":9090" || cfg.PublicURL() != "http://localhost:9090" {
		t.Errorf("Load(\"\") addr %q public URL %q, want :9090 from ./notme.yaml", cfg.HTTP.Addr, cfg.PublicURL())
	}
}

func TestLoadMissingNamedFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("Load(missing) = %v, want an error naming the file", err)
	}
}

func TestLoadFileOverrides(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "notme.yaml", `
data_dir: /var/lib/notme
log:
  level: debug
http:
  addr: 127.0.0.1:8443
  public_url: https://notme.example.com/
  trusted_proxies: [10.0.0.0/8, "fd00::/8"]
  session_ttl: 1d
  report_rate: {per_minute: 5.5}
database:
  url: postgres://desk:pw@db/notme
  read_conns: 8
tokens:
  message_id_domain: mail.example.com
kinds:
  welcome:
    severity: critical
    credential: true
    actions: [lock_account]
sla:
  contain_by:
    high: 30m
reports:
  note_max_chars: 500
`, 0o644)
	cfg, err := Load(path, noEnv)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"DataDir", cfg.DataDir, "/var/lib/notme"},
		{"Log.Level", cfg.Log.Level, "debug"},
		{"Log.Format (default kept)", cfg.Log.Format, "text"},
		{"HTTP.Addr", cfg.HTTP.Addr, "127.0.0.1:8443"},
		{"PublicURL()", cfg.PublicURL(), "https://notme.example.com"},
		{"HTTP.TrustedProxies", cfg.HTTP.TrustedProxies, []string{"10.0.0.0/8", "fd00::/8"}},
		{"HTTP.SessionTTL", cfg.HTTP.SessionTTL.D(), 24 * time.Hour},
		{"HTTP.ReportRate", cfg.HTTP.ReportRate, RateConfig{PerMinute: 5.5, Burst: 10}},
		{"HTTP.ShutdownTimeout (default kept)", cfg.HTTP.ShutdownTimeout.D(), 15 * time.Second},
		{"DatabaseURL()", cfg.DatabaseURL(), "postgres://desk:pw@db/notme"},
		{"Database.ReadConns", cfg.Database.ReadConns, 8},
		{"TokenKeyFile()", cfg.TokenKeyFile(), "/var/lib/notme/token.key"},
		{"MessageIDDomain()", cfg.MessageIDDomain(), "mail.example.com"},
		{"Kinds (replaced whole, label filled)", cfg.Kinds, map[string]KindConfig{
			"welcome": {Label: "welcome", Severity: "critical", Credential: true, Actions: []string{"lock_account"}},
		}},
		{"SLA.ContainBy (merged)", cfg.SLA.ContainBy, map[string]Duration{
			"critical": Duration(15 * time.Minute), "high": Duration(30 * time.Minute),
			"normal": Duration(4 * time.Hour), "low": Duration(24 * time.Hour),
		}},
		{"Reports.NoteMaxChars", cfg.Reports.NoteMaxChars, 500},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("Load: %s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestLoadEnvOverridesFile(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "notme.yaml", `
data_dir: /from/file
http:
  addr: ":7000"
  insecure_cookies: false
  trusted_proxies: [10.0.0.0/8]
log:
  level: debug
`, 0o644)
	cfg, err := Load(path, envMap(map[string]string{
		"NOTME_DATA_DIR":                       "/from/env",
		"NOTME_HTTP_PUBLIC_URL":                "https://desk.example.org",
		"NOTME_HTTP_INSECURE_COOKIES":          "true",
		"NOTME_HTTP_TRUSTED_PROXIES":           "192.0.2.0/24, 2001:db8::/32",
		"NOTME_HTTP_OPS_ADDR":                  "10.1.2.3:9100",
		"NOTME_HTTP_OPS_ALLOW":                 "10.0.0.0/8",
		"NOTME_HTTP_REPORT_RATE_PER_MINUTE":    "2.5",
		"NOTME_HTTP_LOGIN_RATE_BURST":          "3",
		"NOTME_HTTP_SESSION_TTL":               "2d",
		"NOTME_HTTP_MAX_BATCH_BYTES":           "1048576",
		"NOTME_LOG_LEVEL":                      "warn",
		"NOTME_DATABASE_URL":                   "sqlite:/tmp/x.db",
		"NOTME_TOKENS_MESSAGE_ID_DOMAIN":       "mail.example.org",
		"NOTME_SLA_CONTAIN_BY_CRITICAL":        "5m",
		"NOTME_KINDS_NEWSLETTER_SEVERITY":      "normal",
		"NOTME_KINDS_PASSWORD_RESET_ACTIONS":   "lock_account,contact_owner",
		"NOTME_REPORTS_NOTE_MAX_CHARS":         "100",
		"NOTME_KINDS_ORDER_CONFIRMATION_LABEL": "Orders",
	}))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"DataDir", cfg.DataDir, "/from/env"},
		{"HTTP.Addr (file kept)", cfg.HTTP.Addr, ":7000"},
		{"PublicURL()", cfg.PublicURL(), "https://desk.example.org"},
		{"HTTP.InsecureCookies", cfg.HTTP.InsecureCookies, true},
		{"HTTP.TrustedProxies", cfg.HTTP.TrustedProxies, []string{"192.0.2.0/24", "2001:db8::/32"}},
		{"HTTP.OpsAddr", cfg.HTTP.OpsAddr, "10.1.2.3:9100"},
		{"HTTP.OpsAllow", cfg.HTTP.OpsAllow, []string{"10.0.0.0/8"}},
		{"HTTP.ReportRate.PerMinute", cfg.HTTP.ReportRate.PerMinute, 2.5},
		{"HTTP.LoginRate.Burst", cfg.HTTP.LoginRate.Burst, 3},
		{"HTTP.SessionTTL", cfg.HTTP.SessionTTL.D(), 48 * time.Hour},
		{"HTTP.MaxBatchBytes", cfg.HTTP.MaxBatchBytes, int64(1 << 20)},
		{"Log.Level", cfg.Log.Level, "warn"},
		{"DatabaseURL()", cfg.DatabaseURL(), "sqlite:/tmp/x.db"},
		{"MessageIDDomain()", cfg.MessageIDDomain(), "mail.example.org"},
		{"SLA.ContainBy[critical]", cfg.SLA.ContainBy["critical"].D(), 5 * time.Minute},
		{"Kinds[newsletter].Severity", cfg.Kinds["newsletter"].Severity, "normal"},
		{"Kinds[password_reset].Actions", cfg.Kinds["password_reset"].Actions, []string{"lock_account", "contact_owner"}},
		{"Kinds[order_confirmation].Label", cfg.Kinds["order_confirmation"].Label, "Orders"},
		{"Reports.NoteMaxChars", cfg.Reports.NoteMaxChars, 100},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("Load with env: %s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", "datadir: x\n", "datadir"},
		{"unknown nested key", "http:\n  adr: \":1\"\n", "adr"},
		{"unknown kind key", "kinds:\n  x:\n    severity: low\n    sev: low\n", "sev"},
		{"bad duration", "http:\n  session_ttl: 12\n", "line 2"},
		{"two documents", "data_dir: a\n---\ndata_dir: b\n", "more than one YAML document"},
		{"wrong type", "http:\n  max_batch_bytes: lots\n", "line 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "notme.yaml", c.yaml, 0o644)
			_, err := Load(path, noEnv)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load(%q) = %v, want an error containing %q", c.yaml, err, c.want)
			}
		})
	}
}

func TestLoadNullSectionKeepsDefaults(t *testing.T) {
	path := writeFile(t, t.TempDir(), "notme.yaml", "http:\nkinds:\nsla:\n  contain_by:\n", 0o644)
	cfg, err := Load(path, noEnv)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if !reflect.DeepEqual(cfg, Defaults()) {
		t.Errorf("Load(empty sections) = %+v, want Defaults()", cfg)
	}
}

func TestValidateNamesKey(t *testing.T) {
	for _, c := range []struct {
		key    string
		mutate func(*Config)
	}{
		{"data_dir", func(c *Config) { c.DataDir = "" }},
		{"log.level", func(c *Config) { c.Log.Level = "verbose" }},
		{"log.format", func(c *Config) { c.Log.Format = "xml" }},
		{"http.addr", func(c *Config) { c.HTTP.Addr = "8080" }},
		{"http.addr", func(c *Config) { c.HTTP.Addr = ":http-alt" }},
		{"http.public_url", func(c *Config) { c.HTTP.PublicURL = "notme.example.com" }},
		{"http.public_url", func(c *Config) { c.HTTP.PublicURL = "ftp://notme.example.com" }},
		{"http.public_url", func(c *Config) { c.HTTP.PublicURL = "https://notme.example.com/?a=b" }},
		{"http.public_url", func(c *Config) { c.HTTP.PublicURL = "https://notme.example.com/#top" }},
		{"http.public_url", func(c *Config) { c.HTTP.PublicURL = "https://u:p@notme.example.com" }},
		{"http.trusted_proxies[1]", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.1"} }},
		{"http.ops_addr", func(c *Config) { c.HTTP.OpsAddr = "9090" }},
		{"http.ops_addr", func(c *Config) { c.HTTP.OpsAddr = "127.0.0.1:prom" }},
		{"http.ops_addr", func(c *Config) { c.HTTP.Addr, c.HTTP.OpsAddr = ":8080", ":8080" }},
		{"http.ops_allow[0]", func(c *Config) { c.HTTP.OpsAllow = []string{"10.0.0.1"} }},
		{"http.session_ttl", func(c *Config) { c.HTTP.SessionTTL = 0 }},
		{"http.default_language", func(c *Config) { c.HTTP.DefaultLanguage = "fr" }},
		{"http.default_language", func(c *Config) { c.HTTP.DefaultLanguage = "" }},
		{"http.shutdown_timeout", func(c *Config) { c.HTTP.ShutdownTimeout = -1 }},
		{"http.read_header_timeout", func(c *Config) { c.HTTP.ReadHeaderTimeout = 0 }},
		{"http.read_timeout", func(c *Config) {
			c.HTTP.ReadTimeout = Duration(time.Second)
			c.HTTP.ReadHeaderTimeout = Duration(2 * time.Second)
		}},
		{"http.idle_timeout", func(c *Config) { c.HTTP.IdleTimeout = -1 }},
		{"http.report_rate.per_minute", func(c *Config) { c.HTTP.ReportRate.PerMinute = 0 }},
		{"http.report_rate.burst", func(c *Config) { c.HTTP.ReportRate.Burst = 0 }},
		{"http.login_rate.per_minute", func(c *Config) { c.HTTP.LoginRate.PerMinute = -3 }},
		{"http.login_rate.burst", func(c *Config) { c.HTTP.LoginRate.Burst = -1 }},
		{"http.max_batch_bytes", func(c *Config) { c.HTTP.MaxBatchBytes = 0 }},
		{"auth.login_failures_before_delay", func(c *Config) { c.Auth.LoginFailuresBeforeDelay = 0 }},
		{"auth.login_first_delay", func(c *Config) { c.Auth.LoginFirstDelay = 0 }},
		{"auth.login_max_delay", func(c *Config) { c.Auth.LoginMaxDelay = Duration(30 * time.Second) }},
		{"database.url", func(c *Config) { c.Database.URL = "mysql://root:hunter2@db/x" }},
		{"database.url", func(c *Config) { c.Database.URL = "sqlite:" }},
		{"database.busy_timeout", func(c *Config) { c.Database.BusyTimeout = -1 }},
		{"mail.trusted_authserv_ids[1]", func(c *Config) { c.Mail.TrustedAuthservIDs = []string{"mx.desk.example.com", "mx; dmarc=pass"} }},
		{"database.read_conns", func(c *Config) { c.Database.ReadConns = 0 }},
		{"tokens.keys[0].id", func(c *Config) { c.Tokens.Keys = []TokenKeyConfig{{ID: 0, Secret: Secret(key32(1))}} }},
		{"tokens.keys[0].id", func(c *Config) { c.Tokens.Keys = []TokenKeyConfig{{ID: 256, Secret: Secret(key32(1))}} }},
		{"tokens.keys[1].id", func(c *Config) {
			c.Tokens.Keys = []TokenKeyConfig{{ID: 3, Secret: Secret(key32(1))}, {ID: 3, Secret: Secret(key32(2))}}
		}},
		{"tokens.keys[0]", func(c *Config) { c.Tokens.Keys = []TokenKeyConfig{{ID: 1}} }},
		{"tokens.keys[0]", func(c *Config) {
			c.Tokens.Keys = []TokenKeyConfig{{ID: 1, Secret: Secret(key32(1)), SecretFile: "/x"}}
		}},
		{"tokens.keys[0].secret", func(c *Config) {
			c.Tokens.Keys = []TokenKeyConfig{{ID: 1, Secret: Secret(base64.StdEncoding.EncodeToString(make([]byte, 31)))}}
		}},
		{"tokens.keys[0].secret_file", func(c *Config) {
			c.Tokens.Keys = []TokenKeyConfig{{ID: 1, SecretFile: "/nonexistent/notme-key"}}
		}},
		{"tokens.message_id_domain", func(c *Config) { c.Tokens.MessageIDDomain = "<mail@example.com>" }},
		{"kinds", func(c *Config) { c.Kinds = map[string]KindConfig{} }},
		{"kinds.Bad Name", func(c *Config) { c.Kinds["Bad Name"] = KindConfig{Severity: "low"} }},
		{"kinds.newsletter.severity", func(c *Config) { c.Kinds["newsletter"] = KindConfig{Severity: "urgent"} }},
		{"kinds.newsletter.actions[1]", func(c *Config) {
			c.Kinds["newsletter"] = KindConfig{Severity: "low", Actions: []string{"suppress_recipient", "delete_account"}}
		}},
		{"kinds.newsletter.actions[1]", func(c *Config) {
			c.Kinds["newsletter"] = KindConfig{Severity: "low", Actions: []string{"lock_account", "lock_account"}}
		}},
		{"sla.contain_by.urgent", func(c *Config) { c.SLA.ContainBy["urgent"] = Duration(time.Minute) }},
		{"sla.contain_by.high", func(c *Config) { c.SLA.ContainBy["high"] = 0 }},
		{"sla.contain_by.low", func(c *Config) { delete(c.SLA.ContainBy, "low") }},
		{"reports.note_max_chars", func(c *Config) { c.Reports.NoteMaxChars = 0 }},
		{"retention.evidence", func(c *Config) { c.Retention.Evidence = Duration(23 * time.Hour) }},
		{"retention.evidence", func(c *Config) { c.Retention.Evidence = 0 }},
		{"retention.interval", func(c *Config) { c.Retention.Interval = Duration(time.Second) }},
		{"evidence.view_max_bytes", func(c *Config) { c.Evidence.ViewMaxBytes = 100 }},
		{"evidence.view_max_bytes", func(c *Config) { c.Evidence.ViewMaxBytes = 2 << 20 }},
		{"evidence.max_concurrent_views", func(c *Config) { c.Evidence.MaxConcurrentViews = 0 }},
		{"evidence.view_wait", func(c *Config) { c.Evidence.ViewWait = 0 }},
		{"ledger.retention", func(c *Config) { c.Ledger.Retention = Duration(29 * 24 * time.Hour) }},
		{"reports.same_browser_window", func(c *Config) { c.Reports.SameBrowserWindow = -1 }},
		{"mail.report_address", func(c *Config) { c.Mail.ReportAddress = "Report Desk <report@desk.example.com>" }},
		{"desk.company", func(c *Config) { c.Desk.Company = "Example\nShop" }},
		{"desk.company_ja", func(c *Config) { c.Desk.CompanyJA = "サンプル商店" }},
		{"desk.contact.url", func(c *Config) { c.Desk.Contact.URL = "http://shop.example.com/contact" }},
		{"desk.contact.url", func(c *Config) { c.Desk.Contact.URL = "javascript:alert(1)" }},
		{"desk.contact.phone", func(c *Config) { c.Desk.Contact.Phone = "call us" }},
		{"desk.contact.hours", func(c *Config) { c.Desk.Contact.Hours = "9-18" }},
	} {
		cfg := Defaults()
		c.mutate(&cfg)
		err := cfg.Validate()
		if err == nil {
			t.Errorf("Validate() with bad %s = nil, want an error", c.key)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], c.key+": ") {
			t.Errorf("Validate() with bad %s = %q, want one error starting %q", c.key, err, c.key+": ")
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Validate() = %q, repeats the database URL's password", err)
		}
	}
}

func TestValidateJoinsErrors(t *testing.T) {
	cfg := Defaults()
	cfg.Log.Level = "loud"
	cfg.HTTP.PublicURL = "nope"
	cfg.Reports.NoteMaxChars = -1
	err := cfg.Validate()
	want := "log.level: must be one of debug, info, warn, error\n" +
		"http.public_url: must be an absolute http or https URL\n" +
		"reports.note_max_chars: must be at least 1"
	if err == nil || err.Error() != want {
		t.Fatalf("Validate() = %q, want %q", err, want)
	}
}

func TestLoadEnvErrorsNameVariable(t *testing.T) {
	const secretValue = "s3cr3t-value-never-shown"
	short := base64.StdEncoding.EncodeToString([]byte(secretValue)) // not 32 bytes
	for _, c := range []struct {
		name string
		env  map[string]string
	}{
		{"NOTME_HTTP_INSECURE_COOKIES", map[string]string{"NOTME_HTTP_INSECURE_COOKIES": "yes please"}},
		{"NOTME_HTTP_REPORT_RATE_BURST", map[string]string{"NOTME_HTTP_REPORT_RATE_BURST": "ten"}},
		{"NOTME_HTTP_MAX_BATCH_BYTES", map[string]string{"NOTME_HTTP_MAX_BATCH_BYTES": "1e9"}},
		{"NOTME_HTTP_LOGIN_RATE_PER_MINUTE", map[string]string{"NOTME_HTTP_LOGIN_RATE_PER_MINUTE": "fast"}},
		{"NOTME_HTTP_SESSION_TTL", map[string]string{"NOTME_HTTP_SESSION_TTL": "12"}},
		{"NOTME_SLA_CONTAIN_BY_HIGH", map[string]string{"NOTME_SLA_CONTAIN_BY_HIGH": "soon"}},
		{"NOTME_DATABASE_URL", map[string]string{"NOTME_DATABASE_URL": secretValue, "NOTME_DATABASE_URL_FILE": "/x"}},
		{"NOTME_DATABASE_URL_FILE", map[string]string{"NOTME_DATABASE_URL_FILE": "/nonexistent/notme-db-url"}},
		{"NOTME_TOKENS_KEYS", map[string]string{"NOTME_TOKENS_KEYS": "1:" + short}},
		{"NOTME_TOKENS_KEYS", map[string]string{"NOTME_TOKENS_KEYS": secretValue}},
		{"NOTME_TOKENS_KEYS", map[string]string{"NOTME_TOKENS_KEYS": "0:" + key32(1)}},
		{"NOTME_TOKENS_KEYS", map[string]string{"NOTME_TOKENS_KEYS": "1:" + key32(1) + ",1:" + key32(2)}},
		{"NOTME_TOKENS_KEYS", map[string]string{"NOTME_TOKENS_KEYS": " , "}},
	} {
		_, err := Load("", envMap(c.env))
		if err == nil || !strings.Contains(err.Error(), c.name+":") {
			t.Errorf("Load(env %v) = %v, want an error naming %s", c.env, err, c.name)
			continue
		}
		if strings.Contains(err.Error(), secretValue) || strings.Contains(err.Error(), short) {
			t.Errorf("Load(env %v) = %q, repeats a secret", c.env, err)
		}
	}
}

func TestEnvTokenKeys(t *testing.T) {
	path := writeFile(t, t.TempDir(), "notme.yaml", fmt.Sprintf(`
tokens:
  keys:
    - id: 9
      secret: %q
`, key32(9)), 0o644)
	k2 := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) // url alphabet, unpadded
	cfg, err := Load(path, envMap(map[string]string{"NOTME_TOKENS_KEYS": "2:" + k2 + ", 1:" + key32(1)}))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	secrets, err := cfg.TokenSecrets()
	if err != nil {
		t.Fatalf("TokenSecrets() = %v", err)
	}
	want := []TokenSecret{{ID: 2, Key: bytes.Repeat([]byte{0xfb}, 32)}, {ID: 1, Key: bytes.Repeat([]byte{1}, 32)}}
	if !reflect.DeepEqual(secrets, want) {
		t.Errorf("TokenSecrets() = IDs %v, want env keys 2, 1 replacing the file's", ids(secrets))
	}

	// The _FILE form takes the key file format: one entry a line.
	keysFile := writeFile(t, t.TempDir(), "keys", "# newest first\n3:"+key32(3)+"\n1:"+key32(1)+"\n", 0o600)
	cfg, err = Load("", envMap(map[string]string{"NOTME_TOKENS_KEYS_FILE": keysFile}))
	if err != nil {
		t.Fatalf("Load(NOTME_TOKENS_KEYS_FILE) = %v", err)
	}
	secrets, err = cfg.TokenSecrets()
	if err != nil || !slices.Equal(ids(secrets), []byte{3, 1}) {
		t.Errorf("TokenSecrets() from NOTME_TOKENS_KEYS_FILE = %v, %v, want IDs [3 1]", ids(secrets), err)
	}
}

func ids(s []TokenSecret) []byte {
	var out []byte
	for _, k := range s {
		out = append(out, k.ID)
	}
	return out
}

func TestEnvDatabaseURLFile(t *testing.T) {
	const url = "postgres://desk:hunter2@db.internal/notme"
	file := writeFile(t, t.TempDir(), "db-url", url+"\n", 0o600)
	cfg, err := Load("", envMap(map[string]string{"NOTME_DATABASE_URL_FILE": file}))
	if err != nil {
		t.Fatalf("Load(NOTME_DATABASE_URL_FILE) = %v", err)
	}
	if got := cfg.DatabaseURL(); got != url {
		t.Errorf("DatabaseURL() = %q, want %q (trailing newline trimmed)", got, url)
	}
	if s := fmt.Sprintf("%+v", cfg); strings.Contains(s, "hunter2") {
		t.Errorf("%%+v of the config shows the database password: %s", s)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const value = "hunter2-very-secret"
	cfg := Defaults()
	cfg.Database.URL = value
	cfg.Tokens.Keys = []TokenKeyConfig{{ID: 1, Secret: value}}
	s := Secret(value)
	ts := TokenSecret{ID: 1, Key: []byte(value)}

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		outputs = append(outputs,
			fmt.Sprintf(verb, s), fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg), fmt.Sprintf(verb, ts),
			fmt.Sprintf(verb, []Secret{s}), fmt.Sprintf(verb, map[string]Secret{"k": s}))
	}
	outputs = append(outputs, fmt.Sprint(s), fmt.Sprintln(cfg.Database), s.String(), s.GoString())

	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(h(&buf))
		log.Info("config", "secret", s, "config", cfg, "db", cfg.Database, "key", ts, slog.Any("keys", []TokenSecret{ts}))
		log.Info("attr", slog.Any("secret", s), slog.String("str", s.String()))
		outputs = append(outputs, buf.String())
	}

	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatalf("yaml.Marshal(config) = %v", err)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("json.Marshal(config) = %v", err)
	}
	jk, err := json.Marshal(ts)
	if err != nil {
		t.Fatalf("json.Marshal(TokenSecret) = %v", err)
	}
	outputs = append(outputs, string(y), string(j), string(jk))

	for _, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("output shows the secret: %s", out)
		}
	}
	if !strings.Contains(string(y), "url: '[redacted]'") || !strings.Contains(string(j), `"URL":"[redacted]"`) {
		t.Errorf("marshalled config does not show [redacted]:\n%s\n%s", y, j)
	}
	if got := fmt.Sprintf("%v|%#v|%q", s, s, s); got != `[redacted]|[redacted]|"[redacted]"` {
		t.Errorf("Sprintf(%%v|%%#v|%%q, secret) = %s", got)
	}
	if got := s.LogValue().String(); got != "[redacted]" {
		t.Errorf("LogValue() = %q, want [redacted]", got)
	}
	if got := fmt.Sprintf("[%v]", Secret("")); got != "[]" {
		t.Errorf("empty Secret prints %q, want empty", got)
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q, want the value", s.Reveal())
	}
}

func TestTokenSecretsGeneratesKeyFile(t *testing.T) {
	cfg := Defaults()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	first, err := cfg.TokenSecrets()
	if err != nil {
		t.Fatalf("TokenSecrets() = %v", err)
	}
	if len(first) != 1 || first[0].ID != 1 || len(first[0].Key) != 32 || bytes.Equal(first[0].Key, make([]byte, 32)) {
		t.Fatalf("TokenSecrets() = %v, want one random key with ID 1", first)
	}
	path := cfg.TokenKeyFile()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file %s: %v", path, err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", perm)
	}
	if di, err := os.Stat(cfg.DataDir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("data dir = %v, %v, want mode 0700", di.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	if want := "1:" + base64.StdEncoding.EncodeToString(first[0].Key) + "\n"; string(data) != want {
		t.Errorf("key file holds %d bytes, want one line ID:BASE64", len(data))
	}

	second, err := cfg.TokenSecrets()
	if err != nil || !reflect.DeepEqual(first[0].Key, second[0].Key) || len(second) != 1 {
		t.Fatalf("second TokenSecrets() = %v, %v, want the same key", second, err)
	}

	// Rotation: an operator prepends a new key; it seals, the old one opens.
	rotated := "2:" + key32(2) + "\n" + string(data)
	if err := os.WriteFile(path, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	third, err := cfg.TokenSecrets()
	if err != nil || !slices.Equal(ids(third), []byte{2, 1}) || !bytes.Equal(third[1].Key, first[0].Key) {
		t.Fatalf("TokenSecrets() after rotation = %v, %v, want IDs [2 1] keeping key 1", ids(third), err)
	}
}

func TestTokenSecretsKeyFileErrors(t *testing.T) {
	for _, c := range []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"readable by others", "1:" + key32(1) + "\n", 0o644, "chmod 600"},
		{"readable by group", "1:" + key32(1) + "\n", 0o640, "chmod 600"},
		{"31-byte key", "1:" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n", 0o600, "exactly 32 bytes"},
		{"duplicate IDs", "1:" + key32(1) + "\n1:" + key32(2) + "\n", 0o600, "used twice"},
		{"no colon", key32(1) + "\n", 0o600, "line 1: expected ID:BASE64"},
		{"empty", "\n", 0o600, "holds no key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.Tokens.KeyFile = writeFile(t, t.TempDir(), "token.key", c.content, c.mode)
			_, err := cfg.TokenSecrets()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), cfg.Tokens.KeyFile) {
				t.Fatalf("TokenSecrets() = %v, want an error naming the file and containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), key32(1)) {
				t.Errorf("TokenSecrets() = %q, repeats a key", err)
			}
		})
	}
}

func TestTokenSecretsConfiguredKeys(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "key2", key32(2)+"\n", 0o644) // secret_file may be 0644 (Kubernetes mounts)
	path := writeFile(t, dir, "notme.yaml", fmt.Sprintf(`
data_dir: %s
tokens:
  keys:
    - id: 2
      secret_file: %s
    - id: 1
      secret: %q
`, filepath.Join(dir, "data"), keyFile, base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32))), 0o644)
	cfg, err := Load(path, noEnv)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	secrets, err := cfg.TokenSecrets()
	want := []TokenSecret{{ID: 2, Key: bytes.Repeat([]byte{2}, 32)}, {ID: 1, Key: bytes.Repeat([]byte{0xff}, 32)}}
	if err != nil || !reflect.DeepEqual(secrets, want) {
		t.Fatalf("TokenSecrets() = %v, %v, want keys 2 (from secret_file) and 1", ids(secrets), err)
	}
	if _, err := os.Stat(cfg.TokenKeyFile()); err == nil {
		t.Errorf("TokenSecrets() created %s although keys are configured", cfg.TokenKeyFile())
	}

	for _, c := range []struct {
		name string
		keys []TokenKeyConfig
		want string
	}{
		{"31-byte key", []TokenKeyConfig{{ID: 1, Secret: Secret(base64.StdEncoding.EncodeToString(make([]byte, 31)))}}, "exactly 32 bytes"},
		{"not base64", []TokenKeyConfig{{ID: 1, Secret: "not base64!"}}, "tokens.keys[0].secret"},
		{"duplicate IDs", []TokenKeyConfig{{ID: 4, Secret: Secret(key32(1))}, {ID: 4, Secret: Secret(key32(2))}}, "used twice"},
		{"missing secret_file", []TokenKeyConfig{{ID: 1, SecretFile: filepath.Join(dir, "nope")}}, "tokens.keys[0].secret_file"},
	} {
		cfg := Defaults()
		cfg.Tokens.Keys = c.keys
		if _, err := cfg.TokenSecrets(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: TokenSecrets() = %v, want an error containing %q", c.name, err, c.want)
		}
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", c.name)
		}
	}
}

func TestDurationParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"15m", 15 * time.Minute, true},
		{"72h", 72 * time.Hour, true},
		{"1d", 24 * time.Hour, true},
		{"10d", 240 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"1.5h", 90 * time.Minute, true},
		{"0", 0, true},
		{"12", 0, false},
		{"d", 0, false},
		{"1d-1h", 0, false},
		{"99999999999d", 0, false},
		{"soon", 0, false},
	} {
		got, err := parseDuration(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseDuration(%q) = %v, %v, want %v (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
	for d, want := range map[time.Duration]string{
		12 * time.Hour: "12h", 15 * time.Minute: "15m", 5 * time.Second: "5s", 90 * time.Second: "1m30s", 0: "0s",
	} {
		if got := Duration(d).String(); got != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, got, want)
		}
	}
}

// The example file shows every key at its default: if a default changes,
// this fails until the example says so too.
func TestExampleMatchesDefaults(t *testing.T) {
	const path = "../config.example.yaml"
	cfg, err := Load(path, noEnv)
	if err != nil {
		t.Fatalf("Load(%s) = %v", path, err)
	}
	def := Defaults()
	if !reflect.DeepEqual(cfg, def) {
		got, _ := yaml.Marshal(cfg)
		want, _ := yaml.Marshal(def)
		t.Errorf("Load(%s) differs from Defaults():\n%s\nwant:\n%s", path, got, want)
	}
	for _, c := range []struct{ name, got, want string }{
		{"PublicURL", cfg.PublicURL(), def.PublicURL()},
		{"DatabaseURL", cfg.DatabaseURL(), def.DatabaseURL()},
		{"TokenKeyFile", cfg.TokenKeyFile(), def.TokenKeyFile()},
		{"MessageIDDomain", cfg.MessageIDDomain(), def.MessageIDDomain()},
	} {
		if c.got != c.want {
			t.Errorf("example %s() = %q, want %q", c.name, c.got, c.want)
		}
	}

	// Every key of the config appears in the example (tokens.keys only as a
	// commented-out rotation example).
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var example map[string]any
	if err := yaml.Unmarshal(raw, &example); err != nil {
		t.Fatal(err)
	}
	defYAML, err := yaml.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	var defaults map[string]any
	if err := yaml.Unmarshal(defYAML, &defaults); err != nil {
		t.Fatal(err)
	}
	for _, key := range missingKeys(defaults, example, "") {
		if key != "tokens.keys" {
			t.Errorf("%s does not show %s", path, key)
		}
	}
	if !strings.Contains(string(raw), "# keys:") {
		t.Errorf("%s does not show the commented-out tokens.keys example", path)
	}
}

func missingKeys(want, got map[string]any, prefix string) []string {
	var missing []string
	for k, wv := range want {
		gv, ok := got[k]
		if !ok {
			missing = append(missing, prefix+k)
			continue
		}
		if wm, ok := wv.(map[string]any); ok {
			gm, _ := gv.(map[string]any)
			missing = append(missing, missingKeys(wm, gm, prefix+k+".")...)
		}
	}
	return missing
}

// The rotation example in config.example.yaml must be valid YAML of the
// right shape once uncommented.
func TestExampleTokenKeysUncommented(t *testing.T) {
	raw, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	in := false
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "# keys:":
			in = true
		case in && strings.HasPrefix(trimmed, "#   "):
		default:
			in = false
		}
		if in {
			block = append(block, strings.Replace(line, "# ", "", 1))
		}
	}
	var tokens struct {
		Keys []TokenKeyConfig `yaml:"keys"`
	}
	dec := yaml.NewDecoder(strings.NewReader(strings.Join(block, "\n")))
	dec.KnownFields(true)
	if err := dec.Decode(&tokens); err != nil || len(tokens.Keys) != 2 || tokens.Keys[0].ID != 2 {
		t.Fatalf("uncommented tokens.keys example = %+v, %v, want two keys, newest (2) first:\n%s",
			tokens.Keys, err, strings.Join(block, "\n"))
	}
}
