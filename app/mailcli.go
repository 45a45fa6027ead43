package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"notme/cases"
	"notme/inbox"
	"notme/inbox/mailparse"
)

// readMail reads one raw message from a file or standard input ("-"),
// reading at most limit+1 bytes so that oversize mail is still kept whole
// up to the limit and recognised as too large.
func readMail(name string, stdin io.Reader, limit int64) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return raw, nil
}

// parserOptions are the mail parser's options from the config.
func parserOptions(cfg Config) mailparse.Options {
	own := append([]string{cfg.MailAddress()}, cfg.Mail.OwnAddresses...)
	host := ""
	if u := cfg.PublicURL(); u != "" {
		host = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
		host, _, _ = strings.Cut(host, "/")
	}
	o := mailparse.Options{MaxSize: cfg.Mail.MaxSize, OwnAddresses: own, TrustedAuthservIDs: cfg.Mail.TrustedAuthservIDs,
		FeedbackLoopSenders: cfg.Mail.FeedbackLoopSenders, BounceSenders: cfg.Mail.BounceSenders}
	if host != "" && !strings.HasPrefix(host, "localhost") {
		o.LinkHosts = []string{host}
	}
	return o
}

// mailCommand reads the flags, the config and the one mail of `notme
// parse` and `notme ingest`.
func mailCommand(name string, args []string, env Env) (cfg Config, raw []byte, asJSON bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	jsonFlag := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args, env)
	if err != nil {
		return cfg, nil, false, err
	}
	if len(pos) != 1 {
		return cfg, nil, false, badUsage(fs, env)
	}
	if cfg, err = loadConfig(*cfgPath, env); err != nil {
		return cfg, nil, false, err
	}
	raw, err = readMail(pos[0], env.Stdin, cfg.Mail.MaxSize)
	return cfg, raw, *jsonFlag, err
}

func cmdParse(ctx context.Context, args []string, env Env) error {
	cfg, raw, asJSON, err := mailCommand("parse", args, env)
	if err != nil {
		return err
	}
	r := mailparse.Parse(raw, parserOptions(cfg))
	if asJSON {
		return printJSON(env.Stdout, r)
	}
	fmt.Fprintf(env.Stdout, "class:       %s\n", r.Class)
	if r.Auto != "" {
		fmt.Fprintf(env.Stdout, "never answer: %s\n", r.Auto)
	}
	fmt.Fprintf(env.Stdout, "from:        %s\nmessage-id:  %s\nlanguage:    %s\n", r.From, r.MessageID, r.Lang)
	for _, id := range r.MessageIDs {
		fmt.Fprintf(env.Stdout, "original?    <%s>  (%s)\n", id, r.Sources[id])
	}
	for _, t := range r.Tokens {
		fmt.Fprintf(env.Stdout, "token        %s  (%s)\n", t, r.Sources[t])
	}
	for _, p := range r.Problems {
		fmt.Fprintf(env.Stdout, "problem:     %s\n", p)
	}
	return nil
}

func cmdIngest(ctx context.Context, args []string, env Env) error {
	cfg, raw, asJSON, err := mailCommand("ingest", args, env)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, env, func(a *App) error {
		out, err := a.Pipeline.Ingest(ctx, []cases.InboundMail{{Raw: raw}})
		if err != nil {
			return err
		}
		r := out[0]
		if asJSON {
			return printJSON(env.Stdout, map[string]any{
				"mail_id": r.MailID, "disposition": r.Disposition, "reason": r.Reason, "case": r.CaseRef,
				"acknowledge": r.AckTo != "",
			})
		}
		if r.Disposition == cases.DispositionReport {
			fmt.Fprintf(env.Stdout, "report filed on case %s (mail %d)\n", r.CaseRef, r.MailID)
		} else {
			fmt.Fprintf(env.Stdout, "mail %d kept, no report: %s\n", r.MailID, r.Reason)
		}
		return nil
	})
}

// newPipeline is the ingest path for this configuration.
func newPipeline(cfg Config, a *App) *inbox.Pipeline {
	return inbox.NewPipeline(a.Service, inbox.Parser{Options: parserOptions(cfg)}.ParseMail, a.Log)
}
