package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemo runs `notme demo` as a new user would and follows what it
// prints: the seeded report mails become cases on the right accounts,
// the out-of-office reply does not, and Ctrl-C stops it cleanly.
func TestDemo(t *testing.T) {
	var out, errs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--data", t.TempDir()},
			Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs, Getenv: func(string) (string, bool) { return "", false }})
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d after Ctrl-C; stderr:\n%s", code, errs.String())
		}
	}()

	var base, key string
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for base == "" || key == "" {
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no URL and key within 20s; stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
		}
		<-tick.C
		s := out.String()
		if m := regexp.MustCompile(`the desk is at (http://\S+)`).FindStringSubmatch(s); m != nil {
			base = m[1]
		}
		key = regexp.MustCompile(`nmk_[a-z0-9_]+`).FindString(s)
	}
	s := out.String()
	for _, want := range []string{"/r/", "agent@example.com", "password", "/demo/outbox", "account system"} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q:\n%s", want, s)
		}
	}
	// The operations listener is printed, answers /metrics, and is not
	// the public address.
	if m := regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/metrics`).FindStringSubmatch(s); m == nil || m[1] == base {
		t.Errorf("demo output names no operations listener apart from %s:\n%s", base, s)
	} else if resp, err := http.Get(m[0]); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET printed %s = %v, %v", m[0], resp, err)
	} else {
		resp.Body.Close()
	}
	link := regexp.MustCompile(`http://\S+/r/\S+`).FindString(s)
	if resp, err := http.Get(link); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET printed link %s = %v, %v", link, resp, err)
	}

	// The seeded mails become three cases, one per reported account.
	var list struct {
		Cases []struct {
			Ref        string `json:"ref"`
			AccountRef string `json:"account_ref"`
			Match      string `json:"match"`
		} `json:"cases"`
	}
	for {
		if time.Now().After(deadline) {
			t.Fatalf("demo mail became %d cases within 20s, want 3; stderr:\n%s", len(list.Cases), errs.String())
		}
		<-tick.C
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/cases", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Cases) >= 3 {
			break
		}
	}
	accounts := map[string]string{}
	for _, c := range list.Cases {
		accounts[c.AccountRef] = c.Match
	}
	for _, acc := range []string{"ACC-1001", "ACC-1002", "ACC-1003"} {
		if accounts[acc] != "exact" {
			t.Errorf("demo cases = %v; want an exact case for %s", accounts, acc)
		}
	}
	if _, ok := accounts["ACC-1004"]; ok || len(list.Cases) != 3 {
		t.Errorf("demo cases = %v; the out-of-office reply must not become one", accounts)
	}

	// The demo's account system takes the containment webhooks and
	// confirms them, so each exact case becomes contained by itself.
	for _, c := range list.Cases {
		for {
			var got struct {
				Status      string `json:"status"`
				Containment []struct {
					Action string `json:"action"`
					State  string `json:"state"`
				} `json:"containment"`
				Reports []struct {
					MatchedBy string `json:"matched_by"`
				} `json:"reports"`
			}
			req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/cases/"+c.Ref, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			// The new mail from the order mail's recipient joins that
			// account's case, matched by the recipient.
			byRecipient := c.AccountRef != "ACC-1002"
			for _, r := range got.Reports {
				byRecipient = byRecipient || r.MatchedBy == "recipient"
			}
			if got.Status == "contained" && len(got.Containment) > 0 && byRecipient {
				for _, a := range got.Containment {
					if a.State != "confirmed" {
						t.Errorf("case %s contained with %s %s, want every action confirmed", c.Ref, a.Action, a.State)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("case %s of %s is %s with containment %+v and reports %+v after 20s, want contained by the demo account system (and for ACC-1002 a report matched by recipient); stderr:\n%s",
					c.Ref, c.AccountRef, got.Status, got.Containment, got.Reports, errs.String())
			}
			<-tick.C
		}
	}
	if !strings.Contains(errs.String(), "webhook accepted") {
		t.Errorf("the demo account system logged no accepted webhook; stderr:\n%s", errs.String())
	}
}
