package app

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"
)

// A running desk is a registered instance, which other instances (and its
// own restart) judge alive or dead by (cases.TestDeadInstanceClaimsComeBack,
// inbox's TestKilledDeskComesBackAtOnce); a clean shutdown removes it.
func TestRunRegistersTheInstance(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	a, err := Open(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer a.Close()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- a.Run(runCtx, ln) }()
	ids := func() []string {
		ins, err := a.Service.Instances(ctx)
		if err != nil {
			t.Fatalf("Instances() = %v", err)
		}
		var out []string
		for _, in := range ins {
			out = append(out, in.ID)
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(ids(), a.Instance()) {
		if time.Now().After(deadline) {
			t.Fatalf("Instances() while running = %v, want %s", ids(), a.Instance())
		}
		time.Sleep(10 * time.Millisecond) // polling the database, with a deadline
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run() = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run() did not return within 30s of its context's end")
	}
	if got := ids(); len(got) != 0 {
		t.Errorf("Instances() after a clean shutdown = %v, want none", got)
	}
}
