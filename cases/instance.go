package cases

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Several desk processes may share one database. Each registers a row and
// heartbeats it; work a process claimed (acknowledgements, webhooks) and
// the mailboxes it polls name it. When a process dies its claims must not
// wait out their leases: any live instance reaps an instance whose
// heartbeat is stale, or, on its own host, whose process is gone (so a
// desk restarted after kill -9 takes its predecessor's work back at once).

// Heartbeat timing of desk instances.
const (
	// InstanceHeartbeat is how often a desk instance says it lives.
	InstanceHeartbeat = 5 * time.Second
	// InstanceStaleAfter is how long after its last heartbeat an instance
	// is taken for dead: four beats, and more than a mailbox lease
	// (inbox.DefaultLeaseTTL), so that a live poller cut off from the
	// database has stopped before its mailbox is handed on.
	InstanceStaleAfter = 4 * InstanceHeartbeat
)

// Instance is one desk process as the database knows it.
type Instance struct {
	ID          string `gorm:"primaryKey"`
	Host        string
	PID         int `gorm:"column:pid"`
	StartedAt   time.Time
	HeartbeatAt time.Time
}

func (Instance) TableName() string { return "desk_instances" }

// ownInstances holds the instance ids this process made (NewService): a
// row of this host with this process id that is not one of them belongs
// to a predecessor that had the same process id (a container's pid 1).
var ownInstances sync.Map

// thisHost names the processes this one can see: the host name, and where
// the system tells, its boot and process-id namespace, so that two
// containers that share a host name but not their processes never judge
// each other's process ids.
var thisHost = sync.OnceValue(func() string {
	host, _ := os.Hostname()
	host = cmp.Or(host, "host")
	boot, err1 := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, err2 := os.Readlink("/proc/self/ns/pid")
	if err1 != nil || err2 != nil {
		return host
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(boot)) + "\x00" + ns))
	return host + "#" + hex.EncodeToString(sum[:4])
})

// NewInstanceID names this process among the desk instances sharing a
// database: host, process id and a random part, so a restarted process
// never passes for its predecessor.
func NewInstanceID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", cmp.Or(host, "host"), os.Getpid(), hex.EncodeToString(b[:]))
}

// Instance is the id of this desk process (Options.Instance).
func (s *Service) Instance() string { return s.instance }

// Heartbeat records that this instance lives, registering it if its row
// is missing (the first beat, or after another instance took it for dead),
// and reaps the instances that are not: a heartbeat older than staleAfter,
// or a process gone from this host. It returns the ids it reaped.
func (s *Service) Heartbeat(ctx context.Context, staleAfter time.Duration) ([]string, error) {
	now := s.clock()
	host := thisHost()
	db := s.store.w.WithContext(ctx)
	res := db.Model(&Instance{}).Where("id = ?", s.instance).Update("heartbeat_at", now)
	if res.Error != nil {
		return nil, fmt.Errorf("heartbeat of instance %s: %w", s.instance, res.Error)
	}
	if res.RowsAffected == 0 {
		if err := db.Create(&Instance{ID: s.instance, Host: host, PID: os.Getpid(), StartedAt: now, HeartbeatAt: now}).Error; err != nil {
			return nil, fmt.Errorf("register instance %s: %w", s.instance, err)
		}
	}
	var others []Instance
	if err := db.Where("id <> ?", s.instance).Find(&others).Error; err != nil {
		return nil, fmt.Errorf("read desk instances: %w", err)
	}
	var reaped []string
	for _, in := range others {
		stale := in.HeartbeatAt.Before(now.Add(-staleAfter))
		gone := false
		if in.Host == host {
			_, mine := ownInstances.Load(in.ID)
			gone = in.PID == os.Getpid() && !mine || in.PID != os.Getpid() && !processAlive(in.PID)
		}
		if !stale && !gone {
			continue
		}
		ok, err := s.reap(ctx, in, gone)
		if err != nil {
			return reaped, err
		}
		if ok {
			reaped = append(reaped, in.ID)
		}
	}
	return reaped, nil
}

// reap ends a dead instance's claims and mailbox leases and forgets it, in
// one transaction. A stale instance that beat again meanwhile is left
// alone; false when there was nothing to reap.
func (s *Service) reap(ctx context.Context, in Instance, gone bool) (bool, error) {
	var claims [2]int64
	var leases int64
	done := false
	err := s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("id = ?", in.ID)
		if !gone {
			q = q.Where("heartbeat_at = ?", in.HeartbeatAt)
		}
		res := q.Delete(&Instance{})
		if res.Error != nil {
			return fmt.Errorf("forget instance %s: %w", in.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return nil // another instance reaped it, or it lives
		}
		var err error
		if claims[0], err = s.ackQ.ReleaseInstance(tx, in.ID); err != nil {
			return err
		}
		if claims[1], err = s.hookQ.ReleaseInstance(tx, in.ID); err != nil {
			return err
		}
		now := s.clock()
		res = tx.Model(&MailboxLease{}).Where("owner = ? AND lease_until > ?", in.ID, now).Update("lease_until", now)
		if res.Error != nil {
			return fmt.Errorf("end the mailbox leases of instance %s: %w", in.ID, res.Error)
		}
		leases, done = res.RowsAffected, true
		return nil
	})
	if err != nil || !done {
		return false, err
	}
	s.log.Warn("desk instance gone: its claims are due again and its mailboxes free", "instance", in.ID,
		"last_heartbeat", in.HeartbeatAt, "process_gone", gone, "acks", claims[0], "webhooks", claims[1], "mailboxes", leases)
	return true, nil
}

// LeaveInstance forgets this instance on a clean shutdown, once its
// workers have given back what they held.
func (s *Service) LeaveInstance(ctx context.Context) error {
	if err := s.store.w.WithContext(ctx).Where("id = ?", s.instance).Delete(&Instance{}).Error; err != nil {
		return fmt.Errorf("forget instance %s: %w", s.instance, err)
	}
	return nil
}

// Instances lists the desk instances the database knows, for the ops
// endpoints and tests.
func (s *Service) Instances(ctx context.Context) ([]Instance, error) {
	var ins []Instance
	if err := s.store.r.WithContext(ctx).Order("started_at, id").Find(&ins).Error; err != nil {
		return nil, fmt.Errorf("list desk instances: %w", err)
	}
	return ins, nil
}
