package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// cli runs the command line against a data directory and returns its exit
// code and output.
func cli(t *testing.T, dataDir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) (string, bool) {
			if k == "NOTME_DATA_DIR" {
				return dataDir, true
			}
			if u := testDatabaseURL(t, dataDir); k == "NOTME_DATABASE_URL" && u != "" {
				return u, true
			}
			return "", false
		},
	}
	code := Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func TestCLIUserAdd(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, dir, "", "user", "add", "Agent@Example.com", "--role", "agent", "--security-trained")
	if code != 0 {
		t.Fatalf("user add = %d, stderr %q", code, errs)
	}
	if !strings.Contains(out, "agent@example.com") || !strings.Contains(out, "password: ") {
		t.Fatalf("user add printed %q, want the address and a generated password", out)
	}
	pw := strings.TrimSpace(strings.SplitN(strings.SplitN(out, "password: ", 2)[1], "\n", 2)[0])
	if len(pw) < 12 {
		t.Fatalf("generated password %q is too short", pw)
	}

	// The printed password logs in.
	a := openTestApp(t, dir)
	if _, _, err := a.Service.Login(context.Background(), "agent@example.com", pw, time.Hour); err != nil {
		t.Fatalf("Login with the printed password: %v", err)
	}
	a.Close()

	code, out, _ = cli(t, dir, "a-password-from-stdin\n", "user", "add", "lead@example.com", "--role", "lead", "--password-stdin")
	if code != 0 || strings.Contains(out, "password:") {
		t.Fatalf("user add --password-stdin = %d %q, want 0 and no password printed", code, out)
	}
	a = openTestApp(t, dir)
	if _, _, err := a.Service.Login(context.Background(), "lead@example.com", "a-password-from-stdin", time.Hour); err != nil {
		t.Fatalf("Login with the stdin password: %v", err)
	}
	a.Close()

	for _, tc := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"user", "add", "agent@example.com", "--role", "agent"}, 1, "exists already"},
		{[]string{"user", "add", "x@example.com", "--role", "boss"}, 1, "role must be"},
		{[]string{"user", "add", "--role", "agent"}, 2, "usage"},
		{[]string{"user", "add", "not-an-address", "--role", "agent"}, 1, "not an email address"},
	} {
		code, _, errs := cli(t, dir, "", tc.args...)
		if code != tc.want || !strings.Contains(errs, tc.msg) {
			t.Errorf("notme %v = %d %q, want %d and %q", tc.args, code, errs, tc.want, tc.msg)
		}
	}
	if code, _, errs := cli(t, dir, "short\n", "user", "add", "y@example.com", "--role", "agent", "--password-stdin"); code != 1 || !strings.Contains(errs, "at least 12") {
		t.Errorf("user add with a short password = %d %q, want 1 and a length error", code, errs)
	}
}

func openTestApp(t *testing.T, dir string) *App {
	t.Helper()
	cfg := testConfig(t, dir)
	a, err := Open(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return a
}

func TestCLIMintAndAPIKey(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, dir, "", "mint", "--account", "ACC-9", "--kind", "registration", "--json")
	if code != 0 {
		t.Fatalf("mint = %d, stderr %q", code, errs)
	}
	var m struct {
		MessageID string `json:"message_id"`
		URL       string `json:"url"`
		Token     string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("mint --json printed %q: %v", out, err)
	}
	if !strings.HasPrefix(m.MessageID, "<nm1."+m.Token+"@") || !strings.HasSuffix(m.URL, "/r/"+m.Token) {
		t.Fatalf("mint --json = %+v, want <nm1.TOKEN@…> and …/r/TOKEN", m)
	}
	// The key generated on first use is kept: a second mint opens with it.
	a := openTestApp(t, dir)
	defer a.Close()
	f, err := a.Service.FileReport(context.Background(), reportFor(m.Token))
	if err != nil || f.Case.AccountRef != "ACC-9" {
		t.Fatalf("FileReport with the minted token = %+v, %v; want account ACC-9", f.Case, err)
	}

	if code, _, errs := cli(t, dir, "", "mint", "--account", "ACC-9", "--kind", "nope"); code != 1 || !strings.Contains(errs, "kind must be one of") {
		t.Errorf("mint with an unknown kind = %d %q", code, errs)
	}

	code, out, errs = cli(t, dir, "", "apikey", "add", "crm", "--scope", "messages:write", "--scope", "mint,cases:read", "--json")
	if code != 0 {
		t.Fatalf("apikey add = %d %q", code, errs)
	}
	var k struct {
		Key    string
		Scopes []string
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || !strings.HasPrefix(k.Key, "nmk_") || len(k.Scopes) != 3 {
		t.Fatalf("apikey add --json printed %q (%v)", out, err)
	}
	if code, _, errs := cli(t, dir, "", "apikey", "add", "crm2", "--scope", "everything"); code != 1 || !strings.Contains(errs, "unknown scope") {
		t.Errorf("apikey add with a bad scope = %d %q", code, errs)
	}
}

func TestCLIMigrateVersionUsage(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := cli(t, dir, "", "migrate"); code != 0 || !strings.Contains(out, "schema is current") {
		t.Fatalf("migrate = %d %q %q", code, out, errs)
	}
	if code, out, _ := cli(t, dir, "", "version"); code != 0 || !strings.HasPrefix(out, "notme ") {
		t.Fatalf("version = %d %q", code, out)
	}
	if code, _, errs := cli(t, dir, "", "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command = %d %q", code, errs)
	}
	if code, _, errs := cli(t, dir, "", "serve", "--config", dir+"/missing.yaml"); code != 1 || !strings.Contains(errs, "missing.yaml") {
		t.Fatalf("serve with a missing config = %d %q", code, errs)
	}
}

