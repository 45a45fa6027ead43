package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// On SIGTERM with http.drain set, the instance fails /readyz (on the
// operations listener) at once, so the load balancer stops sending it
// clicks, yet a click that still comes is filed; once the drain is over
// both listeners close and Run returns.
func TestRunDrains(t *testing.T) {
	longTest(t, "a real 5 s drain")
	cfg := testConfig(t, t.TempDir())
	cfg.HTTP.Drain = Duration(5 * time.Second)
	cfg.HTTP.InsecureCookies = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg.HTTP.PublicURL = base
	a, err := Open(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer a.Close()
	m, err := a.Service.Mint("ACC-DRAIN", "registration", "")
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.ListenOps(); err != nil {
		t.Fatalf("ListenOps() = %v", err)
	}
	ops := "http://" + a.OpsAddr()
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx, ln) }()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		t.Helper()
		url := base + path
		if path == "/readyz" {
			url = ops + path // the load balancer probes the operations listener
		}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Fatalf("GET /readyz before the signal = %d %q, want 200", code, body)
	}
	_, page := get("/r/" + m.Token)

	signalled := time.Now()
	cancel() // SIGTERM
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := get("/readyz")
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz after the signal = %d, want 503 while draining", code)
		}
	}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]*)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("GET /r/{token}: no CSRF field")
	}
	resp, err := client.PostForm(base+"/r/"+m.Token, url.Values{"_csrf": {csrf[1]}})
	if err != nil {
		t.Fatalf("POST /r/{token} while draining: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/s/") {
		t.Errorf("POST /r/{token} while draining = %d to %q, want 303 to the status page", resp.StatusCode, resp.Header.Get("Location"))
	}

	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run() = %v after the drain, want nil", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return within 60s of the signal")
	}
	if took := time.Since(signalled); took < 5*time.Second {
		t.Errorf("Run returned %v after the signal, want after the 5s drain", took)
	}
	for _, u := range []string{base + "/healthz", ops + "/readyz"} {
		if _, err := http.Get(u); err == nil {
			t.Errorf("GET %s after the drain succeeded; want the listener closed", u)
		}
	}
}
