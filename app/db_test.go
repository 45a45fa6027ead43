package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"notme/cases"
	"notme/cases/sealed"
)

// openDBForTest opens a migrated SQLite database under t.TempDir() through
// OpenDatabase, exactly as the desk does.
func openDBForTest(t *testing.T) (*Database, Config) {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	db, err := OpenDatabase(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatalf("OpenDatabase() = %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Database.Close() = %v", err)
		}
	})
	return db, cfg
}

func serviceForTest(t *testing.T, db *Database, cfg Config) *cases.Service {
	t.Helper()
	sealer, err := sealed.NewSealer([]sealed.Key{{ID: 1, Secret: bytes.Repeat([]byte{7}, 32)}}, nil)
	if err != nil {
		t.Fatalf("sealed.NewSealer() = %v", err)
	}
	svc, err := cases.NewService(cases.Options{
		Store: db.Store, Sealer: sealer, Kinds: cfg.kinds(), ContainBy: cfg.containBy(),
		PublicURL: "https://desk.example.com", MessageIDDomain: "mail.example.com", Logger: discardLogger(),
	})
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	return svc
}

// isLockError reports an error SQLite gives when it cannot get a lock.
func isLockError(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "locked") || strings.Contains(s, "busy")
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// TestSQLiteConcurrentReadThenWrite is the measurement the storage design
// answers to: eight goroutines run read-then-write transactions through the
// writer while readers query the read pool, and not one of them may fail
// with "database is locked".
func TestSQLiteConcurrentReadThenWrite(t *testing.T) {
	longTest(t, "a SQLite stress run, about 20 s")
	db, cfg := openDBForTest(t)
	svc := serviceForTest(t, db, cfg)
	ctx := context.Background()

	const (
		writers   = 8
		perWriter = 200
		accounts  = 50
		ledger    = 500
	)
	batch := svc.NewLedgerBatch()
	for i := range ledger {
		err := batch.Add(ctx, cases.LedgerMessage{
			MessageID: fmt.Sprintf("<seed-%d@mail.example.com>", i), AccountRef: fmt.Sprintf("acct-%d", i%accounts),
			Recipient: fmt.Sprintf("user%d@example.com", i), Kind: []string{"registration", "newsletter", "postal_notice"}[i%3],
		})
		if err != nil {
			t.Fatalf("LedgerBatch.Add(%d) = %v", i, err)
		}
	}
	if err := batch.Flush(ctx); err != nil {
		t.Fatalf("LedgerBatch.Flush() = %v", err)
	}
	tokens := make([]string, accounts)
	for i := range tokens {
		m, err := svc.Mint(fmt.Sprintf("acct-%d", i), "registration", "")
		if err != nil {
			t.Fatalf("Mint() = %v", err)
		}
		tokens[i] = m.Token
	}
	first, err := svc.FileReport(ctx, reportFor(tokens[0]))
	if err != nil {
		t.Fatalf("FileReport(first) = %v", err)
	}

	// A read-then-write transaction in raw gorm on the writer: read a
	// ledger row, then insert a row derived from it.
	rawTx := func(phase, w, j int) error {
		return db.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var m cases.LedgerMessage
			if err := tx.Where("message_id = ?", fmt.Sprintf("seed-%d@mail.example.com", (w*perWriter+j)%ledger)).Take(&m).Error; err != nil {
				return fmt.Errorf("read ledger row: %w", err)
			}
			m.ID = 0
			m.MessageID = fmt.Sprintf("raw-%d-%d-%d@mail.example.com", phase, w, j)
			m.CreatedAt = time.Now().UTC()
			if err := tx.Create(&m).Error; err != nil {
				return fmt.Errorf("insert ledger row: %w", err)
			}
			return nil
		})
	}
	agent := cases.Actor{User: &cases.User{ID: 1, Email: "a@desk.example.com", Role: cases.RoleAgent, SecurityTrained: true}}

	// Writers alone, then with readers querying the read pool flat out.
	for phase, readers := range []int{0, 4} {
		type result struct {
			call string
			d    time.Duration
			err  error
		}
		results := make([][]result, writers)
		done := make(chan struct{})
		var readErrs []error
		var readMu sync.Mutex
		reads := 0
		var rwg, wwg sync.WaitGroup
		for r := range readers {
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				for i := 0; ; i++ {
					select {
					case <-done:
						return
					default:
					}
					var err error
					var call string
					switch (r + i) % 4 {
					case 0:
						call = "Queue"
						_, err = svc.Queue(ctx, agent, cases.QueueFilter{Limit: 50})
					case 1:
						call = "LedgerByMessageID"
						_, err = svc.LedgerByMessageID(ctx, fmt.Sprintf("seed-%d@mail.example.com", i%ledger))
					case 2:
						call = "StatusByToken"
						_, err = svc.StatusByToken(ctx, first.StatusToken)
					case 3:
						call = "CaseByRef"
						_, err = svc.CaseByRef(ctx, agent, first.CaseRef)
					}
					readMu.Lock()
					reads++
					if err != nil {
						readErrs = append(readErrs, fmt.Errorf("%s = %w", call, err))
					}
					readMu.Unlock()
				}
			}()
		}

		start := time.Now()
		for w := range writers {
			wwg.Add(1)
			go func() {
				defer wwg.Done()
				for j := range perWriter {
					n := w*perWriter + j
					var err error
					var call string
					t0 := time.Now()
					switch j % 4 {
					case 0: // link: the account's case, opened or joined
						call = "FileReport(link)"
						_, err = svc.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelLink, Token: tokens[n%accounts], OpenedLink: n%7 == 0})
					case 1: // mail quoting a ledger Message-ID
						call = "FileReport(mail, ledger)"
						_, err = svc.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelMail,
							MessageIDs: []string{fmt.Sprintf("<seed-%d@mail.example.com>", n%ledger)}})
					case 2: // mail from a ledger recipient, or from nobody known
						call = "FileReport(mail, reporter)"
						_, err = svc.FileReport(ctx, cases.ReportInput{Channel: cases.ChannelMail,
							Reporter: fmt.Sprintf("user%d@example.com", n%(2*ledger))})
					case 3:
						call = "raw gorm transaction"
						err = rawTx(phase, w, j)
					}
					results[w] = append(results[w], result{call, time.Since(t0), err})
				}
			}()
		}
		wwg.Wait()
		elapsed := time.Since(start)
		close(done)
		rwg.Wait()

		var all []time.Duration
		var failed, locked int
		for _, rs := range results {
			for _, r := range rs {
				all = append(all, r.d)
				if r.err != nil {
					failed++
					if isLockError(r.err) {
						locked++
					}
					if failed <= 5 {
						t.Errorf("%d readers: %s = %v", readers, r.call, r.err)
					}
				}
			}
		}
		for i, err := range readErrs {
			if i < 5 {
				t.Errorf("%d readers: reader: %v", readers, err)
			}
			if isLockError(err) {
				locked++
			}
		}
		if locked > 0 || failed > 0 || len(readErrs) > 0 {
			t.Errorf("%d readers: %d of %d transactions and %d of %d reads failed; %d with a lock error, want none",
				readers, failed, len(all), len(readErrs), reads, locked)
		}
		slices.Sort(all)
		t.Logf("%d read-then-write transactions from %d goroutines, %d readers beside them (%d reads): %v, %.0f tx/s; "+
			"time per transaction, waiting for the writer included: p50 %v, p99 %v, worst %v",
			len(all), writers, readers, reads, elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(),
			percentile(all, 0.5).Round(time.Microsecond), percentile(all, 0.99).Round(time.Microsecond),
			all[len(all)-1].Round(time.Microsecond))
	}

	var reports, raw int64
	if err := db.reader.Table("reports").Count(&reports).Error; err != nil {
		t.Fatalf("count reports: %v", err)
	}
	if want := int64(1 + 2*writers*perWriter*3/4); reports != want {
		t.Errorf("%d reports stored, want %d", reports, want)
	}
	if err := db.reader.Table("ledger_messages").Where("message_id LIKE ?", "raw-%").Count(&raw).Error; err != nil {
		t.Fatalf("count raw ledger rows: %v", err)
	}
	if want := int64(2 * writers * perWriter / 4); raw != want {
		t.Errorf("%d ledger rows from raw transactions, want %d", raw, want)
	}
	// Each account has exactly one open case however the reports raced.
	var dup int64
	err = db.reader.Raw(`SELECT COUNT(*) FROM (SELECT account_ref FROM cases WHERE open_key IS NOT NULL AND account_ref <> ''
		GROUP BY account_ref HAVING COUNT(*) > 1) AS d`).Scan(&dup).Error
	if err != nil || dup != 0 {
		t.Errorf("%d accounts with more than one open case (%v), want 0", dup, err)
	}
}

