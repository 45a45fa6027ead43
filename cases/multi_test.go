package cases

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"notme/cases/store"
)

// secondDesk is another desk instance on d's database: its own Service,
// the same store and clock.
func secondDesk(t *testing.T, d *testDesk) *testDesk {
	t.Helper()
	svc, err := NewService(Options{
		Store: d.store.Store, Sealer: svcSealer(t, d.clock.Now), Kinds: svcKinds,
		PublicURL: "https://desk.example.com/", MessageIDDomain: "mail.example.com", Now: d.clock.Now,
	})
	if err != nil {
		t.Fatalf("NewService(second instance) = %v", err)
	}
	return &testDesk{Service: svc, store: d.store, clock: d.clock}
}

// A mailbox lease passes between instances only when its holder lets it
// go or stops renewing.
func TestMailboxLease(t *testing.T) {
	a := newTestDesk(t)
	b := secondDesk(t, a)
	ctx := context.Background()
	const ttl = 15 * time.Second
	steps := []struct {
		name      string
		desk      *testDesk
		owner     string
		advance   time.Duration
		release   bool
		wantHeld  bool
		wantOwner string
	}{
		{"first instance takes the free mailbox", a, "A", 0, false, true, "A"},
		{"second instance is refused while A's lease runs", b, "B", 0, false, false, "A"},
		{"A renews before it runs out", a, "A", 10 * time.Second, false, true, "A"},
		{"B is still refused: A renewed", b, "B", 10 * time.Second, false, false, "A"},
		{"A stopped renewing: B takes over", b, "B", 6 * time.Second, false, true, "B"},
		{"A cannot renew what B holds", a, "A", 0, false, false, "B"},
		{"B releases on shutdown", b, "B", 0, true, false, "B"},
		{"A takes the released mailbox at once", a, "A", 0, false, true, "A"},
	}
	for _, st := range steps {
		a.clock.Advance(st.advance)
		if st.release {
			if err := st.desk.ReleaseMailboxLease(ctx, "reports", st.owner); err != nil {
				t.Fatalf("%s: ReleaseMailboxLease() = %v", st.name, err)
			}
			continue
		}
		lease, held, err := st.desk.TakeMailboxLease(ctx, "reports", st.owner, ttl)
		if err != nil || held != st.wantHeld || lease.Owner != st.wantOwner {
			t.Fatalf("%s: TakeMailboxLease(%s) = %+v, held %v, %v; want held %v, owner %s",
				st.name, st.owner, lease, held, err, st.wantHeld, st.wantOwner)
		}
	}
	ls, err := b.MailboxLeases(ctx)
	if err != nil || len(ls) != 1 || ls[0].Owner != "A" || !ls[0].LeaseUntil.Equal(a.clock.Now().Add(ttl)) {
		t.Fatalf("MailboxLeases() = %+v, %v; want A's lease until %v", ls, err, a.clock.Now().Add(ttl))
	}
}

// Instances racing for one free mailbox: exactly one wins.
func TestMailboxLeaseRace(t *testing.T) {
	a := newTestDesk(t)
	desks := []*testDesk{a, secondDesk(t, a), secondDesk(t, a), secondDesk(t, a)}
	var wg sync.WaitGroup
	won := make(chan string, len(desks))
	for i, d := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("instance-", i)
			if _, held, err := d.TakeMailboxLease(context.Background(), "reports", owner, time.Minute); err != nil {
				t.Errorf("TakeMailboxLease(%s) = %v", owner, err)
			} else if held {
				won <- owner
			}
		}()
	}
	wg.Wait()
	close(won)
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("TakeMailboxLease by 4 instances at once: held by %v, want exactly one", winners)
	}
}

// repliesTo registers n ledger mails of kind, each to its own account and
// address, and returns a reply to each from that address, as fetched from
// an IMAP folder. Each address is at a domain of its own, below the
// acknowledgements' bound per domain.
func repliesTo(t *testing.T, d *testDesk, n int, kind string) []InboundMail {
	t.Helper()
	mails := make([]InboundMail, n)
	for i := range mails {
		orig := fmt.Sprintf("<o%d@mail.example.com>", i)
		d.register(t, orig, fmt.Sprint("ACC-", i), fmt.Sprintf("r%d@d%d.example.org", i, i), kind)
		mails[i] = InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), Raw: []byte("raw " + orig),
			Parsed: ParsedMail{Class: ClassReport, MessageID: fmt.Sprintf("<rep%d@example.org>", i),
				From: fmt.Sprintf("r%d@d%d.example.org", i, i), Subject: "Re: your mail", MessageIDs: []string{orig}}}
	}
	return mails
}

