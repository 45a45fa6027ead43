package cases

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkDashboard: the leads' dashboard over a month of 10,000 reports
// on 2,000 accounts, a third of them by mail with a reporter address.
func BenchmarkDashboard(b *testing.B) {
	d := newTestDesk(b)
	ctx := context.Background()
	const reports = 10000
	step := 30 * 24 * time.Hour / reports
	kinds := []string{"registration", "postal_notice", "order_confirmation", "newsletter"}
	for i := range reports {
		in := ReportInput{Channel: ChannelLink, Token: d.mint(b, fmt.Sprintf("ACC-%d", i%2000), kinds[i%len(kinds)]).Token}
		if i%3 == 0 {
			in.Channel, in.Reporter = ChannelAPI, fmt.Sprintf("user%d@%s", i%700, []string{"gmial.com", "example.com", "yahoo.co.jp"}[i%3])
		}
		d.file(b, in)
		d.clock.Advance(step)
	}
	lead := Actor{User: &User{ID: 1, Email: "lead@desk.example", Role: RoleLead}}
	b.ResetTimer()
	for b.Loop() {
		got, err := d.Dashboard(ctx, lead)
		if err != nil {
			b.Fatalf("Dashboard() = %v", err)
		}
		if got.Days[DashboardDays-1].Total == 0 {
			b.Fatalf("Dashboard() counts no reports today")
		}
	}
}

// BenchmarkPurgeEvidenceBatch: one purge transaction of DefaultPurgeBatch
// mails of 50 KB each, the longest the job holds the writer.
func BenchmarkPurgeEvidenceBatch(b *testing.B) {
	d := newTestDesk(b)
	ctx := context.Background()
	raw := []byte(strings.Repeat("x", 50<<10))
	uid := uint32(0)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		batch := make([]InboundMail, DefaultPurgeBatch)
		for i := range batch {
			uid++
			batch[i] = InboundMail{Mailbox: "INBOX", UIDValidity: 1, UID: uid, Raw: raw, Parsed: ParsedMail{
				Class: ClassUnrelated, MessageID: fmt.Sprintf("<u%d@example.org>", uid), From: "z@example.org"}}
		}
		if _, err := d.IngestMail(ctx, batch); err != nil {
			b.Fatalf("IngestMail() = %v", err)
		}
		d.clock.Advance(91 * 24 * time.Hour)
		b.StartTimer()
		n, err := d.PurgeEvidence(ctx, 90*24*time.Hour, DefaultPurgeBatch)
		if err != nil || n != DefaultPurgeBatch {
			b.Fatalf("PurgeEvidence() = %d, %v; want %d", n, err, DefaultPurgeBatch)
		}
	}
}
