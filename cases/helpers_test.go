package cases

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"notme/app/testdb"
	"notme/cases/sealed"
)

// openTestStore opens a migrated SQLite file under t.TempDir() the way
// app/db.go does: one writer connection whose transactions begin
// IMMEDIATE and a separate read-only pool, WAL, foreign keys, a busy
// timeout and gorm's error translation.
//
// With NOTME_TEST_POSTGRES set it opens a fresh PostgreSQL database
// instead (openPostgresTestStore): every storage test runs on both.
func openTestStore(t testing.TB) *Store {
	t.Helper()
	if testdb.Postgres() {
		return openPostgresTestStore(t)
	}
	path := filepath.Join(t.TempDir(), "notme.db")
	q := url.Values{}
	q.Set("_busy_timeout", "5000")
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	writerDSN := "file:" + path + "?" + q.Encode()
	q.Set("mode", "ro")
	q.Del("_txlock")
	q.Del("_journal_mode")
	readerDSN := "file:" + path + "?" + q.Encode()
	gcfg := func() *gorm.Config {
		return &gorm.Config{
			TranslateError:         true,
			SkipDefaultTransaction: true,
			Logger:                 logger.Discard,
			NowFunc:                func() time.Time { return time.Now().UTC() },
		}
	}
	w, err := gorm.Open(sqlite.Open(writerDSN), gcfg())
	if err != nil {
		t.Fatalf("gorm.Open(writer) = %v", err)
	}
	wdb, err := w.DB()
	if err != nil {
		t.Fatalf("writer.DB() = %v", err)
	}
	wdb.SetMaxOpenConns(1)
	t.Cleanup(func() { wdb.Close() })
	if err := w.Exec("PRAGMA journal_mode=WAL").Error; err != nil {
		t.Fatalf("PRAGMA journal_mode=WAL = %v", err)
	}
	r, err := gorm.Open(sqlite.Open(readerDSN), gcfg())
	if err != nil {
		t.Fatalf("gorm.Open(reader) = %v", err)
	}
	rdb, err := r.DB()
	if err != nil {
		t.Fatalf("reader.DB() = %v", err)
	}
	rdb.SetMaxOpenConns(4)
	t.Cleanup(func() { rdb.Close() })
	st := NewStore(w, r)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return st
}

// openPostgresTestStore opens a migrated database of the test's own the way
// app/postgres.go does: one pool, timestamptz scanned as UTC, gorm's error
// translation.
func openPostgresTestStore(t testing.TB) *Store {
	t.Helper()
	cc, err := pgx.ParseConfig(testdb.NewPostgres(t))
	if err != nil {
		t.Fatalf("pgx.ParseConfig() = %v", err)
	}
	cc.RuntimeParams["timezone"] = "UTC"
	sqlDB := stdlib.OpenDB(*cc, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}))
	sqlDB.SetMaxOpenConns(8)
	t.Cleanup(func() { sqlDB.Close() })
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		t.Fatalf("gorm.Open(postgres) = %v", err)
	}
	st := NewStore(db, db)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return st
}

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
	store *Store
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
	return &testDesk{Service: svc, store: st, clock: clock}
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

func countRows(t testing.TB, st *Store, table string) int64 {
	t.Helper()
	var n int64
	if err := st.w.Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func mid(i int) string { return fmt.Sprintf("m%06d.x@mail.example.com", i) }