// TestServeGracefulShutdown: a request in flight when the signal comes
// still gets its answer, and Serve returns cleanly, with both listeners
// (public and operations) closed. /readyz is on the operations listener
// only; the public one keeps a bare /healthz.
func TestServeGracefulShutdown(t *testing.T) {
	a := openTestApp(t, t.TempDir())
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ListenOps(); err != nil {
		t.Fatalf("ListenOps() = %v", err)
	}
	ops, public := "http://"+a.OpsAddr(), "http://"+ln.Addr().String()
	if ops == "http://" {
		t.Fatal("OpsAddr() = \"\" after ListenOps, want the bound address")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()

	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(ops + "/readyz"); code != http.StatusOK || !strings.HasPrefix(body, "ready") {
		t.Fatalf("GET /readyz on the operations listener = %d %q, want 200 ready", code, body)
	}
	if code, _ := get(ops + "/metrics"); code != http.StatusOK {
		t.Fatalf("GET /metrics on the operations listener = %d, want 200", code)
	}
	for _, path := range []string{"/readyz", "/metrics"} {
		if code, _ := get(public + path); code != http.StatusNotFound {
			t.Errorf("GET %s on the public listener = %d, want 404", path, code)
		}
	}
	if code, body := get(public + "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz on the public listener = %d %q, want 200 \"ok\"", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel = %v, want nil", err)
	}
	for _, u := range []string{public + "/healthz", ops + "/healthz"} {
		if _, err := http.Get(u); err == nil {
			t.Errorf("GET %s after shutdown succeeded; want the listener closed", u)
		}
	}
}

// TestServeOpsAddrTaken: an operations address already in use fails the
// start, naming the key, rather than a desk without its probes.
func TestServeOpsAddrTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig(t, t.TempDir())
	cfg.HTTP.OpsAddr = taken.Addr().String()
	a, err := Open(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Serve(context.Background(), ln); err == nil || !strings.Contains(err.Error(), "http.ops_addr") {
		t.Fatalf("Serve with http.ops_addr taken = %v, want an error naming http.ops_addr", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Errorf("the public listener still answers after the failed start")
	}
}

// TestOpsListenerBeyondLoopbackWarns: an operations listener bound to
// every address with no http.ops_allow refuses every client but loopback
// (refuse by default), and says so at start.
func TestOpsListenerBeyondLoopbackWarns(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		allow []string
		warn  bool
	}{
		{"127.0.0.1:0", nil, false},
		{":0", nil, true},
		{":0", []string{"10.0.0.0/8"}, false},
	} {
		cfg := testConfig(t, t.TempDir())
		cfg.HTTP.OpsAddr, cfg.HTTP.OpsAllow = tc.addr, tc.allow
		var logs bytes.Buffer
		a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := a.ListenOps(); err != nil {
			t.Fatalf("ListenOps() on %s = %v", tc.addr, err)
		}
		if got := strings.Contains(logs.String(), "http.ops_allow"); got != tc.warn {
			t.Errorf("ListenOps() on %s with ops_allow %v warned %v, want %v; log:\n%s", tc.addr, tc.allow, got, tc.warn, logs.String())
		}
		if err := a.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	}
}
