package app

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"notme/cases"
	"notme/cases/sealed"
	"notme/inbox"
	"notme/inbox/acksend"
	"notme/internal/loopback"
	"notme/internal/mxcheck"
	"notme/ui"
)

// Config is the whole configuration of the desk. Load builds it from
// Defaults, then the YAML file, then NOTME_* environment variables, and
// validates it; nothing reads configuration from anywhere else.
type Config struct {
	DataDir    string                `yaml:"data_dir"`
	Log        LogConfig             `yaml:"log"`
	HTTP       HTTPConfig            `yaml:"http"`
	Database   DatabaseConfig        `yaml:"database"`
	Tokens     TokensConfig          `yaml:"tokens"`
	Kinds      map[string]KindConfig `yaml:"kinds"`
	SLA        SLAConfig             `yaml:"sla"`
	Reports    ReportsConfig         `yaml:"reports"`
	Mail       MailConfig            `yaml:"mail"`
	Escalation EscalationConfig      `yaml:"escalation"`
	Retention  RetentionConfig       `yaml:"retention"`
	Evidence   EvidenceConfig        `yaml:"evidence"`
	Ledger     LedgerConfig          `yaml:"ledger"`
	Webhooks   WebhooksConfig        `yaml:"webhooks"`
	Desk       DeskConfig            `yaml:"desk"`
	Auth       AuthConfig            `yaml:"auth"`
	Guard      GuardConfig           `yaml:"guard"`
}

// GuardConfig bounds the address guard and its public helper
// (docs/address-guard.md): a sending system asks the guard on every
// sign-up, with its key; anyone may ask the helper for a typo suggestion,
// from the pages of SuggestOrigins too.
type GuardConfig struct {
	Rate           RateConfig `yaml:"rate"`
	SuggestRate    RateConfig `yaml:"suggest_rate"`
	SuggestOrigins []string   `yaml:"suggest_origins"`
	// MXCheck makes the guard ask DNS whether the domain can receive mail
	// at all, through Resolver (host:port; "" = the system's first
	// nameserver), at most MXTimeout a question.
	MXCheck   bool     `yaml:"mx_check"`
	Resolver  string   `yaml:"resolver"`
	MXTimeout Duration `yaml:"mx_timeout"`
}

// AuthConfig is how staff sign-in resists guessing from many addresses:
// LoginFailuresBeforeDelay failed sign-ins in a row to one account lock
// it for sign-in for LoginFirstDelay, whatever the password; each further
// failure doubles the lock, up to LoginMaxDelay. A successful sign-in
// starts the count again. http.login_rate limits each client besides.
type AuthConfig struct {
	LoginFailuresBeforeDelay int      `yaml:"login_failures_before_delay"`
	LoginFirstDelay          Duration `yaml:"login_first_delay"`
	LoginMaxDelay            Duration `yaml:"login_max_delay"`
	// OIDC is single sign-on through an OpenID Connect provider; an empty
	// issuer keeps it off (docs/sign-in.md).
	OIDC OIDCConfig `yaml:"oidc"`
	// SecondFactorRoles must add a second factor before anything else
	// when they sign in with a password; single sign-on is exempt.
	SecondFactorRoles []string `yaml:"second_factor_roles"`
	// Passkeys allows passkeys (WebAuthn): as a second factor and as a
	// sign-in of their own. An install that signs in only through single
	// sign-on may turn them off.
	Passkeys bool `yaml:"passkeys"`
}

// OIDCConfig is the relying party's registration at the provider, the
// groups that give a role and the security-trained flag, and who may
// still sign in with a password.
type OIDCConfig struct {
	Name     string `yaml:"name"` // "Sign in with <name>"
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret: prefer NOTME_AUTH_OIDC_CLIENT_SECRET_FILE, a file
	// holding it, to the config file.
	ClientSecret Secret   `yaml:"client_secret"`
	Scopes       []string `yaml:"scopes"`
	GroupsClaim  string   `yaml:"groups_claim"`
	// Groups maps the provider's group names (as the groups claim carries
	// them: names, or object IDs in Entra ID) to a role and training.
	Groups OIDCGroupsConfig `yaml:"groups"`
	// PasswordLogin: all, breakglass (BreakGlassAdmin only) or off.
	PasswordLogin   string `yaml:"password_login"`
	BreakGlassAdmin string `yaml:"breakglass_admin"`
	// SessionRecheck ends a single sign-on session this long after the
	// provider last confirmed the person, who signs in through it again.
	SessionRecheck Duration `yaml:"session_recheck"`
}

// OIDCGroupsConfig lists the groups of each role (the highest wins) and
// the groups that make a person security-trained.
type OIDCGroupsConfig struct {
	Agent           []string `yaml:"agent"`
	Lead            []string `yaml:"lead"`
	Admin           []string `yaml:"admin"`
	SecurityTrained []string `yaml:"security_trained"`
}

// Enabled reports whether single sign-on is configured.
func (o OIDCConfig) Enabled() bool { return o.Issuer != "" }

// Mapping is the groups as the domain reads them.
func (o OIDCConfig) Mapping() cases.SSOMapping {
	m := cases.SSOMapping{Roles: map[string]cases.Role{}, Trained: o.Groups.SecurityTrained}
	for _, r := range []struct {
		role   cases.Role
		groups []string
	}{{cases.RoleAgent, o.Groups.Agent}, {cases.RoleLead, o.Groups.Lead}, {cases.RoleAdmin, o.Groups.Admin}} {
		for _, g := range r.groups {
			// A group in two roles gives the higher one, as a person in
			// two groups would get.
			m.Roles[g] = r.role
		}
	}
	return m
}

// DeskConfig is what the public pages say about who runs the desk.
type DeskConfig struct {
	// Company names the sender of the account mail on the link page
	// ("You received an email from Example Shop…"); CompanyJA in Japanese,
	// "" = Company. With no name the page says "an email from us".
	Company   string        `yaml:"company"`
	CompanyJA string        `yaml:"company_ja"`
	Contact   ContactConfig `yaml:"contact"`
}

// ContactConfig is the contact line of the reporter's status page; all
// empty shows none and promises no channel.
type ContactConfig struct {
	URL     string `yaml:"url"`   // a web form, https
	Phone   string `yaml:"phone"` // as dialled, e.g. 0120-000-000
	Hours   string `yaml:"hours"` // when the phone is answered
	HoursJA string `yaml:"hours_ja"`
}

// EvidenceConfig bounds the evidence viewer's memory whatever a mail's
// size and the number of viewers.
type EvidenceConfig struct {
	// ViewMaxBytes caps each text or HTML body the viewer shows; the page
	// says when a body was longer. Downloads are never cut.
	ViewMaxBytes int `yaml:"view_max_bytes"`
	// MaxConcurrentViews bounds the renders and downloads that hold a raw
	// mail at once; one more waits ViewWait for a turn, then gets a 503
	// page asking to try again in a few seconds.
	MaxConcurrentViews int      `yaml:"max_concurrent_views"`
	ViewWait           Duration `yaml:"view_wait"`
}

// RetentionConfig bounds how long personal data is kept.
type RetentionConfig struct {
	// Evidence: raw report mail older than this is purged; the case, its
	// reports and timeline and the mail's metadata stay.
	Evidence Duration `yaml:"evidence"`
	// Interval: how often the purge runs (and once at start).
	Interval Duration `yaml:"interval"`
}

// EscalationConfig switches the automatic escalation rules.
type EscalationConfig struct {
	// PossibleTakeover escalates a case at once when the reporter used the
	// link of a credential mail (set a password, or opened it).
	PossibleTakeover bool `yaml:"possible_takeover"`
	// The rules of app/slaconfig.go: thresholds, 0 turns a rule off.
	MultipleReporters int                 `yaml:"multiple_reporters"`
	SharedRecipient   int                 `yaml:"shared_recipient"`
	DomainCluster     DomainClusterConfig `yaml:"domain_cluster"`
	SLABreach         bool                `yaml:"sla_breach"`
}

