package app

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"notme/inbox"
)

//go:generate go run ./internal/configdoc ../docs/configuration.md ../config.example.yaml

// configDoc is one row of the configuration reference: the keys it
// describes (full YAML paths; "[]" is any list element, "<name>" any map
// key), what they do, and for a key whose built-in value is empty what
// that empty value means. Every other default is read from Defaults(), so
// the reference cannot drift from the code; ConfigReference refuses a row
// that would hide a real default behind words.
type configDoc struct {
	keys  []string
	what  string
	empty string // the meaning of an empty default; "" = "none"
	// example is YAML of the key with made-up values, for a key whose
	// default shows nothing (a list, a secret): commented out in
	// config.example.yaml, a code block in the reference.
	example string
}

// configDocs is the one description of every configuration key, in the
// order of docs/configuration.md; config.example.yaml is generated from the
// same rows (ConfigExample).
var configDocs = []configDoc{
	{keys: []string{"data_dir"}, what: "directory of the SQLite database and the generated token key"},
	{keys: []string{"log.level"}, what: "least important level written: `debug`, `info`, `warn` or `error`"},
	{keys: []string{"log.format"}, what: "`text` (readable) or `json` (one object per line)"},

	{keys: []string{"http.addr"}, what: "listen address of the public web server"},
	{keys: []string{"http.public_url"}, empty: "`http://localhost:<port of addr>`", what: "base of links in mail and pages, like `https://notme.example.com`"},
	{keys: []string{"http.trusted_proxies"}, what: "CIDRs of reverse proxies whose `X-Forwarded-For` is believed"},
	{keys: []string{"http.ops_addr"}, what: "the operations listener: `/healthz`, `/readyz`, `/metrics` (never on `http.addr`); `\"\"` serves none ([operations.md](operations.md))"},
	{keys: []string{"http.ops_allow"}, empty: "loopback only", what: "CIDRs of the clients the operations listener answers, by the connection's own address"},
	{keys: []string{"http.insecure_cookies"}, what: "`true` drops the Secure flag from cookies (plain-HTTP development only)"},
	{keys: []string{"http.session_ttl"}, what: "how long a staff sign-in lasts at most (its absolute timeout)"},
	{keys: []string{"http.session_idle"}, what: "a staff session unused this long ends (its idle timeout), from 1m to `http.session_ttl`"},
	{keys: []string{"http.shutdown_timeout"}, what: "how long shutdown waits for requests and workers in progress"},
	{keys: []string{"http.read_header_timeout", "http.read_timeout", "http.idle_timeout"}, what: "a slow client holds a connection this long at most: to send a request's headers, the whole request, and idle between requests (the NDJSON batch upload gets 30 minutes once its key is checked)"},
	{keys: []string{"http.drain"}, what: "on SIGTERM, how long `/readyz` answers 503 while requests are still served, before the listener closes (0 to 10m)"},
	{keys: []string{"http.report_rate", "http.login_rate"}, what: "public report submissions and staff sign-in attempts per client address (IPv6 by /64): `per_minute` sustained, `burst` at once"},
	{keys: []string{"http.max_batch_bytes"}, what: "largest body of an NDJSON ledger batch"},
	{keys: []string{"http.default_language"}, what: "the pages' language (`en` or `ja`) when neither `?lang=`, a staff member's choice nor Accept-Language chooses"},

	{keys: []string{"database.url"}, empty: "`sqlite:<data_dir>/notme.db`", what: "`sqlite:PATH` or `postgres://…` (see [operations.md](operations.md#postgresql)); a secret: `NOTME_DATABASE_URL` or `NOTME_DATABASE_URL_FILE`"},
	{keys: []string{"database.busy_timeout"}, what: "how long SQLite waits for a lock before failing a write"},
	{keys: []string{"database.read_conns"}, what: "read connections to SQLite (writes use one connection)"},
	{keys: []string{"database.max_open_conns", "database.max_idle_conns", "database.conn_max_lifetime"}, what: "PostgreSQL pool of one instance: keep `max_open_conns` times the number of instances under the server's `max_connections`; connections are replaced after the lifetime (0: never), so a failover or a pooler restart is picked up"},

	{keys: []string{"tokens.keys[].id", "tokens.keys[].secret", "tokens.keys[].secret_file"}, empty: "generated", what: "sealing keys of the tokens in \"not me\" links and minted Message-IDs, newest first: the first seals, every listed key opens. Each is an ID from 1 to 255 and base64 of 32 random bytes (`openssl rand -base64 32`), inline or in a file (exactly one); `NOTME_TOKENS_KEYS=\"2:BASE64,1:BASE64\"` or `NOTME_TOKENS_KEYS_FILE`. To rotate, put the new key first and keep the old one until the links it sealed are no longer needed",
		example: "keys:\n  - id: 2\n    secret_file: /run/secrets/notme-token-key-2\n  - id: 1\n    secret: \"output of: openssl rand -base64 32\"\n"},
	{keys: []string{"tokens.key_file"}, empty: "`<data_dir>/token.key`", what: "file of the generated key: one `ID:BASE64` line per key, newest first, mode 0600"},
	{keys: []string{"tokens.message_id_domain"}, empty: "host of the public URL", what: "right side of minted Message-IDs (`<nm1.TOKEN@domain>`)"},

	{keys: []string{"kinds"}, what: "the kinds of account mail the company sends; naming kinds replaces the default set whole"},
	{keys: []string{"kinds.<name>.label", "kinds.<name>.label_ja"}, empty: "the kind's name / label", what: "shown to staff, in English and Japanese"},
	{keys: []string{"kinds.<name>.severity"}, empty: "per kind", what: "`critical`, `high`, `normal` or `low`"},
	{keys: []string{"kinds.<name>.credential", "kinds.<name>.personal_data"}, empty: "per kind", what: "the mail carries a credential link (set password, reset, magic login); it shows the holder's personal data (name, postal address, orders)"},
	{keys: []string{"kinds.<name>.actions"}, empty: "per kind", what: "containment requested at once on an exact match: `revoke_pending_links`, `suppress_recipient`, `require_reverification`, `lock_account`, `contact_owner`"},

	{keys: []string{"sla.contain_by"}, what: "containment deadline per severity; severities left out keep their default"},
	{keys: []string{"sla.resolve_by"}, what: "resolution deadline per severity, merged over the defaults likewise"},
	{keys: []string{"sla.breach_assessment"}, what: "time a lead has to assess whether a case that exposed personal data is a notifiable breach (GDPR Art. 33: 72 hours; APPI's preliminary report; [sla.md](sla.md))"},

	{keys: []string{"reports.note_max_chars"}, what: "longest note a reporter can add, in characters"},
	{keys: []string{"reports.reopen_window"}, what: "a new report within this time of a case's resolution reopens the case"},
	{keys: []string{"reports.same_browser_window"}, what: "the same browser opening the same link again within it (Back, reload) gets its first report's form; 0 turns this off"},
	{keys: []string{"reports.triage_cases_per_client_hour"}, what: "unmatched reports of one client (its address) share a triage case; it opens at most this many an hour, later ones join its newest, even a closed one (then listed on `/leads`); nothing is dropped"},
	{keys: []string{"reports.triage_burst", "reports.triage_burst_window"}, what: "this many unmatched reports desk-wide within the window make a burst, which shares one triage case"},

	{keys: []string{"mail.address"}, empty: "`notme@<message_id_domain>`", what: "the desk's own address: From of acknowledgements, never answered"},
	{keys: []string{"mail.report_address"}, empty: "none: the home page says nothing about mail", what: "the mailbox the home page tells reporters to forward mail to"},
	{keys: []string{"mail.own_addresses"}, what: "further addresses of the desk, never answered (loop protection)"},
	{keys: []string{"mail.trusted_authserv_ids"}, what: "authserv-ids of the desk's own receiving MTA (RFC 8601), like `[mx.desk.example.com]`: only their `Authentication-Results` are believed. A report whose result says `dmarc=fail`, or `spf=fail` without `dkim=pass`, is kept but not acknowledged (backscatter); fields with other ids are ignored, since senders can write them"},
	{keys: []string{"mail.feedback_loop_senders"}, what: "addresses of mailbox providers' feedback-loop senders, or domains meaning any address at or below them, like `[fbl.mailbox.example, scomp@aol.net]`; their ARF reports, with a trusted `dkim=pass` for their domain, are exact matches and may request containment; any other ARF report (anyone can send one) is a probable match a trained agent confirms (needs `trusted_authserv_ids`)"},
	{keys: []string{"mail.bounce_senders"}, what: "addresses or domains of the company's bounce senders (its outbound MTA or mail service), like `[amazonses.com]`; a bounce from one of them with a trusted `dkim=pass` for its domain, failing a ledger message's recipient permanently (status 5.x.x), puts that address on the suppression list for the message's account (reason `bounce`, origin `desk`); any other bounce is kept as evidence only, since anyone can write one (needs `trusted_authserv_ids`)"},
	{keys: []string{"mail.max_size"}, what: "largest mail parsed; larger mail is kept as evidence with the reason \"too-large\""},
	{keys: []string{"mail.mailboxes[].name"}, empty: "required", what: "IMAP mailboxes the desk reads reports from (replies, forwards, ARF; see [mailbox.md](mailbox.md)): a unique label, shown on `/readyz` and `/metrics`",
		example: "mailboxes:\n  - name: reports\n    addr: imap.example.com:993\n    security: tls\n    username: notme@example.com\n    password_file: /run/secrets/imap-password\n    folder: INBOX\n    done_folder: notme/processed\n"},
	{keys: []string{"mail.mailboxes[].addr"}, empty: "required", what: "`host:port` of the IMAP server"},
	{keys: []string{"mail.mailboxes[].security"}, what: "`tls` (implicit), `starttls` or `plain` (loopback only)"},
	{keys: []string{"mail.mailboxes[].username", "mail.mailboxes[].password", "mail.mailboxes[].password_file"}, empty: "required", what: "the account; exactly one of `password` and `password_file`"},
	{keys: []string{"mail.mailboxes[].folder", "mail.mailboxes[].done_folder"}, what: "where reports arrive; where processed mail is moved (created if missing)"},
	{keys: []string{"mail.mailboxes[].poll_interval", "mail.mailboxes[].full_check"}, what: "between polls when the server has no IDLE; between full checks even with IDLE (at least 1s)"},
	{keys: []string{"mail.mailboxes[].batch_size"}, what: fmt.Sprintf("mails per fetch, transaction and MOVE (1 to %d)", inbox.MaxBatchSize)},
	{keys: []string{"mail.mailboxes[].idle_refresh", "mail.mailboxes[].timeout"}, what: "re-issue IDLE with a NOOP this often (at most " + formatDuration(inbox.MaxIdleRefresh) + ", RFC 2177); drop a connection silent this long while awaiting an answer"},
	{keys: []string{"mail.smtp.addr"}, empty: "none (queue only)", what: "submission server for acknowledgements; without one they are queued and shown to staff"},
	{keys: []string{"mail.smtp.security"}, what: "`tls` (implicit), `starttls` or `plain` (loopback only)"},
	{keys: []string{"mail.smtp.username", "mail.smtp.password", "mail.smtp.password_file"}, what: "the account, if the server asks for one; at most one of `password` and `password_file`; `NOTME_MAIL_SMTP_PASSWORD`"},
	{keys: []string{"mail.smtp.hello_name"}, what: "EHLO name"},
	{keys: []string{"mail.ack_window"}, what: "at most one acknowledgement per address within it"},
	{keys: []string{"mail.ack_domain_per_hour"}, what: "at most this many acknowledgements to one recipient domain an hour; more are held on their case (reason `domain_hourly_limit`) and counted in `/metrics` (`notme_acks_held_total`)"},
	{keys: []string{"mail.stale_after"}, what: "a mailbox with no successful fetch for this long is alerted to leads (dashboard) and in the log"},
	{keys: []string{"mail.mailbox_lease"}, what: "several instances: a mailbox passes to another instance this long after its poller stopped renewing (see [operations.md](operations.md#several-instances))"},

	{keys: []string{"escalation.possible_takeover"}, what: "escalate a case at once when the reporter used the link of a credential mail"},
	{keys: []string{"escalation.multiple_reporters"}, what: "escalate an account reported by this many distinct reporter addresses; 0 turns the rule off"},
	{keys: []string{"escalation.shared_recipient"}, what: "escalate when one address received mail for this many accounts; 0 turns the rule off"},
	{keys: []string{"escalation.domain_cluster.cases", "escalation.domain_cluster.window"}, what: "this many cases from one recipient domain within the window (a typo domain) escalate every open case of the cluster; 0 turns the rule off"},
	{keys: []string{"escalation.domain_cluster.ignore"}, what: "domains that never cluster: big mailbox providers, where many cases a day are normal"},
	{keys: []string{"escalation.sla_breach"}, what: "escalate a case when one of its deadlines passes unmet"},

	{keys: []string{"retention.evidence"}, what: "raw evidence mail older than this is purged (at least 1d); the case, its reports and timeline and the mail's metadata stay, and staff see when it was purged"},
	{keys: []string{"retention.interval"}, what: "how often the purge runs (and once at start)"},

	{keys: []string{"evidence.view_max_bytes"}, what: "each text or HTML body the evidence viewer shows is cut here, and the page says so; downloads are whole"},
	{keys: []string{"evidence.max_concurrent_views", "evidence.view_wait"}, what: "renders and downloads holding a raw mail at once; one more waits this long, then gets a calm 503"},

	{keys: []string{"ledger.retention"}, what: "ledger messages registered longer ago are deleted, oldest first in small batches; 0 keeps them for ever, else at least 30d. A report quoting a pruned Message-ID goes unmatched to triage; sealed links carry their account and still match (see [operations.md](operations.md#the-ledger-at-scale))"},

	{keys: []string{"webhooks.url"}, empty: "none: containment requests are recorded on the case, not sent (the log says so at start)", what: "the account system's webhook URL; https, or http to loopback"},
	{keys: []string{"webhooks.secret", "webhooks.secret_file"}, what: "the signing secret (`echo \"whsec_$(openssl rand -base64 32)\"`): `whsec_` + base64 of ≥ 24 bytes (Standard Webhooks; an older plain secret of ≥ 32 characters still works, with a warning at start); `NOTME_WEBHOOKS_SECRET`; a `secret_file` may hold several, one a line, newest first"},
	{keys: []string{"webhooks.secrets"}, example: "secrets: [whsec_NEW..., whsec_OLD...]\n", what: "several signing secrets during a rotation, newest first, at most 4: every webhook is signed with each until the receiver has the new one; `NOTME_WEBHOOKS_SECRETS`, comma-separated; give one of `secret`, `secret_file`, `secrets` ([webhooks.md](webhooks.md))"},
	{keys: []string{"webhooks.timeout"}, what: "one attempt"},
	{keys: []string{"webhooks.max_age"}, what: "then a dead letter on the case"},
	{keys: []string{"webhooks.backoff_min", "webhooks.backoff_max"}, what: "exponential back-off: the n-th retry waits between half and all of `backoff_min` doubled n-1 times, at most `backoff_max`; once a webhook goes through after failures, the waiting ones go at once"},
	{keys: []string{"webhooks.concurrency"}, what: "webhooks in flight at once"},

	{keys: []string{"desk.company", "desk.company_ja"}, empty: "none: the page names no one / company", what: "the company whose account mail the desk handles, named on the \"not me\" page; `company_ja` on Japanese pages. One name for every link: a name per message kind would tell anyone holding a link whether it is genuine"},
	{keys: []string{"desk.contact.url"}, what: "the reporter's status page's contact line: a web form, https"},
	{keys: []string{"desk.contact.phone"}, what: "a phone number as dialled, like 0120-000-000"},
	{keys: []string{"desk.contact.hours", "desk.contact.hours_ja"}, what: "when the phone is answered (needs `phone`); `hours_ja` on Japanese pages"},

	{keys: []string{"auth.login_failures_before_delay"}, what: "failed sign-ins in a row to one account, from any number of addresses, before it is locked for sign-in, even with the right password (1–100); a successful sign-in starts the count again and tells the account's owner how many failed"},
	{keys: []string{"auth.login_first_delay", "auth.login_max_delay"}, what: "the first lock; each further failure doubles it, up to the longest"},
	{keys: []string{"auth.second_factor_roles"}, what: "roles that must add a second factor (an authenticator app, with recovery codes, or a passkey) before anything else when they sign in with a password; single sign-on sessions are exempt, the provider does its own; `[]` requires it of nobody ([sign-in.md](sign-in.md))"},
	{keys: []string{"auth.passkeys"}, what: "passkeys (WebAuthn) as a second factor and as a sign-in without the password, for those who may sign in with a password; the relying party ID is the host of `http.public_url`, so changing that host makes every passkey useless; `false` for an install that signs in only through single sign-on ([sign-in.md](sign-in.md))"},
	{keys: []string{"auth.oidc.issuer"}, empty: "single sign-on off", what: "OpenID Connect provider's issuer URL, exactly as its discovery document says; register the redirect URI `<public_url>/login/oidc/callback` ([sign-in.md](sign-in.md))",
		example: "# Keycloak, realm \"staff\", client \"notme\" (client authentication on, standard flow only;\n" +
			"# a \"Group Membership\" mapper named groups, full group path off, in the ID token and userinfo);\n" +
			"# the secret from NOTME_AUTH_OIDC_CLIENT_SECRET_FILE=/run/secrets/oidc\n" +
			"issuer: https://keycloak.example.com/realms/staff\nname: Example SSO\nclient_id: notme\n" +
			"groups:\n  agent: [notme-agents]\n  lead: [notme-leads]\n  admin: [notme-admins]\n  security_trained: [security-trained]\n" +
			"password_login: breakglass\nbreakglass_admin: admin@example.com\n"},
	{keys: []string{"auth.oidc.name"}, what: "the provider as staff know it: the login page says \"Sign in with <name>\""},
	{keys: []string{"auth.oidc.client_id"}, what: "the desk's client ID at the provider"},
	{keys: []string{"auth.oidc.client_secret"}, what: "the client secret; a secret: `NOTME_AUTH_OIDC_CLIENT_SECRET_FILE` (a file holding it) or `NOTME_AUTH_OIDC_CLIENT_SECRET`, never logged"},
	{keys: []string{"auth.oidc.scopes"}, what: "scopes asked for; must include `openid` (add the one your provider needs for groups)"},
	{keys: []string{"auth.oidc.groups_claim"}, what: "the claim carrying the person's groups, read from the ID token, else from userinfo"},
	{keys: []string{"auth.oidc.groups.agent", "auth.oidc.groups.lead", "auth.oidc.groups.admin"}, what: "groups giving each role at every sign-in (the highest wins); a person in none is refused"},
	{keys: []string{"auth.oidc.groups.security_trained"}, what: "groups making a person security-trained at every sign-in"},
	{keys: []string{"auth.oidc.password_login"}, what: "with single sign-on on, who may still sign in with a password: `all`, `breakglass` (only `breakglass_admin`) or `off`"},
	{keys: []string{"auth.oidc.breakglass_admin"}, what: "the admin's email address that may sign in with a password when `password_login` is `breakglass`"},
	{keys: []string{"auth.oidc.session_recheck"}, what: "a single sign-on session ends this long after the provider confirmed the person and their groups; they sign in through it again (1m to 24h)"},

	{keys: []string{"guard.rate"}, what: "the address guard (`POST /api/v1/addresses/check`) per client address: a sending system asks it on every sign-up ([address-guard.md](address-guard.md))"},
	{keys: []string{"guard.suggest_rate"}, what: "the public \"did you mean …?\" helper (`GET /api/v1/suggest`) per client address"},
	{keys: []string{"guard.mx_check"}, what: "the guard asks DNS whether the address's domain can receive mail at all (an MX, else an A or AAAA record); a domain with none gets the reason `no_mail_server` and the verdict `confirm_first`. A time-out or a failing resolver adds nothing, and answers are kept for 10 minutes"},
	{keys: []string{"guard.resolver"}, empty: "the system's first nameserver", what: "`host:port` of the resolver the MX check asks, like `127.0.0.53:53`"},
	{keys: []string{"guard.mx_timeout"}, what: "how long the MX check waits for each answer; a sign-up waits for it, so keep it short"},
	{keys: []string{"guard.suggest_origins"}, what: "origins whose pages may call the public helper from the browser (CORS), like `[https://shop.example.com]`; it answers typo suggestions only, never whether an address is on the suppression list"},
}

