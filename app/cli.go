package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"strings"

	"notme/cases"
	"notme/cases/passwd"
	"notme/internal/loopback"
)

// Version is set at build time with -ldflags "-X notme/app.Version=…".
var Version = "dev"

// Env is what a command may touch of the outside world; tests give their own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) (string, bool)
}

// errUsage marks an error already explained by a usage message.
var errUsage = errors.New("usage")

// command is one command of the command line. The overview (`notme
// help`), each command's help (`notme help NAME`, `notme NAME -h`) and
// docs/commands.md are all made from this table and the commands' own
// flag sets, so they cannot disagree.
type command struct {
	name     string // "apikey add"
	synopsis string // what follows the name
	summary  string // one line, for the overview
	about    string // paragraphs for the command's own help
}

var commands = []command{
	{"serve", "[--addr ADDR]", "run the desk: web, API and workers",
		"Runs the desk until SIGINT or SIGTERM: the public listener (http.addr), the operations listener (http.ops_addr), mailbox pollers, the acknowledgement sender, the webhook deliverer and the deadline ticker. Migrations run at start."},
	{"demo", "[--addr ADDR] [--data DIR]", "run a seeded desk in one process",
		"Runs a desk with seeded staff, an API key, four sample \"not me\" links, an in-process IMAP server holding five sample mails, an SMTP sink and a stand-in for the company's account system, and prints how to use them. With --data the desk keeps its data in DIR and starts again on it."},
	{"parse", "[--json] FILE|-", "parse one raw mail; touches no database",
		"Prints what the desk reads in one raw mail (a file, or - for standard input): its class, the candidate tokens and Message-IDs, the reporter and why it would not be answered. Nothing is stored."},
	{"ingest", "[--json] FILE|-", "one raw mail through the whole pipeline (MTA pipe)",
		"Files one raw mail as the mailbox poller would (an MTA can pipe mail to it): a report joins or opens a case; anything else is kept for staff. Prints the outcome."},
	{"mint", "--account REF --kind KIND [--recipient ADDR] [--json]", "seal a Message-ID and \"not me\" link",
		"Seals a token for one account mail and prints the Message-ID and the link to put in it. Nothing is stored at the desk."},
	{"apikey add", "NAME --scope SCOPE… [--json]", "create an API key (printed once)",
		"Creates an API key with the given scopes and prints it once; only its hash is stored."},
	{"user add", "EMAIL --role agent|lead|admin [--security-trained] [--password-stdin]", "create a staff user",
		"Creates a staff member. The password comes from the first line of standard input with --password-stdin, else a generated one is printed once. Staff are usually invited from /admin instead."},
	{"audit export", "--since DATE [--until DATE]", "write the audit log as JSON lines (for a SIEM)",
		"Writes the audit entries at or after --since (and before --until) to standard output, one JSON object a line in id order: {\"id\", \"at\", \"actor\", \"action\", \"subject\", \"detail\", \"args\"} (docs/admin.md). A DATE is 2026-12-01 (midnight UTC) or an RFC 3339 time. Entries are read a page at a time, so any size of log streams; progress goes to standard error. The export itself is recorded in the audit log."},
	{"migrate", "", "bring the database schema up to date",
		"Applies the schema migrations the database lacks and says whether the schema is current. Every other command that opens the database migrates too."},
	{"version", "", "print the version", "Prints the version."},
}

// runner is the function that runs the command called name, nil for
// one without flags of its own (version).
func runner(name string) func(context.Context, []string, Env) error {
	switch name {
	case "serve":
		return cmdServe
	case "demo":
		return cmdDemo
	case "parse":
		return cmdParse
	case "ingest":
		return cmdIngest
	case "mint":
		return cmdMint
	case "apikey add":
		return cmdAPIKeyAdd
	case "user add":
		return cmdUserAdd
	case "migrate":
		return cmdMigrate
	case "audit export":
		return cmdAuditExport
	}
	return nil
}

