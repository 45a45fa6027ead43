package wake

import (
	"context"
	"errors"
	"testing"
	"time"

	"notme/internal/backoff"
)

// rounds runs a loop whose rounds are answered by answer, and returns a
// channel that hears each round's start time.
func rounds(t *testing.T, l Loop, answer func(n int) (time.Duration, bool, error)) (<-chan time.Time, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	seen := make(chan time.Time, 100)
	done := make(chan error, 1)
	n := 0
	go func() {
		done <- l.Run(ctx, func(context.Context) (time.Duration, bool, error) {
			n++
			seen <- time.Now()
			return answer(n)
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v, want nil once stopped", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return seen, cancel
}

func next(t *testing.T, seen <-chan time.Time, within time.Duration, what string) time.Time {
	t.Helper()
	select {
	case at := <-seen:
		return at
	case <-time.After(within):
		t.Fatalf("no round within %v: %s", within, what)
	}
	return time.Time{}
}

func TestLoopWakesOnSignalNotOnItsOwn(t *testing.T) {
	s := NewSignal()
	seen, _ := rounds(t, Loop{MaxIdle: time.Hour, Wake: []<-chan struct{}{nil, s}}, func(int) (time.Duration, bool, error) {
		return 0, false, nil // nothing due: sleep MaxIdle
	})
	next(t, seen, 5*time.Second, "the first round runs at once")
	select {
	case <-seen:
		t.Fatal("a round ran with nothing due and no signal")
	case <-time.After(50 * time.Millisecond):
	}
	s.Notify()
	s.Notify() // folds into the first
	next(t, seen, 5*time.Second, "Notify wakes the loop")
}

func TestLoopSleepsUntilDue(t *testing.T) {
	seen, _ := rounds(t, Loop{MaxIdle: time.Hour, MinWait: time.Millisecond}, func(int) (time.Duration, bool, error) {
		return 30 * time.Millisecond, true, nil
	})
	a := next(t, seen, 5*time.Second, "first round")
	b := next(t, seen, 5*time.Second, "the round when the next work is due")
	if gap := b.Sub(a); gap < 30*time.Millisecond {
		t.Errorf("next round after %v, want no sooner than the 30ms due time", gap)
	}
}

func TestLoopBacksOffFailedRounds(t *testing.T) {
	l := Loop{MaxIdle: time.Hour, Retry: backoff.Policy{Min: 40 * time.Millisecond, Max: time.Second}}
	seen, _ := rounds(t, l, func(n int) (time.Duration, bool, error) {
		if n <= 2 {
			return 0, true, errors.New("database away")
		}
		return 0, false, nil
	})
	a := next(t, seen, 5*time.Second, "first round")
	b := next(t, seen, 5*time.Second, "retry after the first failure")
	c := next(t, seen, 5*time.Second, "retry after the second failure")
	if gap := b.Sub(a); gap < 20*time.Millisecond {
		t.Errorf("first retry after %v, want at least half of 40ms", gap)
	}
	if gap := c.Sub(b); gap < 40*time.Millisecond {
		t.Errorf("second retry after %v, want at least half of 80ms", gap)
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep(1ms) = false, want true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep with a done context = true, want false")
	}
}
