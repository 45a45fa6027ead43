package cases

import (
	"context"
	"testing"
	"time"
)

// FindOriginal answers from the exact rungs of the ladder and files nothing.
func TestFindOriginal(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	minted := d.mint(t, "acct-find", "registration")
	mintedAt := d.clock.Now().UTC().Truncate(time.Second)
	d.clock.Advance(time.Hour)
	d.register(t, "<ledger-1@shop.example>", "acct-ledger", "someone@example.net", "order_confirmation")
	registeredAt := d.clock.Now().UTC()

	for _, tc := range []struct {
		name   string
		tokens []string
		ids    []string
		found  bool
		sentAt time.Time
	}{
		{"token", []string{minted.Token}, nil, true, mintedAt},
		{"forged token, then a good one", []string{forge(minted.Token, 0), minted.Token}, nil, true, mintedAt},
		{"sealed Message-ID", nil, []string{minted.MessageID}, true, mintedAt},
		{"ledger Message-ID", nil, []string{"unknown@x.example", "<ledger-1@shop.example>"}, true, registeredAt},
		{"forged token only", []string{forge(minted.Token, 1)}, nil, false, time.Time{}},
		{"unknown Message-ID", nil, []string{"nobody@nowhere.example"}, false, time.Time{}},
		{"nothing", nil, nil, false, time.Time{}},
	} {
		got, err := d.FindOriginal(ctx, tc.tokens, tc.ids)
		if err != nil {
			t.Fatalf("FindOriginal(%s) = %v", tc.name, err)
		}
		if got.Found != tc.found || !got.SentAt.Equal(tc.sentAt) {
			t.Errorf("FindOriginal(%s) = %+v, want found %v sent %v", tc.name, got, tc.found, tc.sentAt)
		}
	}
	var n int64
	if err := d.store.r.Model(&Case{}).Count(&n).Error; err != nil || n != 0 {
		t.Errorf("cases after FindOriginal: %d (%v), want 0", n, err)
	}
}