func TestSQLiteReadPoolSeesCommittedWrites(t *testing.T) {
	sqliteOnly(t, "WAL and the pragmas of the separate read pool")
	db, cfg := openDBForTest(t)
	svc := serviceForTest(t, db, cfg)
	ctx := context.Background()

	var mode string
	if err := db.reader.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || mode != "wal" {
		t.Fatalf("reader PRAGMA journal_mode = %q, %v; want wal", mode, err)
	}
	var fk, busy int
	if err := db.writer.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
		t.Errorf("writer PRAGMA foreign_keys = %d, %v; want 1", fk, err)
	}
	if err := db.writer.Raw("PRAGMA busy_timeout").Scan(&busy).Error; err != nil || busy != 5000 {
		t.Errorf("writer PRAGMA busy_timeout = %d, %v; want 5000", busy, err)
	}

	// A committed write is visible to the next read from the pool.
	if _, _, err := svc.RegisterMessage(ctx, cases.LedgerMessage{MessageID: "a@mail.example.com", AccountRef: "acct-1",
		Recipient: "a@example.com", Kind: "newsletter"}); err != nil {
		t.Fatalf("RegisterMessage() = %v", err)
	}
	if m, err := svc.LedgerByMessageID(ctx, "a@mail.example.com"); err != nil || m.AccountRef != "acct-1" {
		t.Fatalf("LedgerByMessageID() right after RegisterMessage = %+v, %v; want acct-1", m, err)
	}

	// WAL: a reader in the middle of a transaction does not block the
	// writer and keeps its snapshot; the next read sees the write.
	rtx := db.reader.Begin()
	if rtx.Error != nil {
		t.Fatalf("reader Begin() = %v", rtx.Error)
	}
	var before int64
	if err := rtx.Table("ledger_messages").Count(&before).Error; err != nil {
		t.Fatalf("count in read transaction: %v", err)
	}
	if _, _, err := svc.RegisterMessage(ctx, cases.LedgerMessage{MessageID: "b@mail.example.com", AccountRef: "acct-2",
		Recipient: "b@example.com", Kind: "newsletter"}); err != nil {
		t.Fatalf("RegisterMessage() during a read transaction = %v", err)
	}
	var during int64
	if err := rtx.Table("ledger_messages").Count(&during).Error; err != nil {
		t.Fatalf("count in read transaction: %v", err)
	}
	if during != before {
		t.Errorf("read transaction saw %d rows, then %d: its snapshot moved", before, during)
	}
	if err := rtx.Rollback().Error; err != nil {
		t.Fatalf("reader Rollback() = %v", err)
	}
	if _, err := svc.LedgerByMessageID(ctx, "b@mail.example.com"); err != nil {
		t.Errorf("LedgerByMessageID(b) after the write = %v", err)
	}
}

