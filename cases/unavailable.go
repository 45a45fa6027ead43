package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"gorm.io/gorm"

	"notme/cases/store"
)

// unavailableMessage is what a client of the API reads for EUNAVAILABLE.
const unavailableMessage = "Storage is unavailable: nothing was saved. Try again in a few minutes."

// Unavailable reports whether err says the database cannot take writes
// now, so that nothing was saved and the same request may succeed later:
//
//   - PostgreSQL: SQLSTATE class 53 (insufficient resources: 53100
//     disk_full, 53200 out_of_memory, 53300 too_many_connections) and
//     25006 read_only_sql_transaction (a standby, or
//     default_transaction_read_only);
//   - SQLite: SQLITE_FULL ("database or disk is full"), SQLITE_READONLY
//     and its variants, and the SQLITE_IOERR variants of a write that the
//     disk refused (ENOSPC, EDQUOT, EROFS; a failed write, fsync or
//     shared-memory grow);
//   - the same errno values from the operating system.
//
// cases imports no database driver, so it reads each driver's error
// without its type: pgx's *pgconn.PgError has a SQLState() string method,
// matched through a local interface; mattn/go-sqlite3's sqlite3.Error
// keeps its codes only in the exported fields Code, ExtendedCode and
// SystemErrno, read by reflection, as gorm.io/driver/sqlite's own error
// translation reads them (through JSON). It is the one place that decides.
func Unavailable(err error) bool { return walkErrors(err, unavailableOne) }

func unavailableOne(e error) bool {
	if s, ok := e.(interface{ SQLState() string }); ok {
		return unavailableSQLState(s.SQLState())
	}
	if code, ext, errno, ok := sqliteCodes(e); ok {
		return unavailableSQLite(code, ext, errno)
	}
	if errno, ok := e.(syscall.Errno); ok {
		return noSpaceErrno(errno)
	}
	return false
}

// walkErrors reports whether visit holds for err or anything it wraps,
// depth first (errors.Join and multiple %w included).
func walkErrors(err error, visit func(error) bool) bool {
	if err == nil {
		return false
	}
	if visit(err) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return walkErrors(u.Unwrap(), visit)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if walkErrors(e, visit) {
				return true
			}
		}
	}
	return false
}

// unavailableSQLState: PostgreSQL's SQLSTATE (Appendix A of its manual).
func unavailableSQLState(state string) bool {
	return strings.HasPrefix(state, "53") || state == "25006"
}

// SQLite result codes (https://sqlite.org/rescode.html).
const (
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13

	sqliteIOErrWrite    = sqliteIOErr | 3<<8
	sqliteIOErrFsync    = sqliteIOErr | 4<<8
	sqliteIOErrDirFsync = sqliteIOErr | 5<<8
	sqliteIOErrSHMSize  = sqliteIOErr | 19<<8
)

func unavailableSQLite(code, ext int64, errno syscall.Errno) bool {
	switch code {
	case sqliteFull, sqliteReadOnly:
		return true
	case sqliteIOErr:
		switch ext {
		case sqliteIOErrWrite, sqliteIOErrFsync, sqliteIOErrDirFsync, sqliteIOErrSHMSize:
			return true
		}
		return noSpaceErrno(errno)
	}
	return false
}

func noSpaceErrno(errno syscall.Errno) bool {
	return errno == syscall.ENOSPC || errno == syscall.EDQUOT || errno == syscall.EROFS
}

// sqliteCodes reads the codes of a mattn/go-sqlite3 Error, a struct
// returned by value.
func sqliteCodes(err error) (code, ext int64, errno syscall.Errno, ok bool) {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	t := v.Type()
	if v.Kind() != reflect.Struct || t.PkgPath() != "github.com/mattn/go-sqlite3" || t.Name() != "Error" {
		return 0, 0, 0, false
	}
	c, x, e := v.FieldByName("Code"), v.FieldByName("ExtendedCode"), v.FieldByName("SystemErrno")
	if !c.CanInt() || !x.CanInt() {
		return 0, 0, 0, false
	}
	if e.IsValid() && e.CanUint() {
		errno = syscall.Errno(e.Uint())
	}
	return c.Int(), x.Int(), errno, true
}

