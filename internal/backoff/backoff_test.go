package backoff

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	p := Policy{Min: time.Second, Max: 8 * time.Second}
	for _, tt := range []struct {
		n    int
		ceil time.Duration
	}{{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {9, 8 * time.Second}, {1000, 8 * time.Second}} {
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 2000 {
			d := p.Delay(tt.n)
			lo, hi = min(lo, d), max(hi, d)
		}
		// 2000 draws fill the range to within a few percent of each end.
		if lo < tt.ceil/2 || lo > tt.ceil/2+tt.ceil/20 || hi > tt.ceil || hi < tt.ceil-tt.ceil/20 {
			t.Errorf("Delay(%d) ranged %v..%v over 2000 draws, want about %v..%v", tt.n, lo, hi, tt.ceil/2, tt.ceil)
		}
	}
}

func TestDelayNeverZero(t *testing.T) {
	if d := (Policy{}).Delay(1); d <= 0 {
		t.Errorf("Policy{}.Delay(1) = %v, want > 0", d)
	}
	if d := (Policy{Min: time.Minute, Max: time.Second}).Delay(5); d > time.Minute || d < 30*time.Second {
		t.Errorf("Delay with Max below Min = %v, want within Min's window", d)
	}
}
