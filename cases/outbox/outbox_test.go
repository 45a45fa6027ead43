package outbox

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"notme/internal/backoff"
)

// The engine on a table of its own in a SQLite file: what the acks and
// webhooks of package cases are, without their domain. Both databases and
// many claimers are cases' tests (TestClaimsAcrossInstances,
// TestDeadInstanceClaimsComeBack).

type row struct {
	ID            int64
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	LeaseOwner    string
	LeaseInstance string
	LeaseUntil    *time.Time
	CreatedAt     time.Time
	ExpiresAt     time.Time
	DoneAt        *time.Time
	Secret        string
}

func (row) TableName() string { return "things" }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sqliteClaim is the SQLite form of cases' dialect.claim.
func sqliteClaim(db *gorm.DB, table, where string, whereArgs []any, order string, limit int, set string, setArgs []any) (int64, error) {
	res := db.Exec(`UPDATE `+table+` SET `+set+` WHERE id IN (SELECT id FROM `+table+` WHERE `+where+` ORDER BY `+order+` LIMIT ?)`,
		append(append(append([]any{}, setArgs...), whereArgs...), limit)...)
	return res.RowsAffected, res.Error
}

type bench struct {
	db    *gorm.DB
	clock *fakeClock
}

func open(t *testing.T) *bench {
	t.Helper()
	db, err := gorm.Open(sqlite.Open("file:"+filepath.Join(t.TempDir(), "o.db")+"?_busy_timeout=5000"),
		&gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		t.Fatal(err)
	}
	sdb, _ := db.DB()
	sdb.SetMaxOpenConns(1)
	t.Cleanup(func() { sdb.Close() })
	if err := db.Exec(`CREATE TABLE things (id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt_at DATETIME NOT NULL, last_error TEXT NOT NULL DEFAULT '', lease_owner TEXT NOT NULL DEFAULT '',
		lease_instance TEXT NOT NULL DEFAULT '', lease_until DATETIME, created_at DATETIME NOT NULL, expires_at DATETIME NOT NULL,
		done_at DATETIME, secret TEXT NOT NULL DEFAULT '')`).Error; err != nil {
		t.Fatal(err)
	}
	return &bench{db: db, clock: &fakeClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}}
}

func (b *bench) queue(t *testing.T, instance string, o Options) *Queue {
	t.Helper()
	o.Table = Table{Name: "things", Pending: "pending", Sent: "sent", Dead: "dead", SentAt: "done_at", Expires: o.Table.Expires, Forget: []string{"secret"}}
	o.Writer, o.Reader, o.Claim, o.Now, o.Instance = b.db, b.db, sqliteClaim, b.clock.Now, instance
	o.Lease = time.Minute
	o.Retry = backoff.Policy{Min: 10 * time.Second, Max: time.Hour}
	q, err := New(o)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return q
}

