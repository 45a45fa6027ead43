package ui

import (
	"testing"
	"time"
)

func TestTimeLeftInWords(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want string
	}{
		{30 * time.Second, "under a minute left"},
		{12*time.Minute + 30*time.Second, "12 min left"},
		{-(3*time.Hour + 5*time.Minute + 30*time.Second), "3 h 5 min overdue"},
		{26*time.Hour + 30*time.Second, "26 h 0 min left"},
		{2*24*time.Hour + time.Hour, "2 days left"},
		{-(10*24*time.Hour + time.Hour), "10 days overdue"},
	} {
		if got := timeLeftIn(langEN, c.in); got != c.want {
			t.Errorf("timeLeftIn(en, %v) = %q, want %q", c.in, got, c.want)
		}
	}
}
