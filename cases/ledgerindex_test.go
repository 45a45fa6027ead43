package cases

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

// Every ledger look-up the desk makes is served by an index on both
// databases: the planner is asked, on a ledger of 20,000 analysed rows,
// with the queries built by the same gorm calls as the code's.
func TestLedgerLookupsUseIndexes(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	b := d.NewLedgerBatch()
	for i := range 20_000 {
		if err := b.Add(ctx, LedgerMessage{MessageID: mid(i), AccountRef: fmt.Sprintf("ACC-%d", i%3000),
			Recipient: fmt.Sprintf("u%d@example.net", i%5000), Kind: svcKinds[i%len(svcKinds)].Name}); err != nil {
			t.Fatalf("LedgerBatch.Add(%d) = %v", i, err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("LedgerBatch.Flush() = %v", err)
	}
	if err := d.store.w.Exec("ANALYZE").Error; err != nil {
		t.Fatalf("ANALYZE = %v", err)
	}
	db := d.store.w
	postgres := db.Dialector.Name() == "postgres"
	cutoff := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var m LedgerMessage
	var ms []LedgerMessage
	for _, c := range []struct {
		lookup string // who asks
		index  string
		query  func(tx *gorm.DB) *gorm.DB
	}{
		{"by Message-ID (ledger match, API GET)", "ledger_messages_message_id", func(tx *gorm.DB) *gorm.DB {
			return tx.Where("message_id = ?", mid(7)).Limit(1).Find(&m)
		}},
		{"by Message-IDs (mail batch, escalation, reveal)", "ledger_messages_message_id", func(tx *gorm.DB) *gorm.DB {
			return tx.Where("message_id IN ?", []string{mid(1), mid(2), mid(3)}).Find(&ms)
		}},
		{"newest by recipient (probable match)", "ledger_messages_recipient", func(tx *gorm.DB) *gorm.DB {
			return tx.Where("recipient = ?", "u7@example.net").Order("created_at DESC").Limit(1).Find(&m)
		}},
		{"accounts by recipients (shared_recipient rule)", "ledger_messages_recipient", func(tx *gorm.DB) *gorm.DB {
			return tx.Table("ledger_messages").Distinct("recipient AS addr, account_ref AS account").
				Where("recipient IN ?", []string{"u1@example.net", "u2@example.net"}).Find(&[]map[string]any{})
		}},
		{"by account (a token's ledger recipient)", "ledger_messages_account_ref", func(tx *gorm.DB) *gorm.DB {
			return tx.Select("id, message_id, recipient").Where("account_ref = ?", "ACC-7").
				Order("id DESC").Limit(ledgerScan).Find(&ms)
		}},
		{"oldest rows (purge batch)", "ledger_messages_created_at", func(tx *gorm.DB) *gorm.DB {
			return tx.Model(&LedgerMessage{}).Select("id").Where("created_at < ?", cutoff).
				Order("created_at").Limit(DefaultLedgerPurgeBatch).Find(&[]int64{})
		}},
		{"oldest row (purge due time)", "ledger_messages_created_at", func(tx *gorm.DB) *gorm.DB {
			return tx.Select("created_at").Order("created_at").Limit(1).Find(&ms)
		}},
	} {
		sql := db.ToSQL(c.query)
		plan := explain(t, db, postgres, sql)
		if !strings.Contains(plan, c.index) || fullScan(postgres, plan) {
			t.Errorf("plan of the ledger look-up %s:\n%s\n%s\nwant it to use %s, no full table scan", c.lookup, sql, plan, c.index)
		}
	}
}

func explain(t *testing.T, db *gorm.DB, postgres bool, sql string) string {
	t.Helper()
	q := "EXPLAIN QUERY PLAN " + sql
	if postgres {
		q = "EXPLAIN " + sql
	}
	rows, err := db.Raw(q).Rows()
	if err != nil {
		t.Fatalf("%s = %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("scan %s: %v", q, err)
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1])) // SQLite: id, parent, notused, detail
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.Join(lines, "\n")
}

var sqliteTableScan = regexp.MustCompile(`(?m)^SCAN ledger_messages$`)

func fullScan(postgres bool, plan string) bool {
	if postgres {
		return strings.Contains(plan, "Seq Scan")
	}
	return sqliteTableScan.MatchString(plan)
}
