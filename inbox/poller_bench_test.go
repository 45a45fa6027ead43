package inbox_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	_ "github.com/emersion/go-message/charset" // as the parser has them
	"github.com/emersion/go-message/mail"

	"notme/cases"
	"notme/inbox"
)

// BenchmarkIngestFromDovecot measures, in one run on one machine, how fast
// 10,000 replies of about 4 KB in a local Dovecot become reports (fetched,
// parsed, committed and moved), next to baselines on the same mails: a raw
// UID FETCH BODY.PEEK[] in batches of the poller's size, go-message alone
// parsing every part of each mail in memory on one core, and, to show
// where the floor is, notme's own parser on one core and the store alone
// (cases.IngestMail of the parsed mails in batches of the poller's size,
// into a second desk with the same ledger).
//
//	go test -run '^$' -bench IngestFromDovecot -benchtime 1x ./inbox
func BenchmarkIngestFromDovecot(b *testing.B) {
	const n = 10000
	srv := needDovecot(b)
	var fetchDur, parseDur, ingestDur, ourParseDur, storeDur time.Duration
	var bytesTotal int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		u := srv.newUser(b)
		d := newDesk(b)
		moved := &roundWatch{want: n, done: make(chan struct{})}
		d.log = slog.New(moved)
		ts := threads(b, d, "b", n, 4096)
		store := newDesk(b)
		threads(b, store, "b", n, 4096)
		u.deliver(b, "", false, replies(ts)...)
		c := u.client(b)
		// Dovecot indexes new Maildir files on the first SELECT: do that
		// before any clock runs, for the baseline and the poller alike.
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start := time.Now()
		raws := fetchAll(b, c, inbox.DefaultBatchSize)
		fetchDur += time.Since(start)
		if len(raws) != n {
			b.Fatalf("raw fetch got %d mails, want %d", len(raws), n)
		}

		start = time.Now()
		for _, raw := range raws {
			bytesTotal += len(raw)
			walkParts(b, raw)
		}
		parseDur += time.Since(start)
		c.Logout().Wait()

		in := make([]cases.InboundMail, len(raws))
		parse := inbox.Parser{}.ParseMail
		start = time.Now()
		for i, raw := range raws {
			in[i] = cases.InboundMail{Mailbox: "store-only", UIDValidity: 1, UID: uint32(i + 1), Raw: raw, Parsed: parse(raw)}
		}
		ourParseDur += time.Since(start)
		start = time.Now()
		for k := 0; k < len(in); k += inbox.DefaultBatchSize {
			if _, err := store.svc.IngestMail(context.Background(), in[k:min(k+inbox.DefaultBatchSize, len(in))]); err != nil {
				b.Fatalf("IngestMail() = %v", err)
			}
		}
		storeDur += time.Since(start)
		if got := store.mailReports(b); got != n {
			b.Fatalf("store-only baseline: %d reports, want %d", got, n)
		}

		start = time.Now()
		cfg := dovecotMailbox(srv, u, "bench", hostFull, inbox.SecurityPlain)
		r := startPoller(b, d, cfg)
		// Moved implies committed. The poller's own log says so: polling
		// the folder or the database would compete with it for the CPU.
		select {
		case <-moved.done:
		case <-time.After(10 * time.Minute):
			b.Fatalf("10,000 mails not moved within 10 minutes (%d moved)", moved.moved.Load())
		}
		ingestDur += time.Since(start)
		b.StopTimer()
		r.stop(b)
		if d.mailReports(b) != n {
			b.Fatalf("%d reports, want %d", d.mailReports(b), n)
		}
		b.StartTimer()
	}
	mails := float64(n * b.N)
	b.ReportMetric(mails/ingestDur.Seconds(), "ingest-mails/s")
	b.ReportMetric(mails/fetchDur.Seconds(), "fetch-mails/s")
	b.ReportMetric(mails/parseDur.Seconds(), "parse-mails/s")
	b.ReportMetric(mails/ourParseDur.Seconds(), "notme-parse-mails/s")
	b.ReportMetric(mails/storeDur.Seconds(), "store-mails/s")
	b.ReportMetric(parseDur.Seconds()/ingestDur.Seconds(), "ingest/parse")
	b.ReportMetric(float64(bytesTotal)/mails, "bytes/mail")
}

// roundWatch is a log handler that closes done once the poller's rounds
// have moved want messages.
type roundWatch struct {
	want  int64
	moved atomic.Int64
	done  chan struct{}
}

func (w *roundWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *roundWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *roundWatch) WithGroup(string) slog.Handler            { return w }

func (w *roundWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "mailbox round" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "moved" && w.moved.Add(a.Value.Int64()) >= w.want && w.moved.Load()-a.Value.Int64() < w.want {
			close(w.done)
		}
		return true
	})
	return nil
}

// fetchAll is the raw-fetch baseline: UID SEARCH, then UID FETCH
// BODY.PEEK[] in batches, each body read into memory.
func fetchAll(tb testing.TB, c *imapclient.Client, batch int) [][]byte {
	tb.Helper()
	data, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		tb.Fatal(err)
	}
	uids := data.AllUIDs()
	out := make([][]byte, 0, len(uids))
	for len(uids) > 0 {
		k := min(batch, len(uids))
		cmd := c.Fetch(imap.UIDSetNum(uids[:k]...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		for m := cmd.Next(); m != nil; m = cmd.Next() {
			for item := m.Next(); item != nil; item = m.Next() {
				if body, ok := item.(imapclient.FetchItemDataBodySection); ok && body.Literal != nil {
					raw := make([]byte, body.Literal.Size())
					if _, err := io.ReadFull(body.Literal, raw); err != nil {
						tb.Fatal(err)
					}
					out = append(out, raw)
				}
			}
		}
		if err := cmd.Close(); err != nil {
			tb.Fatal(err)
		}
		uids = uids[k:]
	}
	return out
}

// walkParts is the parse-only baseline: go-message's mail reader over the
// header and every part, bodies decoded and read.
func walkParts(tb testing.TB, raw []byte) {
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := mr.Header.AddressList("From"); err != nil {
		tb.Fatal(err)
	}
	if _, err := mr.Header.MsgIDList("In-Reply-To"); err != nil {
		tb.Fatal(err)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, p.Body); err != nil {
			tb.Fatal(err)
		}
	}
}