// commandNamed returns the command called name, or false.
func commandNamed(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// overview is the text of `notme help`.
func overview() string {
	var b strings.Builder
	b.WriteString("notme — the misdirected-email report desk\n\nUsage: notme COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands {
		head := "  " + c.name + " " + c.synopsis
		if len(head) > 46 {
			fmt.Fprintf(&b, "%s\n%-46s%s\n", strings.TrimRight(head, " "), "", c.summary)
			continue
		}
		fmt.Fprintf(&b, "%-46s%s\n", head, c.summary)
	}
	b.WriteString("\nEvery command takes --config FILE (default ./notme.yaml if present).\n")
	b.WriteString("notme help COMMAND (or notme COMMAND -h) says more about one.\n")
	return b.String()
}

// errHelp marks help that was asked for and printed: exit status 0.
var errHelp = errors.New("help shown")

// showHelp prints a command's help: its usage, what it does and the flags
// of fs, the command's own flag set.
func showHelp(w io.Writer, name string, fs *flag.FlagSet) {
	c, _ := commandNamed(name)
	fmt.Fprintf(w, "Usage: notme %s\n\n%s\n", strings.TrimSpace(c.name+" "+c.synopsis), wrap(c.about, 72))
	if fs == nil {
		return
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// wrap breaks text into lines of at most width runes at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		if l := len([]rune(w)); n > 0 && n+1+l > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len([]rune(w))
	}
	return b.String()
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	err := run(ctx, args, env)
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(env.Stderr, "notme:", err)
	return 1
}

func run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, overview())
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version":
		fmt.Fprintln(env.Stdout, "notme", version())
		return nil
	case "help", "-h", "--help":
		return help(ctx, rest, env)
	case "apikey", "user", "audit":
		sub := map[string]string{"apikey": "add", "user": "add", "audit": "export"}[cmd]
		if len(rest) == 0 || rest[0] != sub {
			c, _ := commandNamed(cmd + " " + sub)
			fmt.Fprintf(env.Stderr, "usage: notme %s %s\n", c.name, c.synopsis)
			return errUsage
		}
		cmd, rest = cmd+" "+sub, rest[1:]
	}
	if r := runner(cmd); r != nil {
		return r(ctx, rest, env)
	}
	fmt.Fprintf(env.Stderr, "notme: unknown command %q\n\n%s", cmd, overview())
	return errUsage
}

// help prints the overview, or one command's help: the command itself
// prints it when asked with -h, from its own flag set.
func help(ctx context.Context, args []string, env Env) error {
	name := strings.Join(args, " ")
	for _, c := range commands {
		// "help audit" is the help of "audit export", its one command.
		if _, ok := commandNamed(name); !ok && name != "" && strings.HasPrefix(c.name, name+" ") {
			name = c.name
		}
	}
	switch c, ok := commandNamed(name); {
	case name == "":
		fmt.Fprint(env.Stdout, overview())
		return nil
	case !ok:
		fmt.Fprintf(env.Stderr, "notme help: no command %q\n\n%s", name, overview())
		return errUsage
	case runner(c.name) == nil:
		showHelp(env.Stdout, c.name, nil)
		return nil
	default:
		return runner(c.name)(ctx, []string{"-h"}, env)
	}
}

func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return Version
}

// stringList is a repeatable flag that also splits on commas.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// parseFlags parses flags that may stand before, between or after the
// positional arguments ("user add EMAIL --role agent") and returns the
// positional ones.
func parseFlags(fs *flag.FlagSet, args []string, env Env) ([]string, error) {
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {} // the flag package's own; ours follows
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			showHelp(env.Stdout, fs.Name(), fs)
			return nil, errHelp
		} else if err != nil {
			return nil, badUsage(fs, env)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// badUsage says how the command of fs is used and returns errUsage.
func badUsage(fs *flag.FlagSet, env Env) error {
	c, _ := commandNamed(fs.Name())
	fmt.Fprintf(env.Stderr, "usage: notme %s %s\n(notme help %s says more)\n", c.name, c.synopsis, c.name)
	return errUsage
}

// loadConfig loads the configuration named by --config.
func loadConfig(path string, env Env) (Config, error) {
	cfg, err := Load(path, env.Getenv)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// withApp opens the desk for a one-shot command, logging warnings to
// stderr, runs f and closes the desk again.
func withApp(ctx context.Context, cfg Config, env Env, f func(*App) error) error {
	a, err := Open(ctx, cfg, NewLogger(LogConfig{Level: "warn", Format: cfg.Log.Format}, env.Stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	return f(a)
}

func cmdServe(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	addr := fs.String("addr", "", "listen address (default http.addr)")
	if _, err := parseFlags(fs, args, env); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, env)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.HTTP.Addr = *addr
	}
	log := NewLogger(cfg.Log, env.Stderr)
	if cfg.Database.URL == "" {
		log.Info("no database configured: using SQLite under the data directory", "path", cfg.DatabaseURL(), "data_dir", cfg.DataDir)
	}
	a, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	if err := a.ListenOps(); err != nil {
		ln.Close()
		return err
	}
	log.Info("notme serving", "addr", ln.Addr().String(), "ops_addr", a.OpsAddr(), "public_url", cfg.PublicURL(), "version", version(),
		"database", a.DB.Driver, "mailboxes", len(cfg.Mail.Mailboxes), "acknowledgements", cfg.Mail.SMTP.Addr != "")
	return a.Run(ctx, ln)
}

func cmdMigrate(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	if _, err := parseFlags(fs, args, env); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, env)
	if err != nil {
		return err
	}
	// Open migrates; a second Migrate reports what is left (nothing).
	return withApp(ctx, cfg, env, func(a *App) error {
		ok, err := a.DB.Store.SchemaCurrent(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("schema is not current after migrating")
		}
		fmt.Fprintln(env.Stdout, "schema is current")
		return nil
	})
}

func cmdMint(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("mint", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	account := fs.String("account", "", "account reference (required)")
	kind := fs.String("kind", "", "message kind (required)")
	recipient := fs.String("recipient", "", "recipient address (optional)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args, env); err != nil {
		return err
	} else if len(pos) > 0 {
		return badUsage(fs, env)
	}
	cfg, err := loadConfig(*cfgPath, env)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, env, func(a *App) error {
		m, err := a.Service.Mint(*account, *kind, *recipient)
		if err != nil {
			return userError(err)
		}
		if *asJSON {
			return printJSON(env.Stdout, m)
		}
		fmt.Fprintf(env.Stdout, "Message-ID: %s\nLink:       %s\n", m.MessageID, m.URL)
		return nil
	})
}

func cmdAPIKeyAdd(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("apikey add", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	var scopes stringList
	var known []string
	for _, sc := range cases.Scopes {
		known = append(known, string(sc))
	}
	fs.Var(&scopes, "scope", "scope (repeatable): "+strings.Join(known, ", "))
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badUsage(fs, env)
	}
	cfg, err := loadConfig(*cfgPath, env)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, env, func(a *App) error {
		var sc []cases.Scope
		for _, s := range scopes {
			sc = append(sc, cases.Scope(s))
		}
		key, k, err := a.Service.AddAPIKey(ctx, pos[0], sc)
		if err != nil {
			return userError(err)
		}
		if *asJSON {
			return printJSON(env.Stdout, map[string]any{"key": key, "name": k.Name, "scopes": strings.Fields(k.Scopes)})
		}
		fmt.Fprintf(env.Stdout, "%s\n(shown once: store it now; scopes: %s)\n", key, k.Scopes)
		return nil
	})
}