// LogConfig is the log section: how much the desk logs and in what form.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug|info|warn|error
	Format string `yaml:"format"` // text|json
}

// HTTPConfig is the http section: the public and operations listeners,
// their timeouts, sessions and the per-client rate limits.
type HTTPConfig struct {
	Addr string `yaml:"addr"`
	// PublicURL is the base of links in mail and pages; "" means
	// http://localhost:<port of Addr>. Use Config.PublicURL to read it.
	PublicURL string `yaml:"public_url"`
	// TrustedProxies are CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// OpsAddr is the operations listener (/healthz, /readyz, /metrics),
	// apart from the public one, which keeps only /healthz; "" serves
	// none. OpsAllow are the CIDRs of the clients it answers, by the
	// connection's own address; none configured means loopback only.
	OpsAddr         string   `yaml:"ops_addr"`
	OpsAllow        []string `yaml:"ops_allow"`
	InsecureCookies bool     `yaml:"insecure_cookies"`
	SessionTTL      Duration `yaml:"session_ttl"`
	// SessionIdle ends a staff session unused this long, within SessionTTL.
	SessionIdle     Duration `yaml:"session_idle"`
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// ReadHeaderTimeout and ReadTimeout bound how long a client may take
	// to send a request's headers and its whole request; IdleTimeout how
	// long a kept-alive connection waits for the next one. A slow client
	// costs a connection for a bounded time.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	// Drain: on SIGTERM, how long /readyz answers 503 while everything is
	// still served, before the listener closes; behind a load balancer, at
	// least its health check interval times the failures it needs.
	Drain         Duration   `yaml:"drain"`
	ReportRate    RateConfig `yaml:"report_rate"` // public report POSTs per client IP
	LoginRate     RateConfig `yaml:"login_rate"`
	MaxBatchBytes int64      `yaml:"max_batch_bytes"` // body limit of the NDJSON ledger batch
	// DefaultLanguage is the pages' language (reporter and staff) when
	// neither ?lang=, the staff's lang cookie nor Accept-Language names en
	// or ja.
	DefaultLanguage string `yaml:"default_language"`
}

// RateConfig is a token-bucket rate limit: PerMinute refills the bucket,
// Burst is its size.
type RateConfig struct {
	PerMinute float64 `yaml:"per_minute"`
	Burst     int     `yaml:"burst"`
}

// DatabaseConfig is the database section: SQLite or PostgreSQL, and the
// connection pools.
type DatabaseConfig struct {
	// URL is "sqlite:PATH" (or "file:PATH") or "postgres://…"; "" means
	// sqlite:<data_dir>/notme.db. Use Config.DatabaseURL to read it. A
	// Secret because a postgres URL carries a password.
	URL         Secret   `yaml:"url"`
	BusyTimeout Duration `yaml:"busy_timeout"`
	ReadConns   int      `yaml:"read_conns"`
	// PostgreSQL pool of each instance (SQLite ignores these).
	MaxOpenConns    int      `yaml:"max_open_conns"`
	MaxIdleConns    int      `yaml:"max_idle_conns"`
	ConnMaxLifetime Duration `yaml:"conn_max_lifetime"`
}

// TokensConfig is the tokens section: the keys that seal link and status
// tokens, and the domain of the Message-IDs the desk mints.
type TokensConfig struct {
	// Keys are newest first: the first seals, all open. Empty means one
	// key generated on first use in KeyFile (see Config.TokenSecrets).
	Keys            []TokenKeyConfig `yaml:"keys"`
	KeyFile         string           `yaml:"key_file"`          // "" = <data_dir>/token.key
	MessageIDDomain string           `yaml:"message_id_domain"` // "" = host of the public URL
}

// TokenKeyConfig is one sealing key, by its id (written into every token
// it seals) and its secret, given inline or in a file.
type TokenKeyConfig struct {
	ID         int    `yaml:"id"`          // 1..255, unique
	Secret     Secret `yaml:"secret"`      // base64 (std or url, padded or not) of exactly 32 bytes
	SecretFile string `yaml:"secret_file"` // a file holding the base64 secret; exactly one of the two
}

// KindConfig is one kind of account mail in the kinds section: how staff
// see it, how severe a misdirected one is, and the containment it asks for.
type KindConfig struct {
	Label        string   `yaml:"label"`         // shown to staff; "" = the kind's name
	LabelJA      string   `yaml:"label_ja"`      // shown to staff reading Japanese; "" = label
	Severity     string   `yaml:"severity"`      // critical|high|normal|low
	Credential   bool     `yaml:"credential"`    // carries a credential link (set password, reset, magic login)
	PersonalData bool     `yaml:"personal_data"` // exposes the holder's personal data
	Actions      []string `yaml:"actions"`       // containment requested at once on an exact match
}

// SLAConfig is the sla section: per severity, the time to contain and to
// resolve a case, and the time to assess a personal-data breach.
type SLAConfig struct {
	// ContainBy is the time from the first report to containment, per
	// severity. A config map merges over the defaults.
	ContainBy map[string]Duration `yaml:"contain_by"`
	// ResolveBy likewise, to resolution; BreachAssessment is the time a
	// lead has to assess a case that exposed personal data.
	ResolveBy        map[string]Duration `yaml:"resolve_by"`
	BreachAssessment Duration            `yaml:"breach_assessment"`
}

// MailConfig is the desk's mail: the mailboxes it reads reports from and
// the server it sends acknowledgements through.
type MailConfig struct {
	// Address is the desk's own address: the From of acknowledgements,
	// and mail from it is never answered. "" = notme@<message_id_domain>.
	Address string `yaml:"address"`
	// ReportAddress is the mailbox the home page tells reporters to
	// forward mail to; "" says nothing about mail there.
	ReportAddress string `yaml:"report_address"`
	// OwnAddresses are further addresses of the desk (loop protection).
	OwnAddresses []string `yaml:"own_addresses"`
	// TrustedAuthservIDs are the authserv-ids of the desk's own receiving
	// MTA: a DMARC or SPF failure in its Authentication-Results holds the
	// acknowledgement back (backscatter). Others' fields are ignored.
	TrustedAuthservIDs []string `yaml:"trusted_authserv_ids"`
	// FeedbackLoopSenders are mailbox providers' feedback-loop senders
	// (addresses, or domains meaning any address at or below them). An
	// ARF report from one of them whose DKIM signature a trusted
	// authserv-id verified names the mail exactly and may request
	// containment; any other ARF report is a probable match for a person.
	FeedbackLoopSenders []string `yaml:"feedback_loop_senders"`
	// BounceSenders are the senders of the company's bounces (its
	// outbound MTA or mail service), in the same form. A bounce from one
	// of them, verified like a feedback-loop report, that fails a ledger
	// message's recipient permanently lists the address (reason bounce);
	// any other bounce is evidence only.
	BounceSenders []string `yaml:"bounce_senders"`
	// MaxSize is the largest mail parsed, in bytes; larger mail is kept
	// as evidence with the reason "too-large".
	MaxSize   int64           `yaml:"max_size"`
	Mailboxes []MailboxConfig `yaml:"mailboxes"`
	SMTP      SMTPConfig      `yaml:"smtp"`
	// AckWindow: at most one acknowledgement per address within it.
	AckWindow Duration `yaml:"ack_window"`
	// AckDomainPerHour: at most this many acknowledgements to one
	// recipient domain within an hour; more are held (backscatter).
	AckDomainPerHour int `yaml:"ack_domain_per_hour"`
	// StaleAfter: a mailbox with no successful fetch for this long is
	// alerted to leads and in the log.
	StaleAfter Duration `yaml:"stale_after"`
	// MailboxLease: with several instances on one database, each mailbox
	// is polled by the holder of its lease, renewed every third of this;
	// another instance takes over this long after the holder stops.
	MailboxLease Duration `yaml:"mailbox_lease"`
}

