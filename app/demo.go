package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"notme/cases"
	"notme/cases/passwd"
	"notme/ui"
)

// demoAccounts are the seeded accounts: each has ledger messages and a
// minted "not me" link.
var demoAccounts = []struct {
	ref, kind, recipient, subject string
}{
	{"ACC-1001", "registration", "taro.yamada@gmial.com", "Registration complete: set your initial password"},
	{"ACC-1002", "order_confirmation", "h.sato@example.net", "Your order #58213 is confirmed"},
	{"ACC-1003", "postal_notice", "mika@example.org", "We have posted your membership card"},
	{"ACC-1004", "newsletter", "k.tanaka@example.com", "November news"},
}

func cmdDemo(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (the demo ignores its database and data_dir)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	dataDir := fs.String("data", "", "data directory (default: a new temporary one, removed on exit)")
	if _, err := parseFlags(fs, args, env); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, env)
	if err != nil {
		return err
	}
	if *dataDir == "" {
		dir, err := os.MkdirTemp("", "notme-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dataDir = dir
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	*dataDir = abs
	cfg.DataDir = *dataDir
	if *cfgPath != "" && sameFile(*cfgPath, filepath.Join(*dataDir, demoCLIConfigFile)) {
		// The file the demo wrote for the CLI names the address of an
		// earlier start; this start takes its own.
		cfg.HTTP.PublicURL = ""
	}
	cfg.Database.URL = ""
	// The seeded logins work at once; /account/2fa is there to try.
	cfg.Auth.SecondFactorRoles = nil
	cfg.Tokens.KeyFile = ""
	cfg.Tokens.Keys = nil
	cfg.HTTP.Addr = *addr
	if cfg.HTTP.OpsAddr == Defaults().HTTP.OpsAddr {
		// A free port: a second demo, or a Prometheus on 9090, is no
		// reason to fail.
		cfg.HTTP.OpsAddr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (try --addr 127.0.0.1:0)", *addr, err)
	}
	if cfg.HTTP.PublicURL == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		cfg.HTTP.PublicURL = "http://localhost:" + port
	}
	log := NewLogger(cfg.Log, env.Stderr)
	receiver, err := startDemoReceiver(log)
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo account system: %w", err)
	}
	defer receiver.close()
	cfg.Webhooks.URL, cfg.Webhooks.Secret, cfg.Webhooks.SecretFile = receiver.URL, Secret(receiver.Secret), ""
	imapSrv, err := startDemoIMAP()
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo mailbox: %w", err)
	}
	defer imapSrv.close()
	outbox, err := startDemoOutbox()
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo outbox: %w", err)
	}
	defer outbox.close()
	cfg.Mail.Mailboxes = []MailboxConfig{{
		Name: "demo", Addr: imapSrv.Addr, Security: "plain", Username: demoIMAPUser, Password: Secret(demoIMAPPassword),
		Folder: "INBOX", DoneFolder: "notme/processed", PollInterval: Duration(5 * time.Second),
		FullCheck: Duration(time.Minute), BatchSize: 100,
	}}
	cfg.Mail.SMTP = SMTPConfig{Addr: outbox.Addr, Security: "plain", HelloName: "localhost"}
	// The demo plays the company's receiving MTA too: its sample ARF report
	// carries the DKIM verdict of demoAuthservID for a configured feedback
	// loop, so it names the mail exactly, as a verified provider's would.
	cfg.Mail.TrustedAuthservIDs = append(cfg.Mail.TrustedAuthservIDs, demoAuthservID)
	cfg.Mail.FeedbackLoopSenders = append(cfg.Mail.FeedbackLoopSenders, demoFeedbackLoop)
	if err := cfg.Validate(); err != nil {
		ln.Close()
		return err
	}
	a, err := Open(ctx, cfg, log, func(o *ui.Options) { o.Outbox = outbox.Mails })
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	seed, err := Seed(ctx, a)
	if err != nil {
		ln.Close()
		return fmt.Errorf("seed demo: %w", err)
	}
	// The sample report mails go to the mailbox once, with the ledger
	// they refer to: on kept data they are reports already, and the
	// mailbox (in memory) would otherwise hand them in again as
	// duplicates.
	if seed.NewLedger {
		mails, err := demoReportMails(seed.Links, time.Now())
		if err != nil {
			ln.Close()
			return fmt.Errorf("demo mail: %w", err)
		}
		for _, m := range mails {
			if err := imapSrv.deliver(m); err != nil {
				ln.Close()
				return fmt.Errorf("demo mail: %w", err)
			}
		}
		seed.Mails = len(mails)
	}
	seed.Receiver = receiver.URL
	if seed.CLIConfig, err = writeDemoCLIConfig(cfg); err != nil {
		ln.Close()
		return err
	}
	if err := a.ListenOps(); err != nil {
		ln.Close()
		return err
	}
	if oa := a.OpsAddr(); oa != "" {
		seed.Ops = "http://" + oa
	}
	go receiver.run(ctx, seed.APIKey)
	seed.print(env.Stdout, cfg.PublicURL(), *dataDir)
	return a.Run(ctx, ln)
}