// probeBytes is larger than a SQLite page (4 KiB by default): a row this
// long needs a page of its own, so the probe fails where the next page
// cannot be had.
const probeBytes = 4200

// probeWrite asks the database for what a filing needs, and keeps
// nothing: a new page (a page-sized row, undone by a savepoint, so it
// leaves no free page behind for a filing to use up), then a small row
// written and removed in a transaction that commits, so the commit must
// reach the disk (SQLite's WAL, PostgreSQL's WAL). mailbox_leases serves
// because its rows are keyed by a name no mailbox has and no one reads an
// uncommitted row: no schema change is needed.
// The filler goes in mailbox_leases.owner, which must stay unindexed: an
// index entry of a page's size is refused (PostgreSQL's btree takes at most
// 2704 bytes), and the probe would read a full disk where there is none.
func probeWrite(db *gorm.DB, name, filler string) error {
	now := time.Now().UTC()
	const ins = `INSERT INTO mailbox_leases (name, owner, lease_until, acquired_at) VALUES (?, ?, ?, ?)`
	return db.Transaction(func(tx *gorm.DB) error {
		if err := tx.SavePoint("notme_write_probe").Error; err != nil {
			return fmt.Errorf("write probe: savepoint: %w", err)
		}
		grow := tx.Exec(ins, name, filler, now, now).Error
		if err := tx.RollbackTo("notme_write_probe").Error; err != nil {
			return errors.Join(grow, fmt.Errorf("write probe: roll back a new page: %w", err))
		}
		if grow != nil {
			return fmt.Errorf("write probe: a new page: %w", grow)
		}
		if err := tx.Exec(ins, name, "", now, now).Error; err != nil {
			return fmt.Errorf("write probe: a row: %w", err)
		}
		if err := tx.Exec(`DELETE FROM mailbox_leases WHERE name = ?`, name).Error; err != nil {
			return fmt.Errorf("write probe: remove its row: %w", err)
		}
		return nil
	})
}

// WriteCheck answers whether the store takes writes, probing at most once
// per TTL however often it is asked: /readyz may be scraped every second
// by several probes, and one small write transaction serves them all.
type WriteCheck struct {
	store   *store.Store
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time
	name    string // the probe row's key: unique per process, so instances sharing PostgreSQL never wait on each other's row
	filler  string

	mu  sync.Mutex
	at  time.Time
	err error
}

// NewWriteCheck returns a check of s whose answer is kept for ttl and
// whose probe gives up after timeout (a writer busy for longer is as good
// as unavailable to a reporter waiting on it).
func NewWriteCheck(s *store.Store, ttl, timeout time.Duration) *WriteCheck {
	var b [8]byte
	rand.Read(b[:])
	fill := make([]byte, probeBytes/2)
	rand.Read(fill)
	return &WriteCheck{store: s, ttl: ttl, timeout: timeout, now: time.Now,
		name: "notme:write-probe:" + hex.EncodeToString(b[:]), filler: hex.EncodeToString(fill)}
}

// Err is nil when a write committed within the last TTL, else why the
// last probe failed. Callers asking at once wait for one probe.
func (w *WriteCheck) Err(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.at.IsZero() && w.now().Sub(w.at) < w.ttl {
		return w.err
	}
	pctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	err := probeWrite(w.store.Writer().WithContext(pctx), w.name, w.filler)
	if ctx.Err() != nil {
		return err // the caller left: its answer is not the database's
	}
	if err != nil && pctx.Err() != nil {
		err = fmt.Errorf("no write within %v (the writer is busy or stuck): %w", w.timeout, err)
	}
	w.at, w.err = w.now(), err
	return err
}
