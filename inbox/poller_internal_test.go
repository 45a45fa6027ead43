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