// DemoSeed is what Seed created, for printing and for tests.
type DemoSeed struct {
	Users  []DemoUser
	APIKey string
	Links  []DemoLink
	Mails  int // report mails waiting in the demo mailbox
	// Receiver is the URL of the demo's stand-in for the account system.
	Receiver string
	// Restarted: the data folder held a desk from an earlier start.
	Restarted bool
	// NewLedger: this start registered the sample messages (the first
	// start), so the sample report mails are delivered now.
	NewLedger bool
	// CLIConfig is the config file that points the command line at this
	// demo (see writeDemoCLIConfig).
	CLIConfig string
	// Ops is the base URL of the operations listener (/readyz,
	// /metrics), "" when there is none.
	Ops string
}

// DemoUser is a seeded staff login.
type DemoUser struct {
	Email, Password, Role string
	Trained               bool
}

// DemoLink is a seeded "not me" link.
type DemoLink struct {
	AccountRef, Kind, Subject, URL string
	MessageID, Recipient           string
}

// demoUsers are the seeded staff logins.
var demoUsers = []DemoUser{
	{Email: "agent@example.com", Role: "agent", Trained: true},
	{Email: "lead@example.com", Role: "lead", Trained: true},
	{Email: "admin@example.com", Role: "admin", Trained: true},
	{Email: "parcel-desk@example.com", Role: "agent", Trained: false},
}

// demoKeyFile holds the demo's own API key in its data folder (mode 0600,
// like token.key): its stand-in account system confirms containment with
// it, and a newcomer's curl commands keep working from one start to the
// next.
const demoKeyFile = "demo-api.key"

// Seed fills a desk with staff, an API key and ledger messages. It may run
// again on kept data: what exists is kept, and Restarted says so. The
// seeded logins get new passwords on every start, because a stored
// password is a hash and cannot be printed again, and a newcomer who
// starts the demo a second time expects the logins it prints to work.
// Staff added later (on /admin or with notme user add) are left alone.
func Seed(ctx context.Context, a *App) (DemoSeed, error) {
	var s DemoSeed
	existing := map[string]cases.User{}
	users, err := a.Service.Users(ctx)
	if err != nil {
		return s, err
	}
	for _, u := range users {
		existing[u.Email] = u
	}
	for _, u := range demoUsers {
		u.Password = passwd.Generate()
		if old, ok := existing[u.Email]; ok {
			if _, err := a.Service.SetPassword(ctx, u.Email, u.Password); err != nil {
				return s, fmt.Errorf("new password for %s: %w", u.Email, err)
			}
			// Show what the desk holds now: an admin may have changed it.
			u.Role, u.Trained = string(old.Role), old.SecurityTrained
			s.Restarted = true
		} else if _, err := a.Service.AddUser(ctx, u.Email, cases.Role(u.Role), u.Trained, u.Password); err != nil {
			return s, err
		}
		s.Users = append(s.Users, u)
	}
	if s.APIKey, err = demoAPIKey(ctx, a); err != nil {
		return s, err
	}
	sent := a.Service.Now().Add(-2 * time.Hour).UTC()
	for i, acc := range demoAccounts {
		if _, ok := a.Service.Kind(acc.kind); !ok {
			continue // a config without this kind
		}
		// A fixed Message-ID makes registering idempotent: a second start
		// gets the stored message (and its link) back.
		reg, created, err := a.Service.RegisterMessage(ctx, cases.LedgerMessage{
			MessageID:  fmt.Sprintf("<demo-%d@mail.example.com>", i+1),
			AccountRef: acc.ref, Recipient: acc.recipient, Kind: acc.kind, Subject: acc.subject, SentAt: &sent,
		})
		if err != nil {
			return s, err
		}
		s.NewLedger = s.NewLedger || created
		s.Links = append(s.Links, DemoLink{AccountRef: acc.ref, Kind: acc.kind, Subject: acc.subject, URL: reg.URL,
			MessageID: reg.MessageID, Recipient: acc.recipient})
	}
	return s, nil
}