// MailboxConfig is one IMAP mailbox the poller reads.
type MailboxConfig struct {
	Name         string   `yaml:"name"`
	Addr         string   `yaml:"addr"`
	Security     string   `yaml:"security"` // tls, starttls, plain (loopback only)
	Username     string   `yaml:"username"`
	Password     Secret   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	Folder       string   `yaml:"folder"`
	DoneFolder   string   `yaml:"done_folder"`
	PollInterval Duration `yaml:"poll_interval"`
	FullCheck    Duration `yaml:"full_check"`
	BatchSize    int      `yaml:"batch_size"`
	// IdleRefresh: IDLE is ended, a NOOP sent and IDLE re-issued this often
	// (RFC 2177: at most 29m); Timeout: the most silence while awaiting the
	// server before the connection is dropped and made again.
	IdleRefresh Duration `yaml:"idle_refresh"`
	Timeout     Duration `yaml:"timeout"`
}

// SMTPConfig is the submission server for acknowledgements; an empty Addr
// queues them without sending.
type SMTPConfig struct {
	Addr         string `yaml:"addr"`
	Security     string `yaml:"security"` // tls, starttls, plain (loopback only)
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	HelloName    string `yaml:"hello_name"`
}

// ReportsConfig is the reports section: how reports are taken, grouped
// into cases and reopened, and how unmatched ones are triaged.
type ReportsConfig struct {
	NoteMaxChars int `yaml:"note_max_chars"`
	// ReopenWindow: a new report within it of a case's resolution reopens
	// the case instead of opening a new one.
	ReopenWindow Duration `yaml:"reopen_window"`
	// SameBrowserWindow: the same browser opening the same "not me" link
	// again within it (Back, reload) gets its first report's form, so the
	// button again leads to the first report, not a second one.
	SameBrowserWindow Duration `yaml:"same_browser_window"`
	// TriageCasesPerClientHour bounds the unmatched (triage) cases one
	// client opens per hour; over it, its reports join its newest one.
	TriageCasesPerClientHour int `yaml:"triage_cases_per_client_hour"`
	// TriageBurst unmatched reports desk-wide within TriageBurstWindow are
	// a burst: further ones share one triage case per window.
	TriageBurst       int      `yaml:"triage_burst"`
	TriageBurstWindow Duration `yaml:"triage_burst_window"`
}

// severities are cases.Severities as config spells them, strongest first.
var severities = func() []string {
	out := make([]string, len(cases.Severities))
	for i, s := range cases.Severities {
		out[i] = string(s)
	}
	return out
}()

// kindActions are the containment actions a kind may request: cases owns
// them.
var kindActions = cases.Actions

// Defaults returns the configuration used when nothing is configured. Each
// call returns fresh maps and slices.
func Defaults() Config {
	return Config{
		DataDir: "./data",
		Log:     LogConfig{Level: "info", Format: "text"},
		Guard: GuardConfig{Rate: RateConfig(ui.DefaultGuardRate), SuggestRate: RateConfig(ui.DefaultSuggestRate),
			MXTimeout: Duration(mxcheck.DefaultTimeout)},
		Auth: AuthConfig{
			LoginFailuresBeforeDelay: cases.DefaultLoginFailuresBeforeDelay,
			LoginFirstDelay:          Duration(cases.DefaultLoginFirstDelay),
			LoginMaxDelay:            Duration(cases.DefaultLoginMaxDelay),
			SecondFactorRoles:        []string{string(cases.RoleLead), string(cases.RoleAdmin)},
			Passkeys:                 true,
			OIDC: OIDCConfig{
				Scopes:         []string{"openid", "email", "profile"},
				GroupsClaim:    "groups",
				PasswordLogin:  string(cases.PasswordLoginAll),
				SessionRecheck: Duration(cases.DefaultSSORecheck),
			},
		},
		HTTP: HTTPConfig{
			Addr:              ":8080",
			OpsAddr:           "127.0.0.1:9090",
			SessionTTL:        Duration(ui.DefaultSessionTTL),
			SessionIdle:       Duration(cases.DefaultSessionIdle),
			ShutdownTimeout:   Duration(15 * time.Second),
			ReadHeaderTimeout: Duration(10 * time.Second),
			ReadTimeout:       Duration(60 * time.Second),
			IdleTimeout:       Duration(120 * time.Second),
			ReportRate:        RateConfig(ui.DefaultReportRate),
			LoginRate:         RateConfig(ui.DefaultLoginRate),
			MaxBatchBytes:     ui.DefaultMaxBatchBytes,
			DefaultLanguage:   "en",
		},
		Database: DatabaseConfig{
			BusyTimeout:     Duration(5 * time.Second),
			ReadConns:       4,
			MaxOpenConns:    20,
			MaxIdleConns:    10,
			ConnMaxLifetime: Duration(30 * time.Minute),
		},
		Kinds: defaultKinds(),
		SLA: SLAConfig{ContainBy: defaultContainBy(), ResolveBy: defaultResolveBy(),
			BreachAssessment: Duration(cases.DefaultBreachAssessment)},
		Reports: ReportsConfig{
			NoteMaxChars:      cases.DefaultNoteMaxChars,
			ReopenWindow:      Duration(cases.DefaultReopenWindow),
			SameBrowserWindow: Duration(30 * time.Minute),

			TriageCasesPerClientHour: cases.DefaultTriagePerClientHour,
			TriageBurst:              cases.DefaultTriageBurst,
			TriageBurstWindow:        Duration(cases.DefaultTriageBurstWindow),
		},
		Escalation: defaultEscalation(),
		Retention:  RetentionConfig{Evidence: Duration(90 * 24 * time.Hour), Interval: Duration(24 * time.Hour)},
		Evidence: EvidenceConfig{ViewMaxBytes: ui.DefaultEvidenceViewMaxBytes,
			MaxConcurrentViews: ui.DefaultEvidenceMaxConcurrentViews, ViewWait: Duration(ui.DefaultEvidenceViewWait)},
		Ledger:   defaultLedger(),
		Webhooks: defaultWebhooks(),
		Mail: MailConfig{
			MaxSize:          25 << 20,
			SMTP:             SMTPConfig{Security: acksend.DefaultSMTPSecurity, HelloName: acksend.DefaultSMTPHelloName},
			AckWindow:        Duration(cases.DefaultAckWindow),
			AckDomainPerHour: cases.DefaultAckDomainPerHour,
			StaleAfter:       Duration(ui.DefaultMailboxStaleAfter),
			MailboxLease:     Duration(inbox.DefaultLeaseTTL),
		},
	}
}

func defaultKinds() map[string]KindConfig {
	credentialActions := func() []string {
		return []string{"revoke_pending_links", "suppress_recipient", "require_reverification"}
	}
	return map[string]KindConfig{
		"registration": {
			Label: "Registration / set your password", LabelJA: "会員登録・パスワード設定", Severity: "high", Credential: true,
			Actions: credentialActions(),
		},
		"password_reset": {
			Label: "Password reset", LabelJA: "パスワード再設定", Severity: "high", Credential: true,
			Actions: credentialActions(),
		},
		"order_confirmation": {
			Label: "Order confirmation", LabelJA: "注文確認", Severity: "normal", PersonalData: true,
			Actions: []string{"suppress_recipient", "require_reverification"},
		},
		"postal_notice": {
			Label: "Postal notice", LabelJA: "郵送のお知らせ", Severity: "high", PersonalData: true,
			Actions: []string{"suppress_recipient", "require_reverification", "contact_owner"},
		},
		"newsletter": {
			Label: "Newsletter", LabelJA: "メールマガジン", Severity: "low",
			Actions: []string{"suppress_recipient"},
		},
	}
}

