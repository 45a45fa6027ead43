package ui

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// OutboxMail is a mail the demo's SMTP sink received from the desk.
type OutboxMail struct {
	At   time.Time
	From string
	To   []string
	Raw  string
	// Subject and Text are decoded, as the recipient's mail client shows them.
	Subject string
	Text    string
}

type outboxPage struct {
	page
	Mails []OutboxMail
}

// outbox is GET /demo/outbox: in the demo only, what the desk sent, so
// staff can read the acknowledgements reporters got.
func (s *Server) outbox(c echo.Context) error {
	if s.opts.Outbox == nil {
		return echo.ErrNotFound
	}
	return s.render(c, http.StatusOK, "outbox", outboxPage{page: s.pageT(c, "outbox.title"), Mails: s.opts.Outbox()})
}