// Two instances, several senders each, claim the same queue of
// acknowledgements and webhooks at once: each row goes to one claim only,
// and no claim takes more than asked.
func TestClaimsAcrossInstances(t *testing.T) {
	a := newTestDesk(t)
	b := secondDesk(t, a)
	ctx := context.Background()
	const n = 120
	ingest(t, a, repliesTo(t, a, n, "postal_notice")...)
	var deliveries int64
	a.store.r.Model(&Delivery{}).Where("state = ?", DeliveryPending).Count(&deliveries)
	if deliveries != n {
		t.Fatalf("%d pending webhooks after %d exact reports, want %d", deliveries, n, n)
	}

	var mu sync.Mutex
	acks := map[int64]int{}
	hooks := map[string]int{}
	var wg sync.WaitGroup
	for i := range 8 {
		d := []*testDesk{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				as, err := d.DueAcks(ctx, 7)
				if err != nil {
					t.Errorf("DueAcks() = %v", err)
					return
				}
				ds, err := d.claimDeliveries(ctx, 7)
				if err != nil {
					t.Errorf("claimDeliveries() = %v", err)
					return
				}
				if len(as) == 0 && len(ds) == 0 {
					return
				}
				if len(as) > 7 || len(ds) > 7 {
					// A crashed instance would strand them all for a lease.
					t.Errorf("a claim of at most 7 took %d acks and %d webhooks", len(as), len(ds))
				}
				mu.Lock()
				for _, x := range as {
					acks[x.ID]++
				}
				for _, x := range ds {
					hooks[x.IdempotencyKey]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(acks) != n || len(hooks) != n {
		t.Fatalf("claimed %d acks and %d webhooks, want %d of each", len(acks), len(hooks), n)
	}
	for id, c := range acks {
		if c != 1 {
			t.Errorf("ack %d claimed %d times, want once", id, c)
		}
	}
	for key, c := range hooks {
		if c != 1 {
			t.Errorf("webhook %s claimed %d times, want once", key, c)
		}
	}
}

// Two instances purging at once purge each mail once and tell each case
// once per mail.
func TestPurgeEvidenceTwoInstances(t *testing.T) {
	a := newTestDesk(t)
	b := secondDesk(t, a)
	ctx := context.Background()
	const n = 60
	ingest(t, a, repliesTo(t, a, n, "newsletter")...)
	a.clock.Advance(31 * 24 * time.Hour)
	var wg sync.WaitGroup
	var total [4]int
	for i := range total {
		d := []*testDesk{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := d.PurgeEvidence(ctx, 30*24*time.Hour, 5)
			if err != nil {
				t.Errorf("PurgeEvidence() = %v", err)
			}
			total[i] = got
		}()
	}
	wg.Wait()
	if sum := total[0] + total[1] + total[2] + total[3]; sum != n {
		t.Errorf("PurgeEvidence on 4 workers of 2 instances purged %v = %d mails, want %d", total, sum, n)
	}
	var events int64
	a.store.r.Model(&Event{}).Where("type = ?", EventEvidencePurged).Count(&events)
	if events != n {
		t.Errorf("%d evidence-purged events on the timelines, want %d (one per case)", events, n)
	}
}

// A shared rate limit counts the hits of every instance against one limit
// per key and window.
func TestSharedRateCountsEveryInstance(t *testing.T) {
	a := newTestDesk(t)
	b := secondDesk(t, a)
	ctx := context.Background()
	ra, rb := a.NewSharedRate(3, time.Minute), b.NewSharedRate(3, time.Minute)
	steps := []struct {
		rate    *SharedRate
		key     string
		advance time.Duration
		want    bool
	}{
		{ra, "report\x00192.0.2.1", 0, true},
		{rb, "report\x00192.0.2.1", 0, true},
		{ra, "report\x00192.0.2.1", 10 * time.Second, true},
		{rb, "report\x00192.0.2.1", 0, false}, // the fourth hit in the window, on either instance
		{ra, "report\x00192.0.2.1", 0, false},
		{rb, "login\x00192.0.2.1", 0, true},  // another limit
		{ra, "report\x00192.0.2.2", 0, true}, // another client
		{rb, "report\x00192.0.2.1", time.Minute, true},
	}
	for i, st := range steps {
		a.clock.Advance(st.advance)
		got, err := st.rate.Allow(ctx, st.key)
		if err != nil || got != st.want {
			t.Fatalf("step %d: Allow(%q) = %v, %v; want %v", i, st.key, got, err, st.want)
		}
	}
	var keys int64
	a.store.r.Table("rate_limit_counters").Where("key LIKE ?", "%192.0.2%").Count(&keys)
	if keys != 0 {
		t.Errorf("%d counters store the client address in clear, want 0 (hashed)", keys)
	}
}

// A large shared limit is counted in batches (one write per limit/16 hits
// far from the limit), and still holds across instances: every hit up to
// the limit is let through, and at most two batches per instance more (one
// held in memory, one being written).
// A small limit is counted hit by hit, so it holds exactly.
func TestSharedRateAcrossInstances(t *testing.T) {
	a := newTestDesk(t)
	b := secondDesk(t, a)
	ctx := context.Background()

	const limit, batch = 640, 640 / 16
	ra, rb := a.NewSharedRate(limit, time.Minute), b.NewSharedRate(limit, time.Minute)
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := []*SharedRate{ra, rb}[g%2]
			for range 150 {
				ok, err := r.Allow(ctx, "guard\x00192.0.2.7")
				if err != nil {
					t.Errorf("Allow: %v", err)
					return
				}
				if ok {
					allowed.Add(1)
				} else {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got < limit || got > limit+2*2*batch {
		t.Errorf("%d of 1,200 hits let through by two instances, want %d to %d (the limit, at most two batches per instance over)", got, limit, limit+2*2*batch)
	}
	// The next window starts afresh.
	a.clock.Advance(time.Minute)
	if ok, err := ra.Allow(ctx, "guard\x00192.0.2.7"); err != nil || !ok {
		t.Errorf("Allow in the next window = %v, %v; want true", ok, err)
	}

	// Far from the limit, hits are written a batch at a time: 100 hits
	// on one instance are two writes of 40, and 20 held in memory.
	one := a.NewSharedRate(limit, time.Minute)
	for range 100 {
		if ok, err := one.Allow(ctx, "guard\x00192.0.2.9"); err != nil || !ok {
			t.Fatalf("Allow = %v, %v; want true far from the limit", ok, err)
		}
	}
	var counted int64
	a.store.r.Table("rate_limit_counters").Select("COALESCE(SUM(hits), 0)").
		Where("key = ?", rateKeyHash("guard\x00192.0.2.9")).Scan(&counted)
	if counted != 2*batch {
		t.Errorf("after 100 hits the shared counter holds %d, want %d (written %d at a time)", counted, 2*batch, batch)
	}

	// A limit of five is exact across instances: the sixth hit is refused
	// wherever it lands.
	sa, sb := a.NewSharedRate(5, time.Minute), b.NewSharedRate(5, time.Minute)
	for i := range 7 {
		ok, err := []*SharedRate{sa, sb}[i%2].Allow(ctx, "login\x00192.0.2.8")
		if err != nil || ok != (i < 5) {
			t.Fatalf("hit %d: Allow = %v, %v; want %v", i+1, ok, err, i < 5)
		}
	}
}

// Two instances on hosts whose clocks disagree by more than a lease: on
// their own clocks, the host running fast takes a mailbox its holder still
// renews; on the database's clock (DBClock), it waits for the lease to run
// out like any other.
func TestMailboxLeaseSkewedHosts(t *testing.T) {
	st := openTestStore(t)
	const skew, ttl = 30 * time.Second, 15 * time.Second
	fast := func() time.Time { return time.Now().Add(skew) }
	desk := func(now func() time.Time) *Service {
		svc, err := NewService(Options{Store: st, Sealer: svcSealer(t, now), Kinds: svcKinds,
			PublicURL: "https://desk.example.com/", MessageIDDomain: "mail.example.com", Now: now})
		if err != nil {
			t.Fatalf("NewService() = %v", err)
		}
		return svc
	}
	ctx := context.Background()

	clock := store.NewDBClock(st, fast)
	offset, within, err := clock.Sync(ctx)
	if err != nil {
		t.Fatalf("DBClock.Sync() = %v", err)
	}
	// The database runs on this machine's real clock: the host is 30s ahead.
	if d := (offset + skew).Abs(); d > within+50*time.Millisecond {
		t.Errorf("DBClock.Sync() offset = %v ± %v, want about %v", offset, within, -skew)
	}
	if d := time.Until(clock.Now()).Abs(); d > time.Second {
		t.Errorf("DBClock.Now() is %v away from the database's time, want under 1s", d)
	}

	for _, c := range []struct {
		name     string
		fastNow  func() time.Time
		wantHeld bool
	}{
		{"host clock", fast, true},
		{"database clock", clock.Now, false},
	} {
		holder, other := "holder-"+c.name, "fast-"+c.name
		name := "reports-" + c.name
		if _, held, err := desk(time.Now).TakeMailboxLease(ctx, name, holder, ttl); err != nil || !held {
			t.Fatalf("%s: the holder's TakeMailboxLease() = held %v, %v; want held", c.name, held, err)
		}
		lease, held, err := desk(c.fastNow).TakeMailboxLease(ctx, name, other, ttl)
		if err != nil || held != c.wantHeld {
			t.Errorf("%s: the fast host's TakeMailboxLease() of a lease with %v left = held %v (lease %+v), %v; want held %v",
				c.name, ttl, held, lease, err, c.wantHeld)
		}
	}
}
