package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// TestSlowBodyIsCutOff: a client that sends a 6 MB POST /report one byte
// at a time holds its connection no longer than http.read_timeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.HTTP.ReadHeaderTimeout = Duration(500 * time.Millisecond)
	cfg.HTTP.ReadTimeout = Duration(time.Second)
	a, err := Open(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /report HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 6000000\r\n\r\n", ln.Addr())
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond) // the attacker's pace
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	// A bound on failure: a desk without a read timeout keeps the
	// connection open past it.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = io.ReadAll(conn)
	held := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("a slow body still held its connection after %v; want it closed within read_timeout (1s)", held.Round(time.Second))
	}
	if held > 10*time.Second {
		t.Errorf("a slow body held its connection for %v; want about read_timeout (1s)", held.Round(time.Millisecond))
	}
}