//go:embed configdoc.md.tmpl
var configDocTemplate string

// ConfigReference renders docs/configuration.md from configDocs and
// Defaults(). `go generate ./app` writes it; TestConfigReferenceCurrent
// fails when the file differs.
func ConfigReference() ([]byte, error) {
	if err := checkConfigDocs(); err != nil {
		return nil, err
	}
	// A list element's defaults are those of a bare one: a mailbox given
	// only what it requires.
	cfg := Defaults()
	cfg.Mail.Mailboxes = []MailboxConfig{{}}
	cfg.normalize()
	defaults := reflect.ValueOf(cfg)
	var table strings.Builder
	section := ""
	var examples []string // of the section's rows, written under its table
	for _, d := range configDocs {
		if s, _, _ := strings.Cut(d.keys[0], "."); s != section {
			table.WriteString(strings.Join(examples, ""))
			section, examples = s, nil
			fmt.Fprintf(&table, "\n## `%s`\n\n| key | default | what |\n|---|---|---|\n", s)
		}
		if d.example != "" {
			examples = append(examples, "\n```yaml\n"+exampleInPlace(d)+"```\n")
		}
		names := make([]string, len(d.keys))
		defs := make([]string, len(d.keys))
		empty := true
		for i, k := range d.keys {
			names[i] = "`" + k + "`"
			if i > 0 {
				names[i] = "`" + shortKey(d.keys[0], k) + "`"
			}
			v, ok := defaultAt(defaults, k)
			if ok && v != "" {
				defs[i], empty = "`"+v+"`", false
			}
		}
		def := cmpOr(d.empty, "none")
		if !empty {
			if d.empty != "" {
				return nil, fmt.Errorf("configDocs %s: has a default of its own, %v; drop its empty text %q", d.keys[0], defs, d.empty)
			}
			for i := range defs {
				defs[i] = cmpOr(defs[i], "none")
			}
			def = strings.Join(slices.Compact(defs), " / ")
		}
		fmt.Fprintf(&table, "| %s | %s | %s |\n", strings.Join(names, " / "), def, d.what)
	}
	table.WriteString(strings.Join(examples, ""))
	tmpl, err := template.New("configuration.md").Delims("{{{", "}}}").Parse(configDocTemplate)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]string{"Keys": strings.TrimPrefix(table.String(), "\n")}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// exampleInPlace is a row's example under the sections that hold its key,
