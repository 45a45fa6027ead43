package app

import (
	"bufio"
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

const usage = `notme — the misdirected-email report desk

Usage: notme COMMAND [flags]

Commands:
  serve   [--addr ADDR]                       run the desk: web, API and workers
  demo    [--addr ADDR] [--data DIR]          run a seeded desk in one process
  parse   [--json] FILE|-                     parse one raw mail; touches no database
  ingest  [--json] FILE|-                     one raw mail through the whole pipeline (MTA pipe)
  mint    --account REF --kind KIND [--recipient ADDR] [--json]
                                              seal a Message-ID and "not me" link
  apikey add NAME --scope SCOPE… [--json]     create an API key (printed once)
  user add EMAIL --role agent|lead|admin [--security-trained] [--password-stdin]
                                              create a staff user
  migrate                                     bring the database schema up to date
  version                                     print the version

Every command takes --config FILE (default ./notme.yaml if present).
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	err := run(ctx, args, env)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(env.Stderr, "notme:", err)
	return 1
}

func run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, env)
	case "demo":
		return cmdDemo(ctx, rest, env)
	case "mint":
		return cmdMint(ctx, rest, env)
	case "parse":
		return cmdParse(ctx, rest, env)
	case "ingest":
		return cmdIngest(ctx, rest, env)
	case "apikey":
		if len(rest) == 0 || rest[0] != "add" {
			fmt.Fprintln(env.Stderr, "usage: notme apikey add NAME --scope SCOPE… [--json]")
			return errUsage
		}
		return cmdAPIKeyAdd(ctx, rest[1:], env)
	case "user":
		if len(rest) == 0 || rest[0] != "add" {
			fmt.Fprintln(env.Stderr, "usage: notme user add EMAIL --role agent|lead|admin [--security-trained] [--password-stdin]")
			return errUsage
		}
		return cmdUserAdd(ctx, rest[1:], env)
	case "migrate":
		return cmdMigrate(ctx, rest, env)
	case "version", "--version":
		fmt.Fprintln(env.Stdout, "notme", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	}
	fmt.Fprintf(env.Stderr, "notme: unknown command %q\n\n%s", cmd, usage)
	return errUsage
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
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
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
		fmt.Fprintln(env.Stderr, "usage: notme mint --account REF --kind KIND [--recipient ADDR] [--json]")
		return errUsage
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
	fs.Var(&scopes, "scope", "scope (repeatable): messages:write, mint, reports:write, cases:read, cases:write")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "usage: notme apikey add NAME --scope SCOPE… [--json]")
		return errUsage
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
		fmt.Fprintln(env.Stderr, "usage: notme user add EMAIL --role agent|lead|admin [--security-trained] [--password-stdin]")
		return errUsage
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = cases.GeneratePassword(), true
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