func defaultContainBy() map[string]Duration { return severityDurations(cases.DefaultContainBy()) }

// severityDurations is a per-severity map of cases as config spells it.
func severityDurations(m map[cases.Severity]time.Duration) map[string]Duration {
	out := make(map[string]Duration, len(m))
	for sev, d := range m {
		out[string(sev)] = Duration(d)
	}
	return out
}

// DefaultConfigFile is read when Load is given no path and it exists.
const DefaultConfigFile = "notme.yaml"

// Load builds the configuration: Defaults, then the YAML file at path, then
// NOTME_* variables from env, then Validate. An empty path means
// ./notme.yaml if it exists, else no file; a named file that is missing is
// an error. env is os.LookupEnv in production. Errors name the file, the
// variable or the key at fault; callers add "config: ".
func Load(path string, env func(string) (string, bool)) (Config, error) {
	cfg := Defaults()
	if path == "" {
		if _, err := os.Stat(DefaultConfigFile); err == nil {
			path = DefaultConfigFile
		} else if !errors.Is(err, fs.ErrNotExist) {
			return Config{}, err
		}
	}
	if path != "" {
		if err := cfg.readFile(path); err != nil {
			return Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	if env != nil {
		if err := cfg.applyEnv(env); err != nil {
			return Config{}, err
		}
	}
	cfg.normalize()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c *Config) readFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// A file that names kinds replaces the default set whole; contain_by
	// merges over the defaults (normalize puts back missing severities).
	c.Kinds = nil
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	if c.Kinds == nil {
		c.Kinds = defaultKinds()
	}
	return nil
}

// normalize fills what the file and environment may leave implicit.
func (c *Config) normalize() {
	if len(c.Mail.OwnAddresses) == 0 {
		c.Mail.OwnAddresses = nil
	}
	if len(c.Mail.TrustedAuthservIDs) == 0 {
		c.Mail.TrustedAuthservIDs = nil
	}
	if len(c.Mail.FeedbackLoopSenders) == 0 {
		c.Mail.FeedbackLoopSenders = nil
	}
	if len(c.Mail.BounceSenders) == 0 {
		c.Mail.BounceSenders = nil
	}
	if len(c.Mail.Mailboxes) == 0 {
		c.Mail.Mailboxes = nil
	}
	for i := range c.Mail.Mailboxes {
		m := &c.Mail.Mailboxes[i]
		// inbox owns a mailbox's defaults.
		m.Security = cmp.Or(m.Security, inbox.SecurityTLS)
		m.Folder = cmp.Or(m.Folder, inbox.DefaultFolder)
		m.DoneFolder = cmp.Or(m.DoneFolder, inbox.DefaultDoneFolder)
		m.PollInterval = cmp.Or(m.PollInterval, Duration(inbox.DefaultPollInterval))
		m.FullCheck = cmp.Or(m.FullCheck, Duration(inbox.DefaultFullCheck))
		m.BatchSize = cmp.Or(m.BatchSize, inbox.DefaultBatchSize)
		m.IdleRefresh = cmp.Or(m.IdleRefresh, Duration(inbox.DefaultIdleRefresh))
		m.Timeout = cmp.Or(m.Timeout, Duration(inbox.DefaultTimeout))
	}
	c.HTTP.PublicURL = strings.TrimRight(c.HTTP.PublicURL, "/")
	if len(c.HTTP.TrustedProxies) == 0 {
		c.HTTP.TrustedProxies = nil // "[]" and "none" read the same
	}
	if len(c.Webhooks.Secrets) == 0 {
		c.Webhooks.Secrets = nil
	}
	if len(c.Guard.SuggestOrigins) == 0 {
		c.Guard.SuggestOrigins = nil
	}
	if len(c.Tokens.Keys) == 0 {
		c.Tokens.Keys = nil // "[]" and none read the same: a generated key
	}
	for _, g := range []*[]string{&c.Auth.OIDC.Groups.Agent, &c.Auth.OIDC.Groups.Lead, &c.Auth.OIDC.Groups.Admin, &c.Auth.OIDC.Groups.SecurityTrained} {
		if len(*g) == 0 {
			*g = nil // "[]" and none read the same
		}
	}
	if len(c.HTTP.OpsAllow) == 0 {
		c.HTTP.OpsAllow = nil // "[]" and "none" read the same: loopback
	}
	if c.SLA.ContainBy == nil {
		c.SLA.ContainBy = map[string]Duration{}
	}
	for sev, d := range defaultContainBy() {
		if _, ok := c.SLA.ContainBy[sev]; !ok {
			c.SLA.ContainBy[sev] = d
		}
	}
	c.normalizeSLA()
	for name, k := range c.Kinds {
		if k.Label == "" {
			k.Label = name
		}
		if len(k.Actions) == 0 {
			k.Actions = nil
		}
		c.Kinds[name] = k
	}
}

// PublicURL is the resolved base URL of the desk, without a trailing slash.
func (c Config) PublicURL() string {
	if c.HTTP.PublicURL != "" {
		return strings.TrimRight(c.HTTP.PublicURL, "/")
	}
	if _, port, err := net.SplitHostPort(c.HTTP.Addr); err == nil && port != "" {
		return "http://localhost:" + port
	}
	return "http://localhost"
}

// DatabaseURL is the resolved database URL. It may hold a password: do not
// log it.
func (c Config) DatabaseURL() string {
	if c.Database.URL != "" {
		return c.Database.URL.Reveal()
	}
	return "sqlite:" + joinPath(c.DataDir, "notme.db")
}

// TokenKeyFile is the resolved path of the generated token key file.
func (c Config) TokenKeyFile() string {
	if c.Tokens.KeyFile != "" {
		return c.Tokens.KeyFile
	}
	return joinPath(c.DataDir, "token.key")
}

// MessageIDDomain is the right-hand side of minted Message-IDs: the
// configured domain, else the host of the public URL.
func (c Config) MessageIDDomain() string {
	if c.Tokens.MessageIDDomain != "" {
		return c.Tokens.MessageIDDomain
	}
	u, err := url.Parse(c.PublicURL())
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		return "[" + host + "]" // RFC 5322 section 3.6.4: no-fold-literal for an IPv6 host
	}
	return host
}

// joinPath keeps a "./" prefix that filepath.Join would drop, so resolved
// paths read like the configured ones.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return strings.TrimRight(dir, "/") + "/" + name
}

