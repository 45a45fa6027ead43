package ui

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// The suppression list on the console (docs/address-guard.md): leads see
// it, filter and page through it, list an address, take one off with a
// reason, and export it; every change goes through the same audited
// AddSuppression and RemoveSuppression as the API.

// suppressionsPageSize is how many entries one console page shows.
const suppressionsPageSize = 50

type suppressionRow struct {
	cases.Suppression
	CaseRef string
	Active  bool
}

type suppressionsPage struct {
	page
	Rows     []suppressionRow
	Filter   cases.SuppressionFilter
	Reasons  []string
	Origins  []string
	Filtered bool
	// First is the first page when this one is a later one; Next the
	// page after it when there may be one.
	First, Next string
	// Export is the NDJSON export of what the filter selects.
	Export string
}

// leadsSuppressions is GET /leads/suppressions.
func (s *Server) leadsSuppressions(c echo.Context) error {
	f, err := suppressionFilter(c)
	if err != nil {
		return err
	}
	f.Limit = suppressionsPageSize
	ctx := c.Request().Context()
	list, err := s.svc.Suppressions(ctx, actor(c), f)
	if err != nil {
		return err
	}
	refs, err := s.svc.SuppressionCaseRefs(ctx, list)
	if err != nil {
		return err
	}
	p := suppressionsPage{page: s.pageT(c, "supp.title"), Filter: f, Reasons: cases.SuppressReasons, Origins: cases.SuppressOrigins,
		Filtered: f.Domain != "" || f.AccountRef != "" || f.Reason != "" || f.Origin != "" || f.Removed}
	now := s.svc.Now()
	for _, x := range list {
		r := suppressionRow{Suppression: x, Active: x.Active(now)}
		if x.CaseID != nil {
			r.CaseRef = refs[*x.CaseID]
		}
		p.Rows = append(p.Rows, r)
	}
	q := suppressionQuery(f)
	p.Export = "/leads/suppressions/export?" + q.Encode()
	if f.AfterID > 0 {
		p.First = "/leads/suppressions?" + q.Encode()
	}
	if n := len(list); n == suppressionsPageSize {
		q.Set("after", strconv.FormatInt(list[n-1].ID, 10))
		p.Next = "/leads/suppressions?" + q.Encode()
	}
	return s.render(c, http.StatusOK, "suppressions", p)
}

// suppressionQuery is f as a listing's query, without its page.
func suppressionQuery(f cases.SuppressionFilter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"domain": f.Domain, "account_ref": f.AccountRef, "reason": f.Reason, "origin": f.Origin} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Removed {
		q.Set("removed", "true")
	}
	return q
}

// leadsAddSuppression is POST /leads/suppressions: a lead lists an
// address for one account, or for every account.
func (s *Server) leadsAddSuppression(c echo.Context) error {
	in := cases.SuppressionInput{Address: c.FormValue("address"), Reason: c.FormValue("reason"), CaseRef: c.FormValue("case_ref")}
	if c.FormValue("scope") != "all" {
		in.AccountRef = strings.TrimSpace(c.FormValue("account_ref"))
		if in.AccountRef == "" {
			return cases.Errorf(cases.EINVALID, "Give the account the address must get no mail about, or choose every account.")
		}
	}
	ttl, err := parseTTL(c.FormValue("expires_in"))
	if err != nil {
		return err
	}
	in.TTL = ttl
	_, added, err := s.svc.AddSuppression(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	done := "suppression_added"
	if !added {
		done = "suppression_kept"
	}
	return c.Redirect(http.StatusSeeOther, "/leads/suppressions?done="+done)
}

// leadsRemoveSuppression is POST /leads/suppressions/{id}/remove: taking
// an address off lets mail go to it again, so it needs confirm=yes and a
// reason.
func (s *Server) leadsRemoveSuppression(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return cases.Errorf(cases.ENOTFOUND, "no such suppression")
	}
	if !confirmed(c) {
		return s.refuseUnconfirmed(c, "confirm.unsuppress", []any{id}, "/leads/suppressions")
	}
	if _, err := s.svc.RemoveSuppression(c.Request().Context(), actor(c), id, c.FormValue("reason")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/leads/suppressions?done=suppression_removed")
}

// leadsExportSuppressions is GET /leads/suppressions/export: the same
// NDJSON export as the API's, for a lead's session.
func (s *Server) leadsExportSuppressions(c echo.Context) error {
	f, err := suppressionFilter(c)
	if err != nil {
		return err
	}
	f.AfterID = 0
	return s.exportSuppressions(c, f)
}

// exportSuppressions writes every entry f selects as NDJSON, one a line,
// in pages of 1000 until a short one, each written as read. The export is
// audited before the first byte.
func (s *Server) exportSuppressions(c echo.Context, f cases.SuppressionFilter) error {
	ctx := c.Request().Context()
	if err := s.svc.StartSuppressionExport(ctx, actor(c), f); err != nil {
		return err
	}
	f.Limit = 1000
	first, err := s.svc.Suppressions(ctx, actor(c), f)
	if err != nil {
		return err // before a byte is written: a proper error answer
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	res.Header().Set("Content-Disposition", `attachment; filename="suppressions.ndjson"`)
	res.WriteHeader(http.StatusOK)
	w := bufio.NewWriter(res)
	enc := json.NewEncoder(w)
	for page := first; ; {
		refs, err := s.svc.SuppressionCaseRefs(ctx, page)
		if err != nil {
			return err
		}
		for _, x := range page {
			if err := enc.Encode(toSuppressionJSON(x, refs)); err != nil {
				return err
			}
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
		if page, err = s.svc.Suppressions(ctx, actor(c), f); err != nil {
			return err
		}
	}
	return w.Flush()
}
