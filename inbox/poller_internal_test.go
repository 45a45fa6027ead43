package inbox

import (
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func TestPlanBatches(t *testing.T) {
	msgs := func(sizes ...int64) []sizedUID {
		out := make([]sizedUID, len(sizes))
		for i, s := range sizes {
			out[i] = sizedUID{uid: imap.UID(i + 1), size: s}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		msgs     []sizedUID
		size     int
		maxBytes int64
		want     [][]imap.UID
	}{
		{"none", nil, 3, 100, nil},
		{"by count", msgs(1, 1, 1, 1, 1, 1, 1), 3, 100, [][]imap.UID{{1, 2, 3}, {4, 5, 6}, {7}}},
		{"by bytes", msgs(40, 40, 40, 10, 90), 10, 100, [][]imap.UID{{1, 2}, {3, 4}, {5}}},
		{"exactly the bound", msgs(50, 50, 50), 10, 100, [][]imap.UID{{1, 2}, {3}}},
		{"one too large stands alone", msgs(10, 500, 10), 10, 100, [][]imap.UID{{1}, {2}, {3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]imap.UID
			for _, b := range planBatches(tc.msgs, tc.size, tc.maxBytes) {
				var uids []imap.UID
				for _, m := range b {
					uids = append(uids, m.uid)
				}
				got = append(got, uids)
			}
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("planBatches() = %v, want %v", got, tc.want)
			}
		})
	}
}

// The poller reconnects with the desk's one back-off, from 1 s to 2 min.
func TestReconnectRetry(t *testing.T) {
	for _, tc := range []struct {
		n    int
		ceil time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {6, 32 * time.Second}, {8, 2 * time.Minute}, {1000, 2 * time.Minute}} {
		if got := reconnectRetry.Ceiling(tc.n); got != tc.ceil {
			t.Errorf("reconnectRetry.Ceiling(%d) = %v, want %v", tc.n, got, tc.ceil)
		}
	}
}

// A batch whose transaction fails halves the bound, in messages and in
// bytes, down to single messages; stored batches double it back up to the
// configuration.
func TestBatchBoundShrinksAndGrows(t *testing.T) {
	p := &Poller{cfg: MailboxConfig{BatchSize: 100, BatchBytes: 32 << 20}}
	type bound struct {
		count int
		bytes int64
	}
	got := func() bound { b := p.batchBound(); return bound{b.count, b.bytes} }
	if b := got(); b != (bound{100, 32 << 20}) {
		t.Fatalf("batchBound() at first = %v, want the configured 100, 32 MiB", b)
	}
	steps := []struct {
		do      string // "fail n bytes" or "store"
		n       int
		size    int64
		smaller bool
		want    bound
	}{
		{"fail", 100, 30 << 20, true, bound{50, 15 << 20}},
		{"fail", 50, 15 << 20, true, bound{25, 15 << 19}},
		{"fail", 25, 7 << 20, true, bound{12, 7 << 19}},
		{"fail", 12, 3 << 20, true, bound{6, 3 << 19}},
		{"fail", 6, 1 << 20, true, bound{3, 1 << 19}},
		{"fail", 3, 600 << 10, true, bound{1, 300 << 10}},
		// A single message that fails is no batch to shrink: the round
		// fails and is retried with back-off.
		{"fail", 1, 300 << 10, false, bound{1, 150 << 10}},
		{"fail", 1, 10 << 10, false, bound{1, minBatchBytes}},
		{"store", 0, 0, false, bound{2, 2 * minBatchBytes}},
		{"store", 0, 0, false, bound{4, 4 * minBatchBytes}},
		// A failure after growth halves what failed, not the bound.
		{"fail", 4, 100 << 10, true, bound{2, minBatchBytes}},
	}
	for i, st := range steps {
		switch st.do {
		case "fail":
			if smaller := p.batchFailed(st.n, st.size); smaller != st.smaller {
				t.Errorf("step %d: batchFailed(%d, %d) = %v, want %v", i, st.n, st.size, smaller, st.smaller)
			}
		case "store":
			p.batchStored()
		}
		if b := got(); b != st.want {
			t.Errorf("step %d (%s): bound = %v, want %v", i, st.do, b, st.want)
		}
	}
	for range 20 {
		p.batchStored()
	}
	if b := got(); b != (bound{100, 32 << 20}) {
		t.Errorf("bound after many stored batches = %v, want back to the configured 100, 32 MiB", b)
	}
}