// as it stands in a config file.
func exampleInPlace(d configDoc) string {
	key := d.keys[0]
	if c, ok := entryContainer(key); ok {
		key = c
	}
	parents := strings.Split(key, ".")
	parents = parents[:len(parents)-1]
	var b strings.Builder
	for i, p := range parents {
		b.WriteString(strings.Repeat("  ", i) + p + ":\n")
	}
	for _, l := range strings.SplitAfter(d.example, "\n") {
		if l != "" {
			b.WriteString(strings.Repeat("  ", len(parents)) + l)
		}
	}
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// shortKey drops the path a further key of a row shares with its first.
func shortKey(first, k string) string {
	for i := strings.LastIndexByte(first, '.'); i > 0; i = strings.LastIndexByte(first[:i], '.') {
		if strings.HasPrefix(k, first[:i+1]) {
			return k[i+1:]
		}
	}
	return k
}

// checkConfigDocs fails unless configDocs names every key of Config once
// and no key Config lacks.
func checkConfigDocs() error {
	keys := ConfigKeys()
	seen := map[string]bool{}
	var errs []error
	for _, d := range configDocs {
		for _, k := range d.keys {
			switch {
			case !slices.Contains(keys, k):
				errs = append(errs, fmt.Errorf("configDocs names %s, which Config does not have", k))
			case seen[k]:
				errs = append(errs, fmt.Errorf("configDocs names %s twice", k))
			}
			seen[k] = true
		}
	}
	for _, k := range keys {
		if !seen[k] {
			errs = append(errs, fmt.Errorf("configDocs has no entry for %s: add one in app/configdoc.go and run go generate ./app", k))
		}
	}
	return errors.Join(errs...)
}

// ConfigKeys lists every key of Config by its YAML path: "[]" stands for
// any element of a list, "<name>" for any key of a map of sections. A rate
// and a per-severity map are one key each.
func ConfigKeys() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			key := prefix + name
			switch ft := f.Type; {
			case ft == reflect.TypeFor[RateConfig]():
				keys = append(keys, key)
			case ft.Kind() == reflect.Struct:
				walk(ft, key+".")
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), key+"[].")
			case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
				keys = append(keys, key)
				walk(ft.Elem(), key+".<name>.")
			default:
				keys = append(keys, key)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return keys
}

