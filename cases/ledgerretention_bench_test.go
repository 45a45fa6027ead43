package cases

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkPurgeLedger purges a ledger of b.N batches of
// DefaultLedgerPurgeBatch rows, all past retention, in one PurgeLedger
// call: ms/batch is how long one DELETE holds the writer.
//
//	go test -run XXX -bench PurgeLedger -benchtime 40x ./cases
func BenchmarkPurgeLedger(b *testing.B) {
	d := newTestDesk(b)
	ctx := context.Background()
	batch := d.NewLedgerBatch()
	for i := range b.N * DefaultLedgerPurgeBatch {
		if err := batch.Add(ctx, LedgerMessage{MessageID: fmt.Sprintf("%016x.%d@mail.example.com", i*7919, i),
			AccountRef: fmt.Sprintf("ACC-%d", i%40000), Recipient: fmt.Sprintf("u%d@example.net", i%60000),
			Kind: "registration", Subject: "Your account at Example"}); err != nil {
			b.Fatalf("LedgerBatch.Add() = %v", err)
		}
	}
	if err := batch.Flush(ctx); err != nil {
		b.Fatalf("LedgerBatch.Flush() = %v", err)
	}
	d.clock.Advance(181 * 24 * time.Hour)
	b.ResetTimer()
	n, err := d.PurgeLedger(ctx, 180*24*time.Hour, DefaultLedgerPurgeBatch)
	b.StopTimer()
	if err != nil || n != b.N*DefaultLedgerPurgeBatch {
		b.Fatalf("PurgeLedger() = %d, %v; want %d", n, err, b.N*DefaultLedgerPurgeBatch)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
