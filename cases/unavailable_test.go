package cases

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"notme/app/testdb"
)

func TestUnavailableClassifies(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"sqlite full", sqlite3.Error{Code: sqlite3.ErrFull, ExtendedCode: sqlite3.ErrNoExtended(sqlite3.ErrFull)}, true},
		{"sqlite full, wrapped twice", fmt.Errorf("file link report: %w", fmt.Errorf("store report: %w", sqlite3.Error{Code: sqlite3.ErrFull})), true},
		{"sqlite full, pointer", &sqlite3.Error{Code: sqlite3.ErrFull}, true},
		{"sqlite read-only", sqlite3.Error{Code: sqlite3.ErrReadonly, ExtendedCode: sqlite3.ErrReadonlyDbMoved}, true},
		{"sqlite write refused", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrWrite, SystemErrno: syscall.EIO}, true},
		{"sqlite fsync refused", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrFsync}, true},
		{"sqlite shm cannot grow", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrSHMSize}, true},
		{"sqlite I/O error of a full disk", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrTruncate, SystemErrno: syscall.ENOSPC}, true},
		{"sqlite quota", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrTruncate, SystemErrno: syscall.EDQUOT}, true},
		{"sqlite read error", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrRead, SystemErrno: syscall.EIO}, false},
		{"sqlite busy", sqlite3.Error{Code: sqlite3.ErrBusy}, false},
		{"sqlite constraint", sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}, false},
		{"postgres disk full", &pgconn.PgError{Code: "53100"}, true},
		{"postgres out of memory", &pgconn.PgError{Code: "53200"}, true},
		{"postgres too many connections", fmt.Errorf("connect: %w", &pgconn.PgError{Code: "53300"}), true},
		{"postgres read-only transaction", &pgconn.PgError{Code: "25006"}, true},
		{"postgres unique violation", fmt.Errorf("%w: %w", gorm.ErrDuplicatedKey, &pgconn.PgError{Code: "23505"}), false},
		{"postgres serialization failure", &pgconn.PgError{Code: "40001"}, false},
		{"joined: a rollback error and a full disk", errors.Join(errors.New("no such savepoint"), sqlite3.Error{Code: sqlite3.ErrFull}), true},
		{"operating system: no space", &fs.PathError{Op: "write", Path: "/var/lib/notme/x", Err: syscall.ENOSPC}, true},
		{"operating system: read-only file system", fmt.Errorf("create: %w", syscall.EROFS), true},
		{"operating system: permission", syscall.EACCES, false},
		// Words are not codes: a message that merely says so is not
		// classified (a reporter's note could say it).
		{"text alone", errors.New("database or disk is full"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Unavailable(tc.err); got != tc.want {
				t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
			want := EINTERNAL
			if tc.want {
				want = EUNAVAILABLE
			}
			if tc.err != nil {
				if got := ErrorCode(tc.err); got != want {
					t.Errorf("ErrorCode(%v) = %s, want %s", tc.err, got, want)
				}
			}
		})
	}
	// A domain error's own code comes first.
	if got := ErrorCode(fmt.Errorf("%w: %w", Errorf(EINVALID, "bad note"), sqlite3.Error{Code: sqlite3.ErrFull})); got != EINVALID {
		t.Errorf("ErrorCode(EINVALID wrapping a full disk) = %s, want invalid", got)
	}
	if got := ErrorMessage(sqlite3.Error{Code: sqlite3.ErrFull}); !strings.Contains(got, "nothing was saved") {
		t.Errorf("ErrorMessage(full disk) = %q, want it to say nothing was saved", got)
	}
}