func TestSQLiteReaderIsReadOnly(t *testing.T) {
	sqliteOnly(t, "the read-only SQLite pool; PostgreSQL has one pool")
	db, _ := openDBForTest(t)
	err := db.reader.Exec(`INSERT INTO ledger_messages (message_id, account_ref, recipient, kind, created_at)
		VALUES ('x@y.example', 'a', 'r@y.example', 'newsletter', CURRENT_TIMESTAMP)`).Error
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "readonly") {
		t.Errorf("INSERT through the reader = %v, want a read-only error", err)
	}
	if err := db.reader.Exec(`CREATE TABLE sneaky (x INTEGER)`).Error; err == nil {
		t.Errorf("CREATE TABLE through the reader = nil error, want a read-only error")
	}
	var n int64
	if err := db.writer.Table("ledger_messages").Count(&n).Error; err != nil || n != 0 {
		t.Errorf("ledger rows after writes through the reader = %d, %v; want 0", n, err)
	}
}

// TestSQLiteWriterBeginsImmediate shows why writers never fail with
// "database is locked": a writer transaction holds the write lock from its
// BEGIN, before any statement, so a second writer waits at BEGIN rather
// than failing when it upgrades a read lock mid-transaction.
func TestSQLiteWriterBeginsImmediate(t *testing.T) {
	sqliteOnly(t, "BEGIN IMMEDIATE on the single SQLite writer")
	db, cfg := openDBForTest(t)
	path := strings.TrimPrefix(cfg.DatabaseURL(), "sqlite:")
	other, err := gorm.Open(sqlite.Open("file:"+filepath.ToSlash(path)+"?"+url.Values{"_busy_timeout": {"0"}}.Encode()),
		&gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("open a second connection: %v", err)
	}
	odb, _ := other.DB()
	defer odb.Close()
	odb.SetMaxOpenConns(1)

	err = db.writer.Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("ledger_messages").Count(&n).Error; err != nil { // a read only
			return err
		}
		conn, err := odb.Conn(context.Background())
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
		if err == nil {
			conn.ExecContext(context.Background(), "ROLLBACK")
			return errors.New("a second writer began while the writer's transaction was open")
		}
		if !isLockError(err) {
			return fmt.Errorf("second writer's BEGIN IMMEDIATE = %v, want database is locked", err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("writer transaction: %v", err)
	}
	// Once the writer commits, the other connection can write.
	if err := other.Exec("BEGIN IMMEDIATE; ROLLBACK").Error; err != nil {
		t.Errorf("BEGIN IMMEDIATE after the writer committed = %v", err)
	}
	wdb, _ := db.writer.DB()
	if got := wdb.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", got)
	}
	rdb, _ := db.reader.DB()
	if got := rdb.Stats().MaxOpenConnections; got != cfg.Database.ReadConns {
		t.Errorf("reader MaxOpenConnections = %d, want %d", got, cfg.Database.ReadConns)
	}
}

