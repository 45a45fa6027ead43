package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"notme/ui"

	"notme/cases"
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
	cfg.DataDir = *dataDir
	cfg.Database.URL = ""
	cfg.Tokens.KeyFile = ""
	cfg.Tokens.Keys = nil
	cfg.HTTP.Addr = *addr
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
	seed.Receiver = receiver.URL
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

// Seed fills a fresh desk with staff, an API key and ledger messages.
func Seed(ctx context.Context, a *App) (DemoSeed, error) {
	var s DemoSeed
	for _, u := range []DemoUser{
		{Email: "agent@example.com", Role: "agent", Trained: true},
		{Email: "lead@example.com", Role: "lead", Trained: true},
		{Email: "admin@example.com", Role: "admin", Trained: true},
		{Email: "parcel-desk@example.com", Role: "agent", Trained: false},
	} {
		u.Password = cases.GeneratePassword()
		if _, err := a.Service.AddUser(ctx, u.Email, cases.Role(u.Role), u.Trained, u.Password); err != nil {
			return s, err
		}
		s.Users = append(s.Users, u)
	}
	key, _, err := a.Service.AddAPIKey(ctx, "demo", cases.Scopes)
	if err != nil {
		return s, err
	}
	s.APIKey = key
	sent := time.Now().Add(-2 * time.Hour).UTC()
	for i, acc := range demoAccounts {
		if _, ok := a.Service.Kind(acc.kind); !ok {
			continue // a config without this kind
		}
		reg, _, err := a.Service.RegisterMessage(ctx, cases.LedgerMessage{
			MessageID:  fmt.Sprintf("<demo-%d.%d@mail.example.com>", i+1, sent.Unix()),
			AccountRef: acc.ref, Recipient: acc.recipient, Kind: acc.kind, Subject: acc.subject, SentAt: &sent,
		})
		if err != nil {
			return s, err
		}
		s.Links = append(s.Links, DemoLink{AccountRef: acc.ref, Kind: acc.kind, Subject: acc.subject, URL: reg.URL,
			MessageID: reg.MessageID, Recipient: acc.recipient})
	}
	return s, nil
}

func (s DemoSeed) print(w io.Writer, base, dataDir string) {
	fmt.Fprintf(w, "\nnotme demo — the desk is at %s\n(data in %s)\n\n", base, dataDir)
	fmt.Fprintln(w, "1. Click a \"not me\" link, as the stranger who received the mail would:")
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
	if s.Mails > 0 {
		fmt.Fprintf(w, "\n   The desk's mailbox holds %d mails (a reply, a Japanese forward, an ARF report, an\n"+
			"   out-of-office reply); they become reports in seconds. Staff read the desk's\n"+
			"   acknowledgements at %s/demo/outbox and kept mail at %s/mail.\n", s.Mails, base, base)
	}
	if s.Receiver != "" {
		fmt.Fprintf(w, "\n   A stand-in for the company's account system takes the signed containment\n"+
			"   webhooks at %s, logs them and confirms each\n"+
			"   action back: a case's Containment section shows requested → delivered → confirmed.\n", s.Receiver)
	}
	fmt.Fprintf(w, "\n3. The company's systems use the API with this key (all scopes):\n   %s\n", s.APIKey)
	fmt.Fprintf(w, "   curl -s -H 'Authorization: Bearer %s' %s/api/v1/cases\n\nPress Ctrl-C to stop.\n\n", s.APIKey, base)
}