// Validate checks every value and reports each bad one with its key, joined
// with errors.Join. It reads token secret_file files to check them.
func (c *Config) Validate() error {
	var v validator

	if strings.TrimSpace(c.DataDir) == "" {
		v.add("data_dir", "must not be empty")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		v.add("log.level", "must be one of debug, info, warn, error")
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		v.add("log.format", "must be text or json")
	}

	c.validateHTTP(&v)
	c.validateDatabase(&v)
	c.validateTokens(&v)
	c.validateKinds(&v)
	c.validateMail(&v)
	c.validateWebhooks(&v)

	for _, sev := range sortedKeys(c.SLA.ContainBy) {
		key := "sla.contain_by." + sev
		if !slices.Contains(severities, sev) {
			v.add(key, "unknown severity; use critical, high, normal or low")
		} else if c.SLA.ContainBy[sev] <= 0 {
			v.add(key, "must be positive")
		}
	}
	for _, sev := range severities {
		if _, ok := c.SLA.ContainBy[sev]; !ok {
			v.add("sla.contain_by."+sev, "missing")
		}
	}
	c.validateSLA(&v)
	if c.Evidence.ViewMaxBytes < 1<<10 || c.Evidence.ViewMaxBytes > ui.MaxEvidenceViewMaxBytes {
		v.add("evidence.view_max_bytes", fmt.Sprintf("must be between 1024 and %d", ui.MaxEvidenceViewMaxBytes))
	}
	if c.Evidence.MaxConcurrentViews < 1 || c.Evidence.MaxConcurrentViews > 64 {
		v.add("evidence.max_concurrent_views", "must be between 1 and 64")
	}
	if c.Evidence.ViewWait <= 0 || c.Evidence.ViewWait.D() > time.Minute {
		v.add("evidence.view_wait", "must be positive and at most 1m")
	}
	if c.Reports.NoteMaxChars < 1 {
		v.add("reports.note_max_chars", "must be at least 1")
	}
	if c.Reports.ReopenWindow <= 0 {
		v.add("reports.reopen_window", "must be positive")
	}
	if c.Retention.Evidence < Duration(24*time.Hour) {
		v.add("retention.evidence", "must be at least 1d: evidence of cases still being worked must stay")
	}
	if c.Retention.Interval < Duration(time.Minute) {
		v.add("retention.interval", "must be at least 1m")
	}
	if c.Reports.SameBrowserWindow < 0 || c.Reports.SameBrowserWindow > Duration(24*time.Hour) {
		v.add("reports.same_browser_window", "must be between 0 (off) and 24h")
	}
	if c.Reports.TriageCasesPerClientHour < 1 {
		v.add("reports.triage_cases_per_client_hour", "must be at least 1")
	}
	if c.Reports.TriageBurst < 1 {
		v.add("reports.triage_burst", "must be at least 1")
	}
	if c.Reports.TriageBurstWindow < Duration(time.Minute) || c.Reports.TriageBurstWindow > Duration(24*time.Hour) {
		v.add("reports.triage_burst_window", "must be between 1m and 24h")
	}
	c.validateDesk(&v)
	c.validateGuard(&v)
	c.validateLedger(&v)
	return v.err()
}

func (c *Config) validateHTTP(v *validator) {
	h := &c.HTTP
	if host, port, err := net.SplitHostPort(h.Addr); err != nil {
		v.add("http.addr", "must be host:port, like :8080 or 127.0.0.1:8080")
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add("http.addr", "port must be a number from 0 to 65535")
	} else if strings.ContainsAny(host, "/ ") {
		v.add("http.addr", "must be host:port, like :8080 or 127.0.0.1:8080")
	}
	if h.PublicURL != "" {
		u, err := url.Parse(h.PublicURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
			v.add("http.public_url", "must be an absolute http or https URL")
		case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(h.PublicURL, "#"):
			v.add("http.public_url", "must not have a query or fragment")
		case u.User != nil:
			v.add("http.public_url", "must not contain user information")
		}
	}
	for i, p := range h.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil {
			v.add(fmt.Sprintf("http.trusted_proxies[%d]", i),
				fmt.Sprintf("%q is not a CIDR like 10.0.0.0/8 (one address: 192.0.2.1/32)", p))
		}
	}
	if h.OpsAddr != "" {
		if host, port, err := net.SplitHostPort(h.OpsAddr); err != nil || strings.ContainsAny(host, "/ ") {
			v.add("http.ops_addr", "must be host:port, like 127.0.0.1:9090, or empty for no operations listener")
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			v.add("http.ops_addr", "port must be a number from 0 to 65535")
		} else if n != 0 && h.OpsAddr == h.Addr {
			v.add("http.ops_addr", "must differ from http.addr: /metrics must not be on the public listener")
		}
	}
	for i, p := range h.OpsAllow {
		if _, _, err := net.ParseCIDR(p); err != nil {
			v.add(fmt.Sprintf("http.ops_allow[%d]", i),
				fmt.Sprintf("%q is not a CIDR like 10.0.0.0/8 (one address: 192.0.2.1/32)", p))
		}
	}
	if h.DefaultLanguage != "en" && h.DefaultLanguage != "ja" {
		v.add("http.default_language", "must be en or ja")
	}
	for _, r := range c.Auth.SecondFactorRoles {
		if !cases.Role(r).Valid() {
			v.add("auth.second_factor_roles", fmt.Sprintf("%q is not a role: agent, lead or admin", r))
		}
	}
	if a := c.Auth; a.LoginFailuresBeforeDelay < 1 || a.LoginFailuresBeforeDelay > 100 {
		v.add("auth.login_failures_before_delay", "must be from 1 to 100")
	}
	if a := c.Auth; a.LoginFirstDelay < Duration(time.Second) || a.LoginFirstDelay > Duration(time.Hour) {
		v.add("auth.login_first_delay", "must be from 1s to 1h")
	}
	if a := c.Auth; a.LoginMaxDelay < a.LoginFirstDelay || a.LoginMaxDelay > Duration(24*time.Hour) {
		v.add("auth.login_max_delay", "must be at least auth.login_first_delay and at most 24h")
	}
	if h.SessionTTL <= 0 {
		v.add("http.session_ttl", "must be positive")
	}
	if h.SessionIdle < Duration(time.Minute) || h.SessionIdle > h.SessionTTL && h.SessionTTL > 0 {
		v.add("http.session_idle", "must be at least 1m and at most http.session_ttl")
	}
	c.validateOIDC(v)
	if h.ShutdownTimeout <= 0 {
		v.add("http.shutdown_timeout", "must be positive")
	}
	if h.ReadHeaderTimeout <= 0 {
		v.add("http.read_header_timeout", "must be positive")
	}
	if h.ReadTimeout <= 0 || h.ReadTimeout < h.ReadHeaderTimeout {
		v.add("http.read_timeout", "must be positive and at least http.read_header_timeout")
	}
	if h.IdleTimeout <= 0 {
		v.add("http.idle_timeout", "must be positive")
	}
	if h.Drain < 0 || h.Drain > Duration(10*time.Minute) {
		v.add("http.drain", "must be between 0 (none) and 10m")
	}
	for _, r := range []struct {
		key  string
		rate RateConfig
	}{{"http.report_rate", h.ReportRate}, {"http.login_rate", h.LoginRate}} {
		if !(r.rate.PerMinute > 0) || math.IsInf(r.rate.PerMinute, 0) {
			v.add(r.key+".per_minute", "must be a positive number")
		}
		if r.rate.Burst < 1 {
			v.add(r.key+".burst", "must be at least 1")
		}
	}
	if h.MaxBatchBytes <= 0 {
		v.add("http.max_batch_bytes", "must be positive")
	}
}

func (c *Config) validateDatabase(v *validator) {
	// The URL is a Secret: messages never repeat it.
	if u := c.Database.URL.Reveal(); u != "" {
		switch {
		case strings.HasPrefix(u, "sqlite:"), strings.HasPrefix(u, "file:"):
			path, _ := strings.CutPrefix(strings.TrimPrefix(u, "sqlite:"), "file:")
			if path == "" || strings.HasPrefix(path, "?") {
				v.add("database.url", "sqlite needs a path, like sqlite:./data/notme.db")
			}
		case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
			if pu, err := url.Parse(u); err != nil || pu.Host == "" {
				v.add("database.url", "must be a postgres URL like postgres://user@host/db")
			}
		default:
			v.add("database.url", "must start with sqlite:, file:, postgres:// or postgresql://")
		}
	}
	if c.Database.BusyTimeout < 0 {
		v.add("database.busy_timeout", "must not be negative")
	}
	if c.Database.ReadConns < 1 {
		v.add("database.read_conns", "must be at least 1")
	}
	if c.Database.MaxOpenConns < 1 {
		v.add("database.max_open_conns", "must be at least 1")
	}
	if c.Database.MaxIdleConns < 0 || c.Database.MaxIdleConns > c.Database.MaxOpenConns {
		v.add("database.max_idle_conns", "must be between 0 and max_open_conns")
	}
	if c.Database.ConnMaxLifetime < 0 {
		v.add("database.conn_max_lifetime", "must not be negative (0 keeps connections)")
	}
}

