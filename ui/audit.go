package ui

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// The audit log for leads and admins (/admin/audit) and for a SIEM
// (/api/v1/audit); docs/admin.md and docs/integrating.md.

// auditPage is /admin/audit: a page of entries, newest first.
type auditPage struct {
	page
	Rows []auditRow
	// Actions are the filter's choices in the reader's words.
	Actions       []auditChoice
	Action, Actor string
	// Older is the next page's URL, "" on the last.
	Older string
	// Since and Until prefill the export form (YYYY-MM-DD).
	Since, Until string
}

type auditChoice struct {
	Value, Label string
	Selected     bool
}

// auditConsolePage is how many entries /admin/audit shows at a time.
const auditConsolePage = 50

// adminAudit is GET /admin/audit?action=…&actor=…&before=ID.
func (s *Server) adminAudit(c echo.Context) error {
	p := auditPage{page: s.pageT(c, "audit.title"), Action: c.QueryParam("action"), Actor: strings.TrimSpace(c.QueryParam("actor"))}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	list, err := s.svc.AuditNewest(c.Request().Context(), actor(c), cases.AuditFilter{Action: p.Action, Actor: p.Actor, BeforeID: max(before, 0), Limit: auditConsolePage})
	if err != nil {
		return err
	}
	for _, e := range list {
		p.Rows = append(p.Rows, auditRowOf(p.Lang, e))
	}
	if len(list) == auditConsolePage {
		q := url.Values{"before": {strconv.FormatInt(list[len(list)-1].ID, 10)}}
		if p.Action != "" {
			q.Set("action", p.Action)
		}
		if p.Actor != "" {
			q.Set("actor", p.Actor)
		}
		p.Older = "/admin/audit?" + q.Encode()
	}
	for _, a := range cases.AuditActions {
		p.Actions = append(p.Actions, auditChoice{Value: a, Label: auditAction(p.Lang, a), Selected: a == p.Action})
	}
	now := s.svc.Now().UTC()
	p.Since, p.Until = now.AddDate(0, 0, -30).Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)
	return s.render(c, http.StatusOK, "audit", p)
}

// adminAuditExport is POST /admin/audit/export: the entries the form
// selects as JSON lines, a download. A form, not a link: the export is
// audited, and a page elsewhere must not be able to make one.
func (s *Server) adminAuditExport(c echo.Context) error {
	f, err := auditFilterOf(c.FormValue)
	if err != nil {
		return err
	}
	return s.streamAudit(c, f, "audit.ndjson")
}

// apiAudit is GET /api/v1/audit: a page of JSON with next_after, or with
// format=ndjson every entry the filter selects, one a line. Both leave
// out the last AuditSettle, so that a reader resuming at the last id it
// got misses nothing.
func (s *Server) apiAudit(c echo.Context) error {
	f, err := auditFilterOf(c.QueryParam)
	if err != nil {
		return err
	}
	f.Settled = true
	switch c.QueryParam("format") {
	case "", "json":
	case "ndjson":
		return s.streamAudit(c, f, "audit.ndjson")
	default:
		return cases.Errorf(cases.EINVALID, "format must be json or ndjson")
	}
	list, err := s.svc.AuditPage(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	out := struct {
		Entries []cases.AuditJSON `json:"entries"`
		Next    *int64            `json:"next_after"`
	}{Entries: make([]cases.AuditJSON, len(list))}
	for i, e := range list {
		out.Entries[i] = e.JSON()
	}
	if n := len(list); n > 0 && n == cmpLimit(f.Limit) {
		out.Next = &list[n-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

// streamAudit writes the export: nothing is sent before the service has
// checked the reader and the filter, so a refusal is a proper error answer.
func (s *Server) streamAudit(c echo.Context, f cases.AuditFilter, filename string) error {
	res := c.Response()
	w := bufio.NewWriter(res)
	enc := json.NewEncoder(w)
	started := false
	start := func() {
		if !started {
			started = true
			res.Header().Set(echo.HeaderContentType, "application/x-ndjson")
			res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
			res.WriteHeader(http.StatusOK)
		}
	}
	_, err := s.svc.ExportAudit(c.Request().Context(), actor(c), f, func(e cases.AuditEntry) error {
		start()
		return enc.Encode(e.JSON())
	})
	if err != nil && !started {
		return err
	}
	start()
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// auditFilterOf reads since, until, after, limit, action and actor.
func auditFilterOf(get func(string) string) (cases.AuditFilter, error) {
	var f cases.AuditFilter
	var err error
	if f.Since, err = auditTime("since", get("since")); err != nil {
		return f, err
	}
	if f.Until, err = auditTime("until", get("until")); err != nil {
		return f, err
	}
	if v := get("after"); v != "" {
		if f.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return f, cases.Errorf(cases.EINVALID, "after must be an entry id")
		}
	}
	if v := get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 {
			return f, cases.Errorf(cases.EINVALID, "limit must be between 1 and %d", cases.AuditPageMax)
		}
	}
	f.Action, f.Actor = get("action"), strings.TrimSpace(get("actor"))
	return f, nil
}

// auditTime reads a day (midnight UTC) or an RFC 3339 time; "" is none.
func auditTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, cases.Errorf(cases.EINVALID, "%s must be a day (2026-12-01) or an RFC 3339 time", name)
}
