package ui

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"notme/cases"

	"github.com/labstack/echo/v4"
)

// healthz is GET /healthz, on both listeners: the process answers, and
// says nothing else (a stranger may call the public one).
func (s *Server) healthz(c echo.Context) error { return c.String(http.StatusOK, "ok\n") }

// readyz is GET /readyz, on the operations listener: the desk can take work. It also lists each
// mailbox's health; a failing mailbox does not make the desk unready (the
// web and the other mailboxes still work), it is shown and alerted.
// Unready, it says why on the line after "not ready" (for the operator:
// the listener answers only the allowed networks).
func (s *Server) readyz(c echo.Context) error {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(c.Request()); err != nil {
			s.log.Warn("not ready", "err", err)
			return c.String(http.StatusServiceUnavailable, "not ready\n"+oneLine(err.Error())+"\n")
		}
	}
	var b strings.Builder
	b.WriteString("ready\n")
	mbs, err := s.svc.Mailboxes(c.Request().Context())
	if err != nil {
		return err
	}
	ls, err := s.svc.MailboxLeases(c.Request().Context())
	if err != nil {
		return err
	}
	now := s.svc.Now()
	polledBy := map[string]string{}
	for _, l := range ls {
		if l.LeaseUntil.After(now) {
			polledBy[l.Name] = l.Owner
		}
	}
	for _, m := range mbs {
		state := "ok"
		if s.mailboxStale(m, now) {
			state = "stale"
		} else if m.LastError != "" {
			state = "failing"
		}
		last := "never"
		if m.LastSuccess != nil {
			last = now.Sub(*m.LastSuccess).Round(time.Second).String() + " ago"
		}
		by := "no instance"
		if o, ok := polledBy[m.Name]; ok {
			by = "instance " + o
		}
		fmt.Fprintf(&b, "mailbox %s: %s; last successful fetch %s; %d waiting; polled by %s\n", m.Name, state, last, m.Waiting, by)
	}
	return c.String(http.StatusOK, b.String())
}

// oneLine keeps a reason on one line of the plain-text answer.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// mailboxStale: no fetch has succeeded for longer than the configured time.
func (s *Server) mailboxStale(m cases.Mailbox, now time.Time) bool {
	return m.Stale(now, s.opts.MailboxStaleAfter)
}

// opsAllowed answers only clients whose connection comes from one of the
// allowed networks (nil: loopback). It reads the connection's own address:
// an X-Forwarded-For header is a stranger's word.
func (s *Server) opsAllowed(allow []*net.IPNet) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ip, ok := connIP(c.Request().RemoteAddr)
			if !ok || !opsClientAllowed(ip, allow) {
				s.log.Warn("operations listener: client not in http.ops_allow", "client", ip.String())
				return echo.NewHTTPError(http.StatusForbidden)
			}
			return next(c)
		}
	}
}

func connIP(remote string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func opsClientAllowed(ip netip.Addr, allow []*net.IPNet) bool {
	if allow == nil {
		return ip.IsLoopback()
	}
	for _, n := range allow {
		if n.Contains(ip.AsSlice()) {
			return true
		}
	}
	return false
}

// handleOpsError answers the operations listener's errors as one line of
// plain text: its readers are probes and scrapers, not people.
func (s *Server) handleOpsError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
	}
	// observe logs the request, with err when status is 5xx: one line.
	_ = c.String(status, strings.ToLower(http.StatusText(status))+"\n")
}
