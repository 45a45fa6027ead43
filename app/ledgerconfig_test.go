package app

import (
	"testing"
	"time"
)

func TestLedgerRetentionBounds(t *testing.T) {
	for _, c := range []struct {
		retention time.Duration
		ok        bool
	}{
		{0, true}, // keep for ever
		{30 * 24 * time.Hour, true},
		{180 * 24 * time.Hour, true},
		{29 * 24 * time.Hour, false},
		{time.Hour, false},
		{-time.Hour, false},
	} {
		cfg := Defaults()
		cfg.Ledger.Retention = Duration(c.retention)
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate() with ledger.retention %v = %v, want ok %v", c.retention, err, c.ok)
		}
	}
}
