package ui_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"notme/app"
)

// A client whose report limit is spent is answered 429 before the desk
// reads its body: a body that never finishes still gets the answer.
func TestSpentRateLimitReadsNoBody(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.HTTP.ReportRate = app.RateConfig{PerMinute: 1, Burst: 1} })
	b := d.browser(t)
	csrf := b.csrf(t, "/report")
	if r := b.post(t, "/report", url.Values{"_csrf": {csrf}, "text": {"Message-ID: <x@y.example>"}}); r.status == http.StatusTooManyRequests {
		t.Fatalf("%s = 429 within the burst", r.call)
	}

	// 5 MB announced, a few bytes sent, the rest never: a desk that reads
	// the body before the limit waits for it until the client gives up.
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go func() { _, _ = pw.Write([]byte("_csrf=" + url.QueryEscape(csrf) + "&text=")) }()
	req, err := http.NewRequest(http.MethodPost, d.url+"/report", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 5 << 20 // under the 6M body limit
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// A bound on failure, not a wait for success: a desk still reading
	// after 15 s gets a short body instead.
	giveUp := time.AfterFunc(15*time.Second, func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	defer giveUp.Stop()
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatalf("POST /report with the limit spent and an endless body: %v (the desk waited for the body)", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("POST /report with the limit spent = %d, want 429:\n%s", resp.StatusCode, clip(string(body)))
	}
	if !strings.Contains(string(body), "Nothing you sent before is lost") {
		t.Errorf("the 429 page does not say what happened:\n%s", clip(string(body)))
	}
}