func (c *Config) validateTokens(v *validator) {
	_, errs := c.configuredTokenSecrets()
	v.errs = append(v.errs, errs...)
	if d := c.Tokens.MessageIDDomain; d != "" && !domainRE.MatchString(d) {
		v.add("tokens.message_id_domain", "must be a domain name like mail.example.com")
	}
}

var (
	domainRE   = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	kindNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
)

func (c *Config) validateKinds(v *validator) {
	if len(c.Kinds) == 0 {
		v.add("kinds", "at least one kind is required")
	}
	for _, name := range sortedKeys(c.Kinds) {
		k := c.Kinds[name]
		key := "kinds." + name
		if !kindNameRE.MatchString(name) {
			v.add(key, "name must be lower-case letters, digits, '_', '.' or '-' (at most 64)")
		}
		if !slices.Contains(severities, k.Severity) {
			v.add(key+".severity", "must be one of critical, high, normal, low")
		}
		for i, a := range k.Actions {
			akey := fmt.Sprintf("%s.actions[%d]", key, i)
			if !slices.Contains(kindActions, a) {
				v.add(akey, fmt.Sprintf("unknown action %q; use %s", a, strings.Join(kindActions, ", ")))
			} else if slices.Contains(k.Actions[:i], a) {
				v.add(akey, fmt.Sprintf("%q is listed twice", a))
			}
		}
	}
}

type validator struct{ errs []error }

func (v *validator) add(key, msg string) { v.errs = append(v.errs, errors.New(key+": "+msg)) }

func (v *validator) err() error { return errors.Join(v.errs...) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TokenSecrets resolves the sealing keys, newest first. Configured keys are
// decoded (reading secret_file where used). Without configured keys the key
// file is read, and created on first use with one fresh key (ID 1, mode
// 0600, its directory 0700). The key file holds one "ID:BASE64" line per
// key, newest first, so an operator rotates by prepending a line; it is
// refused when group or others may access it.
func (c Config) TokenSecrets() ([]TokenSecret, error) {
	if len(c.Tokens.Keys) > 0 {
		out, errs := c.configuredTokenSecrets()
		if len(errs) > 0 {
			return nil, errs[0]
		}
		return out, nil
	}

	path := c.TokenKeyFile()
	secrets, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKeyFile(path); err != nil {
			return nil, fmt.Errorf("token key file %s: %w", path, err)
		}
		secrets, err = readKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("token key file %s: %w", path, err)
	}
	return secrets, nil
}

func readKeyFile(path string) ([]TokenSecret, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	// Windows reports no group or other bits worth checking.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("group or others may access it (mode %04o); run chmod 600 on it", perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, err
	}
	secrets, err := parseTokenKeys(string(data), "\n", "line")
	if err != nil {
		return nil, err
	}
	if len(secrets) == 0 {
		return nil, errors.New("holds no key; expected lines of ID:BASE64")
	}
	return secrets, nil
}

func createKeyFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	key := make([]byte, sealed.SecretLen)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	// O_EXCL: when two processes start at once, one key wins and the other
	// process reads it instead of overwriting it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "1:%s\n", base64.StdEncoding.EncodeToString(key))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

// parseTokenKeys reads "ID:BASE64" entries split by sep; blank entries and
// "#" comments are skipped. Errors name the entry by its position (unit is
// "line" or "entry") and never repeat a secret.
func parseTokenKeys(s, sep, unit string) ([]TokenSecret, error) {
	var out []TokenSecret
	for i, entry := range strings.Split(s, sep) {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			continue
		}
		idText, b64, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("%s %d: expected ID:BASE64", unit, i+1)
		}
		id, err := strconv.Atoi(strings.TrimSpace(idText))
		if err == nil {
			err = checkTokenKeyID(id)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %d: key ID must be a number from 1 to 255", unit, i+1)
		}
		key, err := decodeTokenKey(b64)
		if err != nil {
			return nil, fmt.Errorf("%s %d (key %d): %w", unit, i+1, id, err)
		}
		out = append(out, TokenSecret{ID: byte(id), Key: key})
	}
	if err := checkUniqueIDs(out); err != nil {
		return nil, err
	}
	return out, nil
}

// configuredTokenSecrets decodes tokens.keys: the one check of a
// configured token key, for Validate and TokenSecrets alike. Each error
// names its key ("tokens.keys[1].id: ..."); the secrets are those that
// passed.
func (c Config) configuredTokenSecrets() ([]TokenSecret, []error) {
	var out []TokenSecret
	var errs []error
	seen := map[int]bool{}
	for i, k := range c.Tokens.Keys {
		key := fmt.Sprintf("tokens.keys[%d]", i)
		bad := func(sub string, err error) { errs = append(errs, fmt.Errorf("%s%s: %w", key, sub, err)) }
		idOK := false
		if err := checkTokenKeyID(k.ID); err != nil {
			bad(".id", err)
		} else if seen[k.ID] {
			bad(".id", fmt.Errorf("%d is used twice", k.ID))
		} else {
			idOK = true
		}
		seen[k.ID] = true
		var b []byte
		var err error
		switch {
		case (k.Secret == "") == (k.SecretFile == ""):
			bad("", errors.New("set exactly one of secret and secret_file"))
			continue
		case k.Secret != "":
			if b, err = decodeTokenKey(k.Secret.Reveal()); err != nil {
				bad(".secret", err)
				continue
			}
		default:
			if b, err = readTokenKeyFile(k.SecretFile); err != nil {
				bad(".secret_file", err)
				continue
			}
		}
		if idOK {
			out = append(out, TokenSecret{ID: byte(k.ID), Key: b})
		}
	}
	return out, errs
}

// checkTokenKeyID is the rule of a token key's ID, configured or in a key
// file: it is the token's key byte, and 0 is never used.
func checkTokenKeyID(id int) error {
	if id < 1 || id > 255 {
		return errors.New("must be from 1 to 255")
	}
	return nil
}

func checkUniqueIDs(secrets []TokenSecret) error {
	seen := map[byte]bool{}
	for _, s := range secrets {
		if seen[s.ID] {
			return fmt.Errorf("key ID %d is used twice", s.ID)
		}
		seen[s.ID] = true
	}
	return nil
}

// decodeTokenKey accepts standard or URL-safe base64, padded or not, of
// exactly 32 bytes. Its errors never contain the input.
func decodeTokenKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != sealed.SecretLen {
				return nil, fmt.Errorf("must be base64 of exactly %d bytes, not %d", sealed.SecretLen, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("must be base64 of exactly %d bytes (openssl rand -base64 %[1]d)", sealed.SecretLen)
}

func readTokenKeyFile(path string) ([]byte, error) {
	s, err := readSecretFile(path)
	if err != nil {
		return nil, err
	}
	return decodeTokenKey(s)
}

// readSecretFile reads a small file holding one secret and drops the
// trailing newline editors and `echo` add.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	const limit = 64 << 10
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", err
	}
	if len(data) > limit {
		return "", fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

// Duration is a time.Duration written as a Go duration string ("15m",
// "72h"); a whole number of days may be written "10d" (or "1d12h").
type Duration time.Duration

func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return formatDuration(time.Duration(d)) }

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration like 15m, 72h or 10d", n.Line)
	}
	p, err := parseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(p)
	return nil
}

// MarshalYAML writes whole days beyond three as days ("14d"), as a person
// would; UnmarshalYAML reads them back.
func (d Duration) MarshalYAML() (any, error) { return docDuration(d), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	p, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(p)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

var daysRE = regexp.MustCompile(`^(\d+)d(.*)$`)

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a duration like 15m, 72h or 10d", s)
	m := daysRE.FindStringSubmatch(s)
	if m == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, bad
		}
		return d, nil
	}
	days, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || days > int64(math.MaxInt64/(24*time.Hour)) {
		return 0, bad
	}
	d := time.Duration(days) * 24 * time.Hour
	if m[2] != "" {
		rest, err := time.ParseDuration(m[2])
		if err != nil || rest < 0 || d+rest < d {
			return 0, bad
		}
		d += rest
	}
	return d, nil
}