// TestSQLitePathNeedsNoEscaping: the data directory may hold characters
// that mean something in a URI; the database must still be the file in it.
func TestSQLitePathNeedsNoEscaping(t *testing.T) {
	sqliteOnly(t, "the SQLite file path in its URI")
	for _, name := range []string{"my desk", "a#b", "a?b", "100%", "x%3fy"} {
		parent := t.TempDir()
		cfg := Defaults()
		cfg.DataDir = filepath.Join(parent, name)
		db, err := OpenDatabase(context.Background(), cfg, discardLogger())
		if err != nil {
			t.Errorf("OpenDatabase(data dir %q) = %v", name, err)
			continue
		}
		var mode string
		if err := db.reader.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || mode != "wal" {
			t.Errorf("data dir %q: reader journal_mode = %q, %v; want wal", name, mode, err)
		}
		db.Close()
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "notme.db")); err != nil {
			t.Errorf("OpenDatabase(data dir %q) made no notme.db in it: %v", name, err)
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 1 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("OpenDatabase(data dir %q) left %v beside it, want only the data dir", name, names)
		}
	}
}

// TestSQLiteWriterServesInOrder: transactions waiting for the one writer
// get it in the order they asked for it. database/sql alone hands a freed
// connection to a random waiter, which let one click wait behind dozens
// of others.
func TestSQLiteWriterServesInOrder(t *testing.T) {
	sqliteOnly(t, "the queue in front of the single SQLite writer")
	db, _ := openDBForTest(t)
	if err := db.writer.Exec(`CREATE TABLE served (waiter INTEGER NOT NULL)`).Error; err != nil {
		t.Fatalf("create table: %v", err)
	}

	for _, tc := range []struct {
		name     string
		priority int // this waiter's context has withWriterPriority; -1: none
		want     []int
	}{
		{"in order", -1, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		// The outbox's turn goes before the requests still in line.
		{"outbox first", 5, []int{5, 0, 1, 2, 3, 4, 6, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writerServes(t, db, tc.priority, tc.want)
		})
	}
}

func writerServes(t *testing.T, db *Database, priority int, want []int) {
	if err := db.writer.Exec(`DELETE FROM served`).Error; err != nil {
		t.Fatalf("empty the table: %v", err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
			runtime.Gosched()
		}
	}
	hold := db.writer.Begin()
	if hold.Error != nil {
		t.Fatalf("Begin() = %v", hold.Error)
	}
	const waiters = 8
	errs := make(chan error, waiters)
	for i := range waiters {
		ctx := context.Background()
		if i == priority {
			ctx = withWriterPriority(ctx)
		}
		go func() {
			errs <- db.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				return tx.Exec(`INSERT INTO served (waiter) VALUES (?)`, i).Error
			})
		}()
		// Each is in line before the next one starts.
		waitFor(fmt.Sprintf("%d waiters are in line", i+1), func() bool { return db.gate.waiting() == i+1 })
	}
	if err := hold.Commit().Error; err != nil {
		t.Fatalf("Commit() = %v", err)
	}
	for range waiters {
		if err := <-errs; err != nil {
			t.Fatalf("waiting transaction: %v", err)
		}
	}
	var order []int
	if err := db.writer.Raw(`SELECT waiter FROM served ORDER BY rowid`).Scan(&order).Error; err != nil {
		t.Fatalf("read the order: %v", err)
	}
	if !slices.Equal(order, want) {
		t.Errorf("writer served the waiters in the order %v, want %v", order, want)
	}
}

