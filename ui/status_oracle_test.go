package ui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"notme/cases"
)

// outcomeRE is the status page's outcome sentence.
var outcomeRE = regexp.MustCompile(`(?s)<dd class="stage stage-[a-z_]+">(.*?)</dd>`)

// Issue 12, the status page as an oracle: a real link of an account
// whose case is already being handled joins that case, so its status page
// right after the button said "Being handled" where a forged link's says
// "Received": a prober learned the link was real. A report reads
// "Received" until a person acts on the case after it arrived.
func TestStatusPageRightAfterTheButtonIsNoOracle(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "kenji.agent@desk.example", cases.RoleAgent, true)
	ctx := context.Background()
	agent := cases.Actor{User: mustUser(t, d, "kenji.agent@desk.example")}

	ref, _ := d.browser(t).report(t, d.mint(t, "acct-o1", "registration").Token, nil)
	if _, err := d.app.Service.Take(ctx, agent, ref); err != nil {
		t.Fatalf("Take(%s) = %v", ref, err)
	}

	outcome := func(path string) string {
		t.Helper()
		page := d.browser(t).get(t, strings.TrimSuffix(path, "?filed=1"))
		page.wantStatus(t, 200)
		m := outcomeRE.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("GET %s: no outcome on the page:\n%s", path, clip(page.body))
		}
		return strings.TrimSpace(m[1])
	}
	realRef, realPath := d.browser(t).report(t, d.mint(t, "acct-o1", "registration").Token, nil)
	if realRef != ref {
		t.Fatalf("a second link of acct-o1 filed on %s, want the case being handled, %s", realRef, ref)
	}
	_, forgedPath := d.browser(t).report(t, "forged-"+randomString(40), nil)
	real, forged := outcome(realPath), outcome(forgedPath)
	if real != forged {
		t.Errorf("right after the button a real link reads %q and a forged one %q: the page tells which is real", real, forged)
	}
	if !strings.Contains(real, "Received.") {
		t.Errorf("a report that joined a case being handled reads %q before anyone acted on it, want Received", real)
	}

	// Once the agent acts on the case after the report arrived, it is
	// being handled for this reporter too.
	if _, err := d.app.Service.SetStatus(ctx, agent, ref, cases.StatusContained, ""); err != nil {
		t.Fatalf("SetStatus(contained) = %v", err)
	}
	if got := outcome(realPath); !strings.Contains(got, "Being handled") {
		t.Errorf("after the agent contained the case, the report reads %q, want Being handled", got)
	}
}