// formatDuration writes whole hours, minutes or seconds the way people write
// them in config ("12h", "15m", "5s") and anything else as time.Duration does.
func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	default:
		return d.String()
	}
}

// Environment overrides: every scalar key is NOTME_ followed by its YAML
// path upper-cased and joined with "_" (NOTME_HTTP_PUBLIC_URL). Lists are
// comma-separated; a Secret also takes NAME_FILE naming a file that holds it;
// map entries already present are reachable by their key
// (NOTME_SLA_CONTAIN_BY_CRITICAL, NOTME_KINDS_NEWSLETTER_SEVERITY).
// NOTME_TOKENS_KEYS="2:BASE64,1:BASE64" (or NOTME_TOKENS_KEYS_FILE with one
// entry a line) replaces the configured token keys.
const envPrefix = "NOTME"

func (c *Config) applyEnv(env func(string) (string, bool)) error {
	var errs []error
	applyEnvStruct(reflect.ValueOf(c).Elem(), envPrefix, env, &errs)
	return errors.Join(errs...)
}

var (
	secretType    = reflect.TypeFor[Secret]()
	durationType  = reflect.TypeFor[Duration]()
	tokenKeysType = reflect.TypeFor[[]TokenKeyConfig]()
)

func applyEnvStruct(v reflect.Value, prefix string, env func(string) (string, bool), errs *[]error) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		applyEnvValue(v.Field(i), prefix+"_"+envName(name), env, errs)
	}
}

func envName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		default:
			return '_'
		}
	}, s)
}

func applyEnvValue(v reflect.Value, name string, env func(string) (string, bool), errs *[]error) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	switch v.Type() {
	case secretType:
		val, ok := env(name)
		file, fileOK := env(name + "_FILE")
		switch {
		case ok && fileOK:
			fail("set only one of %s and %s_FILE", name, name)
		case ok:
			v.SetString(val)
		case fileOK:
			s, err := readSecretFile(file)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s_FILE: %w", name, err))
				return
			}
			v.SetString(s)
		}
		return
	case tokenKeysType:
		applyEnvTokenKeys(v, name, env, errs)
		return
	}

	switch v.Kind() {
	case reflect.Struct:
		applyEnvStruct(v, name, env, errs)
		return
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.IsNil() {
			return
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			elem := reflect.New(v.Type().Elem()).Elem()
			elem.Set(v.MapIndex(k))
			applyEnvValue(elem, name+"_"+envName(k.String()), env, errs)
			v.SetMapIndex(k, elem)
		}
		return
	}

	val, ok := env(name)
	if !ok {
		return
	}
	if v.Type() == durationType {
		d, err := parseDuration(val)
		if err != nil {
			fail("%v", err)
			return
		}
		v.SetInt(int64(d))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(val)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(val))
		if err != nil {
			fail("%q is not a boolean (true or false)", val)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, v.Type().Bits())
		if err != nil {
			fail("%q is not an integer", val)
			return
		}
		v.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			fail("%q is not a number", val)
			return
		}
		v.SetFloat(x)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return
		}
		list := reflect.MakeSlice(v.Type(), 0, 0)
		for _, item := range strings.Split(val, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = reflect.Append(list, reflect.ValueOf(item).Convert(v.Type().Elem()))
			}
		}
		v.Set(list)
	}
}

func applyEnvTokenKeys(v reflect.Value, name string, env func(string) (string, bool), errs *[]error) {
	val, ok := env(name)
	file, fileOK := env(name + "_FILE")
	var secrets []TokenSecret
	var err error
	switch {
	case ok && fileOK:
		*errs = append(*errs, fmt.Errorf("%s: set only one of %s and %s_FILE", name, name, name))
		return
	case ok:
		secrets, err = parseTokenKeys(val, ",", "entry")
	case fileOK:
		name += "_FILE"
		var s string
		if s, err = readSecretFile(file); err == nil {
			secrets, err = parseTokenKeys(s, "\n", "line")
		}
	default:
		return
	}
	if err == nil && len(secrets) == 0 {
		err = errors.New("holds no key; expected 2:BASE64,1:BASE64 (newest first)")
	}
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %w", name, err))
		return
	}
	keys := make([]TokenKeyConfig, len(secrets))
	for i, s := range secrets {
		keys[i] = TokenKeyConfig{
			ID:     int(s.ID),
			Secret: Secret(base64.StdEncoding.EncodeToString(s.Key)),
		}
	}
	v.Set(reflect.ValueOf(keys))
}

// MailAddress is the desk's own address.
func (c Config) MailAddress() string {
	if c.Mail.Address != "" {
		return c.Mail.Address
	}
	return "notme@" + strings.Trim(c.MessageIDDomain(), "[]")
}

func (c *Config) validateMail(v *validator) {
	m := c.Mail
	if m.ReportAddress != "" && !plainAddress(m.ReportAddress) {
		v.add("mail.report_address", "must be a plain address like report@desk.example.com")
	}
	if m.Address != "" && !plainAddress(m.Address) {
		v.add("mail.address", "must be a plain address like notme@desk.example.com")
	}
	for i, a := range m.OwnAddresses {
		if !plainAddress(a) {
			v.add(fmt.Sprintf("mail.own_addresses[%d]", i), "must be a plain address")
		}
	}
	for i, id := range m.TrustedAuthservIDs {
		if id = strings.TrimSpace(id); id == "" || strings.ContainsAny(id, " \t;()\"") {
			v.add(fmt.Sprintf("mail.trusted_authserv_ids[%d]", i), "must be an authserv-id like mx.desk.example.com")
		}
	}
	for i, a := range m.FeedbackLoopSenders {
		if !feedbackLoopSender(a) {
			v.add(fmt.Sprintf("mail.feedback_loop_senders[%d]", i), "must be an address like fbl@fbl.mailbox.example or a domain like fbl.mailbox.example")
		}
	}
	if len(m.FeedbackLoopSenders) > 0 && len(m.TrustedAuthservIDs) == 0 {
		v.add("mail.feedback_loop_senders", "needs mail.trusted_authserv_ids: only the desk's own MTA's DKIM verdict shows a report is the provider's")
	}
	for i, a := range m.BounceSenders {
		if !feedbackLoopSender(a) {
			v.add(fmt.Sprintf("mail.bounce_senders[%d]", i), "must be an address like mailer-daemon@bounces.shop.example or a domain like amazonses.com")
		}
	}
	if len(m.BounceSenders) > 0 && len(m.TrustedAuthservIDs) == 0 {
		v.add("mail.bounce_senders", "needs mail.trusted_authserv_ids: only the desk's own MTA's DKIM verdict shows a bounce is the sending service's")
	}
	if m.MaxSize < 64<<10 {
		v.add("mail.max_size", "must be at least 65536 bytes")
	}
	if m.AckWindow <= 0 {
		v.add("mail.ack_window", "must be positive")
	}
	if m.AckDomainPerHour <= 0 {
		v.add("mail.ack_domain_per_hour", "must be positive")
	}
	if m.StaleAfter <= 0 {
		v.add("mail.stale_after", "must be positive")
	}
	if m.MailboxLease < Duration(time.Second) {
		v.add("mail.mailbox_lease", "must be at least 1s")
	}
	securities := []string{inbox.SecurityTLS, inbox.SecurityStartTLS, inbox.SecurityPlain}
	names := map[string]bool{}
	for i, b := range m.Mailboxes {
		key := fmt.Sprintf("mail.mailboxes[%d]", i)
		switch {
		case b.Name == "":
			v.add(key+".name", "is required")
		case names[b.Name]:
			v.add(key+".name", "is used twice")
		}
		names[b.Name] = true
		if _, _, err := net.SplitHostPort(b.Addr); err != nil {
			v.add(key+".addr", "must be host:port")
		}
		if !slices.Contains(securities, b.Security) {
			v.add(key+".security", "must be tls, starttls or plain")
		} else if b.Security == "plain" && !loopback.HostPort(b.Addr) {
			v.add(key+".security", "plain is allowed only for a server on loopback")
		}
		if b.Username == "" {
			v.add(key+".username", "is required")
		}
		if (b.Password == "") == (b.PasswordFile == "") {
			v.add(key+".password", "give exactly one of password and password_file")
		}
		if b.BatchSize < 1 || b.BatchSize > inbox.MaxBatchSize {
			v.add(key+".batch_size", fmt.Sprintf("must be 1 to %d", inbox.MaxBatchSize))
		}
		if b.PollInterval < Duration(time.Second) || b.FullCheck < Duration(time.Second) {
			v.add(key+".poll_interval", "poll_interval and full_check must be at least 1s")
		}
		// 0, in a config built in code, is the default.
		if b.IdleRefresh != 0 && (b.IdleRefresh < Duration(time.Second) || b.IdleRefresh > Duration(inbox.MaxIdleRefresh)) {
			v.add(key+".idle_refresh", "must be 1s to "+formatDuration(inbox.MaxIdleRefresh)+" (RFC 2177)")
		}
		if b.Timeout != 0 && b.Timeout < Duration(time.Second) {
			v.add(key+".timeout", "must be at least 1s")
		}
	}
	if s := m.SMTP; s.Addr != "" {
		if _, _, err := net.SplitHostPort(s.Addr); err != nil {
			v.add("mail.smtp.addr", "must be host:port")
		}
		if !slices.Contains(securities, s.Security) {
			v.add("mail.smtp.security", "must be tls, starttls or plain")
		} else if s.Security == "plain" && !loopback.HostPort(s.Addr) {
			v.add("mail.smtp.security", "plain is allowed only for a server on loopback")
		}
		if s.Password != "" && s.PasswordFile != "" {
			v.add("mail.smtp.password", "give at most one of password and password_file")
		}
	}
}