// defaultAt finds key in the defaults and writes its value as a config
// file would; a list's element is its first; false inside a map's entry
// or an empty list.
func defaultAt(v reflect.Value, key string) (string, bool) {
	for _, part := range strings.Split(key, ".") {
		if part == "<name>" {
			return "", false
		}
		part, list := strings.CutSuffix(part, "[]")
		found := false
		for i := range v.NumField() {
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return "", false
		}
		if list {
			if v.Len() == 0 {
				return "", false
			}
			v = v.Index(0)
		}
	}
	return formatDefault(key, v), true
}

func formatDefault(key string, v reflect.Value) string {
	switch x := v.Interface().(type) {
	case Duration:
		return docDuration(x)
	case Secret:
		return x.Reveal()
	case RateConfig:
		return fmt.Sprintf("%g/min, burst %d", x.PerMinute, x.Burst)
	case map[string]Duration:
		var parts []string
		for _, sev := range severities {
			if d, ok := x[sev]; ok {
				parts = append(parts, sev+" "+docDuration(d))
			}
		}
		return strings.Join(parts, ", ")
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int64:
		n := v.Int()
		if (strings.HasSuffix(key, "_bytes") || strings.HasSuffix(key, "_size")) && n >= 1<<10 && n%(1<<10) == 0 {
			unit, div := "KiB", int64(1<<10)
			if n%(1<<20) == 0 {
				unit, div = "MiB", 1<<20
			}
			return fmt.Sprintf("%d (%d %s)", n, n/div, unit)
		}
		return strconv.FormatInt(n, 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatDefault(key, v.Index(i))
		}
		return strings.Join(parts, ", ")
	case reflect.Map:
		names := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			names = append(names, k.String())
		}
		slices.Sort(names)
		return strings.Join(names, ", ")
	}
	return fmt.Sprint(v.Interface())
}

// docDuration writes more than three days as days, as config.example.yaml
// does ("14d", not "336h").
func docDuration(d Duration) string {
	if day := Duration(24 * time.Hour); d > 3*day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}
