package ui

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"notme/cases"

	"github.com/labstack/echo/v4"
)

// healthz is GET /healthz: the process answers.
func (s *Server) healthz(c echo.Context) error { return c.String(http.StatusOK, "ok\n") }

// readyz is GET /readyz: the desk can take work. It also lists each
// mailbox's health; a failing mailbox does not make the desk unready (the
// web and the other mailboxes still work), it is shown and alerted.
func (s *Server) readyz(c echo.Context) error {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(c.Request()); err != nil {
			s.log.Warn("not ready", "err", err)
			return c.String(http.StatusServiceUnavailable, "not ready\n")
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

// mailboxStale: no fetch has succeeded for longer than the configured time.
func (s *Server) mailboxStale(m cases.Mailbox, now time.Time) bool {
	return m.Stale(now, s.opts.MailboxStaleAfter)
}