// TestSQLiteCheckpointsBesideTheWriter: the WAL is copied back into the
// database file by the checkpointer's own connection as writes go by, so
// that no commit of a request has to run the checkpoint and its fsyncs.
func TestSQLiteCheckpointsBesideTheWriter(t *testing.T) {
	sqliteOnly(t, "SQLite's WAL checkpoints")
	db, _ := openDBForTest(t)
	if err := db.writer.Exec(`CREATE TABLE filler (x TEXT NOT NULL)`).Error; err != nil {
		t.Fatalf("create table: %v", err)
	}
	for i := range 4 * checkpointEvery {
		if err := db.writer.Exec(`INSERT INTO filler (x) VALUES (?)`, strings.Repeat("x", 3000)+fmt.Sprint(i)).Error; err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.ckpt.copied.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no background checkpoint after %d writes", 4*checkpointEvery)
		}
		runtime.Gosched()
	}
	// The writer's own checkpoint is the backstop, far out.
	var auto int
	if err := db.writer.Raw("PRAGMA wal_autocheckpoint").Scan(&auto).Error; err != nil || auto != writerAutoCheckpoint {
		t.Errorf("writer PRAGMA wal_autocheckpoint = %d, %v; want %d", auto, err, writerAutoCheckpoint)
	}
}