// A database that cannot take writes, made so the way each engine really
// refuses them: on SQLite a full file (max_page_count on the writer answers
// SQLITE_FULL exactly as a full disk does), on PostgreSQL a read-only
// database (25006). A filing fails as EUNAVAILABLE and saves nothing, the
// write check fails, and both work again once writes do.
func TestUnavailableDatabase(t *testing.T) {
	ctx := context.Background()
	d := newTestDesk(t)
	wc := NewWriteCheck(d.store.Store, 0, 5*time.Second) // ttl 0: every call probes
	if err := wc.Err(ctx); err != nil {
		t.Fatalf("WriteCheck.Err() on a writable database = %v, want nil", err)
	}
	d.register(t, mid(1), "acct-full", "one@example.com", "registration")
	file := func(i int) error {
		tok := d.mint(t, fmt.Sprintf("acct-%d", i), "registration").Token
		_, err := d.FileReport(ctx, ReportInput{Channel: ChannelLink, Token: tok, Note: strings.Repeat("not mine. ", 40)})
		return err
	}
	reports := func() int64 {
		var n int64
		if err := d.store.w.Table("reports").Count(&n).Error; err != nil {
			t.Fatalf("count reports: %v", err)
		}
		return n
	}

	var restore func()
	var failed error
	if testdb.Postgres() {
		restore = readOnlyPostgres(t, d.store)
		failed = file(0)
	} else {
		var pages int64
		if err := d.store.w.Raw("PRAGMA page_count").Scan(&pages).Error; err != nil {
			t.Fatal(err)
		}
		setMaxPages(t, d.store, pages+8)
		restore = func() { setMaxPages(t, d.store, 1<<30) }
		// Reporters file until the file is full.
		for i := range 2000 {
			if failed = file(i); failed != nil {
				break
			}
		}
	}
	before := reports()
	t.Logf("%d reports filed before writes were refused: %v", before, failed)
	if got := ErrorCode(failed); got != EUNAVAILABLE {
		t.Fatalf("FileReport() on a database that takes no writes = %v (code %s), want unavailable", failed, got)
	}
	if err := file(9999); ErrorCode(err) != EUNAVAILABLE {
		t.Errorf("FileReport() again = %v, want unavailable", err)
	}
	if n := reports(); n != before {
		t.Errorf("reports after refused filings = %d, want %d: nothing saved", n, before)
	}
	err := wc.Err(ctx)
	if err == nil || !Unavailable(err) {
		t.Errorf("WriteCheck.Err() while writes are refused = %v, want an unavailable error", err)
	}

	restore()
	if err := wc.Err(ctx); err != nil {
		t.Errorf("WriteCheck.Err() once writes work = %v, want nil", err)
	}
	if err := file(9999); err != nil {
		t.Errorf("FileReport() once writes work = %v, want it filed", err)
	}
	if n := reports(); n != before+1 {
		t.Errorf("reports after the retry = %d, want %d", n, before+1)
	}
	var probes int64
	if err := d.store.w.Table("mailbox_leases").Where("name LIKE ?", "notme:write-probe:%").Count(&probes).Error; err != nil || probes != 0 {
		t.Errorf("probe rows left in mailbox_leases = %d, %v; want none", probes, err)
	}
}

// setMaxPages sets max_page_count on the SQLite writer's one connection.
func setMaxPages(t *testing.T, s handles, n int64) {
	t.Helper()
	if err := s.w.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", n)).Error; err != nil {
		t.Fatalf("PRAGMA max_page_count = %d: %v", n, err)
	}
}

// readOnlyPostgres makes the test's database read-only for every new
// session and drops the pool's idle sessions; the returned func undoes it.
func readOnlyPostgres(t *testing.T, s handles) (restore func()) {
	t.Helper()
	var name string
	if err := s.w.Raw("SELECT current_database()").Scan(&name).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, err := s.w.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.w.Exec(`ALTER DATABASE ` + name + ` SET default_transaction_read_only = on`).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxIdleConns(0) // closes the idle sessions: new ones read the setting
	return func() {
		err := s.w.Connection(func(db *gorm.DB) error {
			if err := db.Exec(`SET default_transaction_read_only = off`).Error; err != nil {
				return err
			}
			return db.Exec(`ALTER DATABASE ` + name + ` RESET default_transaction_read_only`).Error
		})
		if err != nil {
			t.Fatalf("make the database writable again: %v", err)
		}
		sqlDB.SetMaxIdleConns(2)
	}
}

// The write check probes once per TTL however often it is asked.
func TestWriteCheckCaches(t *testing.T) {
	d := newTestDesk(t)
	wc := NewWriteCheck(d.store.Store, 2*time.Second, 5*time.Second)
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	wc.now = func() time.Time { return now }
	ctx := context.Background()
	if err := wc.Err(ctx); err != nil {
		t.Fatalf("WriteCheck.Err() = %v", err)
	}
	first := wc.at
	now = now.Add(time.Second)
	if err := wc.Err(ctx); err != nil || !wc.at.Equal(first) {
		t.Errorf("WriteCheck.Err() 1s later = %v, probed at %v; want the cached answer of %v", err, wc.at, first)
	}
	now = now.Add(1500 * time.Millisecond)
	if err := wc.Err(ctx); err != nil || !wc.at.Equal(now) {
		t.Errorf("WriteCheck.Err() 2.5s later = %v, probed at %v; want a new probe at %v", err, wc.at, now)
	}
}
