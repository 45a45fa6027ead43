package cases

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"notme/app/testdb"
	"notme/cases/sealed"
	"notme/cases/store"
)

// openTestStore opens a migrated store of the test's own: SQLite, or
// PostgreSQL with NOTME_TEST_POSTGRES set, so every storage test runs on
// both (testdb.Store).
func openTestStore(t testing.TB) *store.Store { return testdb.Store(t) }

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// svcKinds are the message kinds the service tests configure.
var svcKinds = []Kind{
	{Name: "registration", Label: "Registration", Severity: SeverityHigh, Credential: true,
		Actions: []string{ActionRevokePendingLinks, ActionRequireReverification}},
	{Name: "postal_notice", Label: "Postal notice", Severity: SeverityHigh, PersonalData: true,
		Actions: []string{ActionSuppressRecipient}},
	{Name: "order_confirmation", Label: "Order", Severity: SeverityNormal, PersonalData: true},
	{Name: "newsletter", Label: "Newsletter", Severity: SeverityLow},
	{Name: "magic_link", Label: "Magic login link", Severity: SeverityLow, Credential: true},
}

func svcSealer(t testing.TB, clock func() time.Time) *sealed.Sealer {
	t.Helper()
	sum := sha256.Sum256([]byte("notme service test key"))
	s, err := sealed.NewSealer([]sealed.Key{{ID: 3, Secret: sum[:]}}, clock)
	if err != nil {
		t.Fatalf("sealed.NewSealer() = %v", err)
	}
	return s
}

// testDesk is a Service on a fresh SQLite file with a controlled clock.
type testDesk struct {
	*Service
	store handles
	clock *fakeClock
}

func newTestDesk(t testing.TB) *testDesk {
	t.Helper()
	clock := newFakeClock()
	st := openTestStore(t)
	svc, err := NewService(Options{
		Store:           st,
		Sealer:          svcSealer(t, clock.Now),
		Kinds:           svcKinds,
		PublicURL:       "https://desk.example.com/",
		MessageIDDomain: "mail.example.com",
		Now:             clock.Now,
	})
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	return &testDesk{Service: svc, store: handlesOf(st), clock: clock}
}

// register puts one message in the ledger or fails the test.
func (d *testDesk) register(t testing.TB, msgID, account, rcpt, kind string) Registered {
	t.Helper()
	reg, _, err := d.RegisterMessage(context.Background(), LedgerMessage{
		MessageID: msgID, AccountRef: account, Recipient: rcpt, Kind: kind, Subject: "Welcome",
	})
	if err != nil {
		t.Fatalf("RegisterMessage(%s) = %v", msgID, err)
	}
	return reg
}

// mint returns a sealed token for the account or fails the test.
func (d *testDesk) mint(t testing.TB, account, kind string) Minted {
	t.Helper()
	m, err := d.Mint(account, kind, "")
	if err != nil {
		t.Fatalf("Mint(%q, %q) = %v", account, kind, err)
	}
	return m
}

// file files a report or fails the test.
func (d *testDesk) file(t testing.TB, in ReportInput) Filed {
	t.Helper()
	if in.Channel == "" {
		in.Channel = ChannelLink
	}
	f, err := d.FileReport(context.Background(), in)
	if err != nil {
		t.Fatalf("FileReport(%+v) = %v", in, err)
	}
	return f
}

// caseRow reads a case straight from the table.
func (d *testDesk) caseRow(t testing.TB, ref string) Case {
	t.Helper()
	var c Case
	if err := d.store.w.Where("ref = ?", ref).Take(&c).Error; err != nil {
		t.Fatalf("read case %s: %v", ref, err)
	}
	return c
}

// events returns the types of a case's timeline, in order.
func (d *testDesk) events(t testing.TB, caseID int64) []string {
	t.Helper()
	var evs []Event
	if err := d.store.w.Where("case_id = ?", caseID).Order("id").Find(&evs).Error; err != nil {
		t.Fatalf("read timeline of case %d: %v", caseID, err)
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// trainedAgent is a security-trained agent actor without a stored user.
func trainedAgent() Actor {
	return Actor{User: &User{ID: 1, Email: "agent@desk.example.com", Role: RoleAgent, SecurityTrained: true}}
}

// wantCode fails unless err is a domain error with the code, and (if
// mention is not empty) a message that mentions it.
func wantCode(t testing.TB, call string, err error, code Code, mention string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s = nil error, want %s", call, code)
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s = %v, want a %s error", call, err, code)
		return
	}
	if mention != "" && !strings.Contains(e.Message, mention) {
		t.Errorf("%s = %q, want a message naming %q", call, e.Message, mention)
	}
}

func countRows(t testing.TB, st handles, table string) int64 {
	t.Helper()
	var n int64
	if err := st.w.Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func mid(i int) string { return fmt.Sprintf("m%06d.x@mail.example.com", i) }