// demoAPIKey returns the demo's API key from its data folder, or makes one
// and keeps it there when there is none or it no longer works.
func demoAPIKey(ctx context.Context, a *App) (string, error) {
	path := filepath.Join(a.Config.DataDir, demoKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		key := strings.TrimSpace(string(b))
		if _, err := a.Service.APIKeyByKey(ctx, key); err == nil {
			return key, nil
		} else if cases.ErrorCode(err) != cases.EUNAUTHORIZED {
			return "", err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read demo API key: %w", err)
	}
	key, _, err := a.Service.AddAPIKey(ctx, "demo", cases.Scopes)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep demo API key: %w", err)
	}
	return key, nil
}

func (s DemoSeed) print(w io.Writer, base, dataDir string) {
	fmt.Fprintf(w, "\nnotme demo — the desk is at %s\n(data in %s)\n", base, dataDir)
	if s.Restarted {
		fmt.Fprintf(w, "\nThis folder holds a desk from an earlier start: its staff, cases, mail and keys\n"+
			"are kept. Stored passwords cannot be shown again, so the demo logins below have\n"+
			"new passwords; sessions already open stay logged in.\n")
	}
	fmt.Fprintln(w, "\n1. Click a \"not me\" link, as the stranger who received the mail would:")
	for _, l := range s.Links {
		fmt.Fprintf(w, "   %-18s %s\n     %s\n", l.Kind, l.Subject, l.URL)
	}
	fmt.Fprintf(w, "\n2. Log in at %s/login and open the queue (%s/queue):\n", base, base)
	for _, u := range s.Users {
		note := ""
		if !u.Trained {
			note = "  (not security-trained: is refused security cases)"
		}
		fmt.Fprintf(w, "   %-6s %-24s password %s%s\n", u.Role, u.Email, u.Password, note)
	}
	switch {
	case s.Mails > 0:
		fmt.Fprintf(w, "\n   The desk's mailbox holds %d mails (a reply, a Japanese forward, an ARF report\n"+
			"   from a feedback loop whose DKIM the desk's MTA verified, a new mail from the\n"+
			"   address an order mail went to, an out-of-office reply); all but the\n"+
			"   out-of-office reply become reports in seconds. Staff read kept mail at\n"+
			"   %s/mail; the admin reads the desk's acknowledgements at %s/demo/outbox.\n", s.Mails, base, base)
	case s.Restarted:
		fmt.Fprintf(w, "\n   The sample report mails came in at the first start and are kept at %s/mail;\n"+
			"   acknowledgements the desk sends from now on are at %s/demo/outbox (admin).\n", base, base)
	}
	if s.Receiver != "" {
		fmt.Fprintf(w, "\n   A stand-in for the company's account system takes the signed containment\n"+
			"   webhooks at %s, logs them and confirms each\n"+
			"   action back: a case's Containment section shows requested → delivered → confirmed.\n", s.Receiver)
	}
	fmt.Fprintf(w, "\n3. The company's systems use the API with this key (all scopes):\n   %s\n", s.APIKey)
	fmt.Fprintf(w, "   curl -s -H 'Authorization: Bearer %s' %s/api/v1/cases\n", s.APIKey, base)
	fmt.Fprintf(w, "   Before sending account mail, a sign-up asks the address guard; try the demo's\n"+
		"   sign-up form at %s/demo/signup, or (docs/address-guard.md):\n"+
		"   curl -s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n"+
		"     -d '{\"address\":\"taro.yamada@gmial.com\",\"account_ref\":\"ACC-1001\"}' %s/api/v1/addresses/check\n",
		base, s.APIKey, base)
	if s.CLIConfig != "" {
		fmt.Fprintf(w, "\n4. The command line (notme mint, apikey add, user add, ingest) works on this\n"+
			"   desk when given its config file, which names the data folder and address:\n"+
			"   notme mint --config %s --account ACC-2001 --kind registration\n"+
			"   notme apikey add crm --scope mint --config %s\n", s.CLIConfig, s.CLIConfig)
	}
	if s.Ops != "" {
		fmt.Fprintf(w, "\n5. Operations (this machine only, never the public address): %s/readyz and\n"+
			"   %s/metrics for the load balancer and monitoring.\n", s.Ops, s.Ops)
	}
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n\n")
}
