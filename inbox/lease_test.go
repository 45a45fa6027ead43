package inbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"notme/cases"
)

// holder is the instance holding the mailbox's lease now, or "".
func holder(tb testing.TB, d *desk, name string) cases.MailboxLease {
	tb.Helper()
	ls, err := d.svc.MailboxLeases(context.Background())
	if err != nil {
		tb.Fatalf("MailboxLeases() = %v", err)
	}
	for _, l := range ls {
		if l.Name == name && l.LeaseUntil.After(time.Now()) {
			return l
		}
	}
	return cases.MailboxLease{}
}

// Two desk instances configured with one mailbox: one polls it, the other
// takes over when the first stops, and a poller whose lease was taken from
// it (it hung past its lease) stops and waits for the lease to come back.
func TestMailboxLeaseTakeover(t *testing.T) {
	srv := newMemServer(t, imap.CapIMAP4rev1, imap.CapIMAP4rev2)
	d := newDesk(t)
	ts := threads(t, d, "lease", 30, 400)
	ca, cb := srv.config("reports"), srv.config("reports")
	ca.Instance, cb.Instance = "instance-a", "instance-b"
	ca.LeaseTTL, cb.LeaseTTL = time.Second, time.Second

	a := startPoller(t, d, ca)
	waitFor(t, 10*time.Second, "instance-a holding the mailbox", func() bool { return holder(t, d, "reports").Owner == "instance-a" })
	startPoller(t, d, cb)
	srv.deliver(t, nil, replies(ts[:10])...)
	waitFor(t, 10*time.Second, "10 reports", func() bool { return d.mailReports(t) >= 10 })
	if h := holder(t, d, "reports"); h.Owner != "instance-a" {
		t.Fatalf("holder after 10 reports = %q, want instance-a (instance-b must wait)", h.Owner)
	}

	// A stops: its lease is released and B takes over at once.
	a.stop(t)
	waitFor(t, 10*time.Second, "instance-b taking over", func() bool { return holder(t, d, "reports").Owner == "instance-b" })
	srv.deliver(t, nil, replies(ts[10:20])...)
	waitFor(t, 10*time.Second, "20 reports", func() bool { return d.mailReports(t) >= 20 })

	// Another instance took the lease (B hung past it): B stops polling
	// and takes the mailbox back only when that lease has run out.
	stolenAt := time.Now()
	stolen, held, err := d.svc.TakeMailboxLease(context.Background(), "reports", "instance-z", 30*time.Second)
	if held || err != nil {
		t.Fatalf("TakeMailboxLease(instance-z) while B holds = %+v, %v, %v; want refused", stolen, held, err)
	}
	if _, err := d.db.Exec(`UPDATE mailbox_leases SET owner = 'instance-z', lease_until = $1 WHERE name = 'reports'`,
		time.Now().Add(1500*time.Millisecond).UTC()); err != nil {
		t.Fatalf("hand the lease to instance-z: %v", err)
	}
	srv.deliver(t, nil, replies(ts[20:])...)
	waitFor(t, 10*time.Second, "instance-b taking the mailbox back", func() bool {
		h := holder(t, d, "reports")
		return h.Owner == "instance-b" && h.AcquiredAt.After(stolenAt)
	})
	waitFor(t, 10*time.Second, "30 reports", func() bool { return d.mailReports(t) >= 30 })
	checkReports(t, d, ts)
}