// feedbackLoopSender is an address or a domain of at least two labels:
// a bare top-level domain or a wildcard would trust too many senders.
func feedbackLoopSender(s string) bool {
	if s != strings.TrimSpace(s) || s == "" {
		return false
	}
	d := s
	if strings.Contains(s, "@") {
		if !plainAddress(s) {
			return false
		}
		d = s[strings.LastIndexByte(s, '@')+1:]
	}
	if !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		return false
	}
	for _, r := range d {
		if !(r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func plainAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && at < len(a)-1 && !strings.ContainsAny(a, " <>,;\r\n\t\"")
}

// inboxMailbox is the poller's view of a configured mailbox.
func (c Config) inboxMailbox(mb MailboxConfig, password, instance string) inbox.MailboxConfig {
	return inbox.MailboxConfig{
		Name: mb.Name, Addr: mb.Addr, Security: mb.Security, Username: mb.Username, Password: password,
		Folder: mb.Folder, DoneFolder: mb.DoneFolder, PollInterval: mb.PollInterval.D(),
		FullCheck: mb.FullCheck.D(), BatchSize: mb.BatchSize,
		IdleRefresh: mb.IdleRefresh.D(), Timeout: mb.Timeout.D(),
		Instance: instance, LeaseTTL: c.Mail.MailboxLease.D(),
		// A mail is read whole up to the parser's limit, so a cut one is
		// always recognised as too large.
		BatchBytes: max(inbox.DefaultBatchBytes, c.Mail.MaxSize+1),
	}
}

// MailboxPassword resolves a mailbox's password from the config or its file.
func (b MailboxConfig) MailboxPassword() (string, error) {
	if b.PasswordFile != "" {
		return readSecretFile(b.PasswordFile)
	}
	return b.Password.Reveal(), nil
}

// SMTPPassword resolves the SMTP password from the config or its file.
func (s SMTPConfig) SMTPPassword() (string, error) {
	if s.PasswordFile != "" {
		return readSecretFile(s.PasswordFile)
	}
	return s.Password.Reveal(), nil
}

// validateGuard checks the guard's rates and the origins allowed to call
// the public helper from a browser: https origins (http on loopback), as a
// browser sends them, without a path.
func (c *Config) validateGuard(v *validator) {
	for _, r := range []struct {
		key  string
		rate RateConfig
	}{{"guard.rate", c.Guard.Rate}, {"guard.suggest_rate", c.Guard.SuggestRate}} {
		if !(r.rate.PerMinute > 0) || math.IsInf(r.rate.PerMinute, 0) {
			v.add(r.key+".per_minute", "must be a positive number")
		}
		if r.rate.Burst < 1 {
			v.add(r.key+".burst", "must be at least 1")
		}
	}
	if c.Guard.Resolver != "" {
		if host, port, err := net.SplitHostPort(c.Guard.Resolver); err != nil || host == "" || port == "" {
			v.add("guard.resolver", "must be host:port, like 127.0.0.53:53")
		}
	}
	if d := c.Guard.MXTimeout.D(); d <= 0 || d > 5*time.Second {
		v.add("guard.mx_timeout", "must be above 0 and at most 5s: a sign-up waits for it")
	}
	for _, o := range c.Guard.SuggestOrigins {
		u, err := url.Parse(o)
		switch {
		case err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || o != u.Scheme+"://"+u.Host:
			v.add("guard.suggest_origins", fmt.Sprintf("%q must be an origin like https://shop.example.com, with no path", o))
		case u.Scheme != "https" && !(u.Scheme == "http" && loopback.Host(u.Hostname())):
			v.add("guard.suggest_origins", fmt.Sprintf("%q must be https (http only on loopback)", o))
		}
	}
}

// validateDesk checks what the public pages will show: short single-line
// names, an https form and a phone number of digits.
func (c *Config) validateDesk(v *validator) {
	d := c.Desk
	for _, f := range []struct{ key, val string }{
		{"desk.company", d.Company}, {"desk.company_ja", d.CompanyJA},
		{"desk.contact.hours", d.Contact.Hours}, {"desk.contact.hours_ja", d.Contact.HoursJA},
	} {
		if utf8.RuneCountInString(f.val) > 100 || strings.ContainsFunc(f.val, unicode.IsControl) {
			v.add(f.key, "must be one line of at most 100 characters")
		}
	}
	if d.CompanyJA != "" && d.Company == "" {
		v.add("desk.company_ja", "needs desk.company too, the name English pages show")
	}
	if u := d.Contact.URL; u != "" {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" || pu.Host == "" {
			v.add("desk.contact.url", "must be an https URL like https://shop.example.com/contact")
		}
	}
	if p := d.Contact.Phone; p != "" && (len(p) > 30 || strings.Trim(p, "0123456789+-() ") != "" || !strings.ContainsAny(p, "0123456789")) {
		v.add("desk.contact.phone", "must be a phone number of digits, spaces and + - ( )")
	}
	if (d.Contact.Hours != "" || d.Contact.HoursJA != "") && d.Contact.Phone == "" {
		v.add("desk.contact.hours", "says when the phone is answered: set desk.contact.phone too")
	}
}

// mxChecker is the guard's MX check, for guard.mx_check.
func (c Config) mxChecker() (*mxcheck.Checker, error) {
	server := c.Guard.Resolver
	if server == "" {
		var err error
		if server, err = mxcheck.SystemResolver(); err != nil {
			return nil, fmt.Errorf("guard.mx_check: %w; set guard.resolver", err)
		}
	}
	return &mxcheck.Checker{Server: server, Timeout: c.Guard.MXTimeout.D()}, nil
}
