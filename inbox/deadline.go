package inbox

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineConn drops a connection whose server falls silent while the
// poller waits for an answer. A server behind a black-holed network never
// closes the TCP connection, and go-imap sets no deadline between
// responses, so without this a command would wait for ever.
//
// While the poller awaits an answer (busy), every read must come within
// timeout of the one before, and every write within timeout; in between
// (IDLE, the wait for the next poll) silence is normal and only the IMAP
// client's own deadlines apply. It sits under TLS, so the deadlines bound
// the raw bytes.
type deadlineConn struct {
	net.Conn
	timeout time.Duration

	mu     sync.Mutex
	busy   int
	theirs time.Time // the read deadline the IMAP client asked for
	// silent is set when a read failed on this watchdog's deadline.
	silent atomic.Bool
}

func newDeadlineConn(c net.Conn, timeout time.Duration) *deadlineConn {
	return &deadlineConn{Conn: c, timeout: timeout}
}

// await marks the start of a wait for the server; call the returned
// function when the answer is in.
func (c *deadlineConn) await() (done func()) {
	c.mu.Lock()
	c.busy++
	c.applyLocked()
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.busy--
		c.applyLocked()
		c.mu.Unlock()
	}
}

// applyLocked sets the earlier of the client's deadline and, when busy,
// the watchdog's.
func (c *deadlineConn) applyLocked() {
	d := c.theirs
	if c.busy > 0 {
		if w := time.Now().Add(c.timeout); d.IsZero() || w.Before(d) {
			d = w
		}
	}
	_ = c.Conn.SetReadDeadline(d) // fails only on a closed connection, which Read reports
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if c.silent.Load() {
		// Sticky: go-imap peeks before each response and would otherwise
		// swallow the first timeout and start a fresh deadline.
		return 0, os.ErrDeadlineExceeded
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		if c.busy > 0 {
			c.applyLocked() // progress: the server is alive
		}
		c.mu.Unlock()
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.mu.Lock()
		if c.busy > 0 {
			c.silent.Store(true)
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	n, err := c.Conn.Write(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.silent.Store(true)
	}
	return n, err
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.theirs = t
	c.applyLocked()
	return nil
}

// SetWriteDeadline is ignored: Write sets its own on every call.
func (c *deadlineConn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline passes on a deadline in the past, which is how crypto/tls
// interrupts a handshake whose context ended.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		_ = c.Conn.SetWriteDeadline(t)
	}
	return c.SetReadDeadline(t)
}