func (b *bench) add(t *testing.T, n int) {
	t.Helper()
	now := b.clock.Now()
	for range n {
		if err := b.db.Create(&row{State: "pending", NextAttemptAt: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour), Secret: "s"}).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func (b *bench) get(t *testing.T, id int64) row {
	t.Helper()
	var r row
	if err := b.db.Take(&r, id).Error; err != nil {
		t.Fatal(err)
	}
	return r
}

func (b *bench) claim(t *testing.T, q *Queue, limit int) []row {
	t.Helper()
	c, err := q.Claim(context.Background(), limit)
	if err != nil {
		t.Fatalf("Claim() = %v", err)
	}
	var rs []row
	if err := q.Claimed(context.Background(), c, &rs); err != nil {
		t.Fatal(err)
	}
	if int64(len(rs)) != c.N {
		t.Fatalf("Claimed() read %d rows of a claim of %d", len(rs), c.N)
	}
	return rs
}

func TestClaimLeaseSendRelease(t *testing.T) {
	b := open(t)
	ctx := context.Background()
	a, other := b.queue(t, "A", Options{MaxAttempts: 3}), b.queue(t, "B", Options{MaxAttempts: 3})
	b.add(t, 5)
	got := b.claim(t, a, 3)
	if len(got) != 3 || got[0].LeaseInstance != "A" || got[0].LeaseUntil == nil {
		t.Fatalf("Claim(3) = %+v; want 3 rows leased by instance A", got)
	}
	if rest := b.claim(t, other, 10); len(rest) != 2 {
		t.Fatalf("B's Claim() = %d rows, want the 2 A does not hold", len(rest))
	}
	if again := b.claim(t, other, 10); len(again) != 0 {
		t.Fatalf("Claim() of held rows = %d, want 0", len(again))
	}
	if next, ok, err := a.NextDue(ctx); err != nil || !ok || !next.Equal(b.clock.Now().Add(time.Minute)) {
		t.Errorf("NextDue() with all held = %v, %v, %v; want the leases' end", next, ok, err)
	}

	ids, err := a.Sent(b.db, []int64{got[0].ID})
	if err != nil || len(ids) != 1 {
		t.Fatalf("Sent() = %v, %v", ids, err)
	}
	if r := b.get(t, got[0].ID); r.State != "sent" || r.DoneAt == nil || r.Secret != "" || r.LeaseOwner != "" || r.Attempts != 1 {
		t.Errorf("sent row = %+v; want sent, stamped, secret forgotten, lease ended, one attempt", r)
	}
	if ids, _ := a.Sent(b.db, []int64{got[0].ID}); len(ids) != 0 {
		t.Errorf("Sent() twice marked %v again, want nothing", ids)
	}
	if err := a.Release(ctx, got[1].LeaseOwner, []int64{got[1].ID}); err != nil {
		t.Fatal(err)
	}
	if back := b.claim(t, other, 10); len(back) != 1 || back[0].ID != got[1].ID {
		t.Errorf("Claim() after Release = %+v, want the released row at once", back)
	}
	// The lease runs out: the row is due to anyone.
	b.clock.Advance(time.Minute)
	if late := b.claim(t, other, 10); len(late) != 4 {
		t.Errorf("Claim() after the leases ran out = %d rows, want the 4 still pending", len(late))
	}
}

func TestFailedBacksOffAndGivesUp(t *testing.T) {
	b := open(t)
	ctx := context.Background()
	q := b.queue(t, "A", Options{MaxAttempts: 2})
	b.add(t, 1)
	r := b.claim(t, q, 1)[0]
	if dead, err := q.Failed(b.db, Attempt{ID: r.ID, Owner: "someone else"}, errors.New("late news"), false); err != nil || dead {
		t.Fatalf("Failed() by another claim = %v, %v", dead, err)
	}
	if got := b.get(t, r.ID); got.Attempts != 0 {
		t.Fatalf("a failure reported by another claim was recorded: %+v", got)
	}
	if dead, err := q.Failed(b.db, Attempt{ID: r.ID, Owner: r.LeaseOwner, Attempts: r.Attempts}, errors.New("421 later"), false); err != nil || dead {
		t.Fatalf("Failed() = %v, %v; want retried", dead, err)
	}
	got := b.get(t, r.ID)
	if wait := got.NextAttemptAt.Sub(b.clock.Now()); got.State != "pending" || wait < 5*time.Second || wait > 10*time.Second || got.LeaseOwner != "" {
		t.Fatalf("row after a failure = %+v (wait %v); want pending, lease ended, retried in 5–10 s", got, wait)
	}
	if n, err := q.Recovered(ctx); err != nil || n != 1 {
		t.Fatalf("Recovered() = %d, %v; want the backed-off row", n, err)
	}
	r = b.claim(t, q, 1)[0]
	if dead, err := q.Failed(b.db, Attempt{ID: r.ID, Owner: r.LeaseOwner, Attempts: r.Attempts}, errors.New("421 again"), false); err != nil || !dead {
		t.Fatalf("Failed() at MaxAttempts = %v, %v; want dead", dead, err)
	}
	if got := b.get(t, r.ID); got.State != "dead" || got.Secret != "" {
		t.Errorf("dead row = %+v, want dead with its secret forgotten", got)
	}
	if bl, err := q.Backlog(ctx); err != nil || bl.Pending != 0 || bl.Dead != 1 {
		t.Errorf("Backlog() = %+v, %v; want one dead letter", bl, err)
	}
	if ok, err := q.Requeue(b.db, r.ID, "dead", map[string]any{"attempts": 0}); err != nil || !ok {
		t.Fatalf("Requeue() = %v, %v", ok, err)
	}
	if again := b.claim(t, q, 1); len(again) != 1 {
		t.Errorf("Claim() after Requeue = %d, want the row due at once", len(again))
	}
}

func TestExpiredRowIsDead(t *testing.T) {
	b := open(t)
	q := b.queue(t, "A", Options{Table: Table{Expires: true}})
	b.add(t, 1)
	r := b.claim(t, q, 1)[0]
	b.clock.Advance(time.Hour - 2*time.Second) // the retry (5–10 s) would fall after the deadline
	if dead, err := q.Failed(b.db, Attempt{ID: r.ID, Owner: r.LeaseOwner, ExpiresAt: r.ExpiresAt}, errors.New("503"), false); err != nil || dead {
		t.Fatalf("Failed() before the deadline = %v, %v", dead, err)
	}
	if got := b.get(t, r.ID); !got.NextAttemptAt.Equal(r.ExpiresAt) {
		t.Errorf("retry after a failure near the deadline at %v, want the deadline %v", got.NextAttemptAt, r.ExpiresAt)
	}
	b.clock.Advance(2 * time.Second)
	r = b.claim(t, q, 1)[0]
	if dead, err := q.Failed(b.db, Attempt{ID: r.ID, Owner: r.LeaseOwner, Attempts: r.Attempts, ExpiresAt: r.ExpiresAt}, errors.New("503"), false); err != nil || !dead {
		t.Fatalf("Failed() at the deadline = %v, %v; want dead", dead, err)
	}
}

func TestReleaseInstance(t *testing.T) {
	b := open(t)
	a, other := b.queue(t, "A", Options{MaxAttempts: 3}), b.queue(t, "B", Options{MaxAttempts: 3})
	b.add(t, 4)
	b.claim(t, a, 3)
	b.claim(t, other, 1)
	n, err := a.ReleaseInstance(b.db, "A")
	if err != nil || n != 3 {
		t.Fatalf("ReleaseInstance(A) = %d, %v; want A's 3", n, err)
	}
	if got := b.claim(t, other, 10); len(got) != 3 {
		t.Errorf("Claim() after A was released = %d, want A's 3 at once (B keeps its own)", len(got))
	}
}