func cmdUserAdd(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	role := fs.String("role", "", "agent, lead or admin (required)")
	trained := fs.Bool("security-trained", false, "may work security cases")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *role == "" {
		return badUsage(fs, env)
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = passwd.Generate(), true
	}
	cfg, err := loadConfig(*cfgPath, env)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, env, func(a *App) error {
		u, err := a.Service.AddUser(ctx, pos[0], cases.Role(*role), *trained, password)
		if err != nil {
			return userError(err)
		}
		if *asJSON {
			out := map[string]any{"email": u.Email, "role": u.Role, "security_trained": u.SecurityTrained}
			if generated {
				out["password"] = password
			}
			return printJSON(env.Stdout, out)
		}
		fmt.Fprintf(env.Stdout, "added %s (%s%s)\n", u.Email, u.Role, map[bool]string{true: ", security-trained"}[u.SecurityTrained])
		if generated {
			fmt.Fprintf(env.Stdout, "password: %s\n(shown once)\n", password)
		}
		return nil
	})
}

// userError turns a domain error into its showable message.
func userError(err error) error {
	if cases.ErrorCode(err) != cases.EINTERNAL {
		return errors.New(cases.ErrorMessage(err))
	}
	return err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// OSEnv is the environment of the running process.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.LookupEnv}
}

// cookieWarning explains a set-up in which browsers will drop the desk's
// Secure cookies, so that logins and forms would fail without a word.
func cookieWarning(cfg Config) string {
	u, err := url.Parse(cfg.PublicURL())
	if err != nil || u.Scheme != "http" || cfg.HTTP.InsecureCookies {
		return ""
	}
	if loopback.SecureContext(u.Hostname()) {
		return ""
	}
	return "public_url is plain HTTP on a host that is not localhost: browsers drop Secure cookies there, so staff cannot log in and forms fail; serve over HTTPS (recommended) or set http.insecure_cookies"
}

// commandsMarkdown is docs/commands.md: the overview and every command's
// help, as the command line prints them (TestCommandsDocCurrent keeps the
// file in step).
func commandsMarkdown(ctx context.Context) string {
	var b strings.Builder
	b.WriteString("# Commands\n\n<!-- Generated from app/cli.go by `go test ./app -run TestCommandsDocCurrent -update-docs`; do not edit. -->\n\n")
	b.WriteString("Every command takes `--config FILE` (default `./notme.yaml` if present) and\nworks with no config at all: SQLite under `./data`, a token key generated\nthere. `notme help COMMAND` and `notme COMMAND -h` print what is below.\n\n")
	b.WriteString("```text\n$ notme help\n" + overview() + "```\n")
	for _, c := range commands {
		var out bytes.Buffer
		env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard, Getenv: func(string) (string, bool) { return "", false }}
		_ = help(ctx, strings.Fields(c.name), env)
		fmt.Fprintf(&b, "\n## notme %s\n\n```text\n%s```\n", c.name, out.String())
	}
	return b.String()
}
