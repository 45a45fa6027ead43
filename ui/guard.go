package ui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// The address guard, the suppression list's API, and the public "did you
// mean …?" helper (docs/address-guard.md).

type guardIn struct {
	Address    string `json:"address"`
	AccountRef string `json:"account_ref"`
	Kind       string `json:"kind"`
}

type guardReasonJSON struct {
	Code   string     `json:"code"`
	Reason string     `json:"reason,omitempty"` // suppressed: not_my_address, bounce, complaint, manual
	Scope  string     `json:"scope,omitempty"`  // suppressed: account or all
	Since  *time.Time `json:"since,omitempty"`
	Domain string     `json:"domain,omitempty"` // likely_typo: the domain meant
	Source string     `json:"source,omitempty"` // likely_typo: list or learned
}

type guardOut struct {
	Verdict    string            `json:"verdict"`
	Reasons    []guardReasonJSON `json:"reasons"`
	Suggestion *string           `json:"suggestion"`
}

// apiCheckAddress is POST /api/v1/addresses/check.
func (s *Server) apiCheckAddress(c echo.Context) error {
	var in guardIn
	if err := decodeJSON(c.Request().Body, &in); err != nil {
		return err
	}
	ans, err := s.svc.CheckAddress(c.Request().Context(), actor(c),
		cases.GuardInput{Address: in.Address, AccountRef: in.AccountRef, Kind: in.Kind})
	if err != nil {
		return err
	}
	out := guardOut{Verdict: ans.Verdict, Reasons: make([]guardReasonJSON, len(ans.Reasons))}
	for i, r := range ans.Reasons {
		out.Reasons[i] = guardReasonJSON{Code: r.Code, Reason: r.Reason, Scope: r.Scope, Domain: r.Domain, Source: r.Source}
		if r.Since != nil {
			t := r.Since.UTC()
			out.Reasons[i].Since = &t
		}
	}
	if ans.Suggestion != "" {
		out.Suggestion = &ans.Suggestion
	}
	return c.JSON(http.StatusOK, out)
}

type suppressionJSON struct {
	ID            int64      `json:"id"`
	Address       string     `json:"address"` // masked; "" when only its hash is known
	Domain        string     `json:"domain,omitempty"`
	AccountRef    *string    `json:"account_ref"` // null: every account
	Reason        string     `json:"reason"`
	Origin        string     `json:"origin"`
	CaseRef       string     `json:"case_ref,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     *time.Time `json:"expires_at"`
	RemovedAt     *time.Time `json:"removed_at,omitempty"`
	RemovedReason string     `json:"removed_reason,omitempty"`
}

func toSuppressionJSON(x cases.Suppression, refs map[int64]string) suppressionJSON {
	j := suppressionJSON{ID: x.ID, Address: x.AddrMasked, Domain: x.Domain, Reason: x.Reason, Origin: x.Origin,
		CreatedAt: x.CreatedAt.UTC(), ExpiresAt: x.ExpiresAt, RemovedAt: x.RemovedAt, RemovedReason: x.RemovedReason}
	if x.AccountRef != cases.AllAccounts {
		j.AccountRef = &x.AccountRef
	}
	if x.CaseID != nil {
		j.CaseRef = refs[*x.CaseID]
	}
	return j
}

// suppressionFilter reads a listing's query.
func suppressionFilter(c echo.Context) (cases.SuppressionFilter, error) {
	f := cases.SuppressionFilter{Domain: c.QueryParam("domain"), AccountRef: c.QueryParam("account_ref"),
		Reason: c.QueryParam("reason"), Origin: c.QueryParam("origin")}
	if v := c.QueryParam("removed"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, cases.Errorf(cases.EINVALID, "removed must be true or false")
		}
		f.Removed = b
	}
	if v := c.QueryParam("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, cases.Errorf(cases.EINVALID, "after must be an entry id")
		}
		f.AfterID = n
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, cases.Errorf(cases.EINVALID, "limit must be 1 to 1000")
		}
		f.Limit = n
	}
	return f, nil
}

// apiSuppressions is GET /api/v1/suppressions: a page of JSON, or with
// format=ndjson every matching entry, one a line (an export).
func (s *Server) apiSuppressions(c echo.Context) error {
	f, err := suppressionFilter(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	switch c.QueryParam("format") {
	case "", "json":
		list, err := s.svc.Suppressions(ctx, actor(c), f)
		if err != nil {
			return err
		}
		refs, err := s.svc.SuppressionCaseRefs(ctx, list)
		if err != nil {
			return err
		}
		out := struct {
			Suppressions []suppressionJSON `json:"suppressions"`
			Next         *int64            `json:"next_after"`
		}{Suppressions: make([]suppressionJSON, len(list))}
		for i, x := range list {
			out.Suppressions[i] = toSuppressionJSON(x, refs)
		}
		if n := len(list); n > 0 && n == cmpLimit(f.Limit) {
			out.Next = &list[n-1].ID
		}
		return c.JSON(http.StatusOK, out)
	case "ndjson":
	default:
		return cases.Errorf(cases.EINVALID, "format must be json or ndjson")
	}
	return s.exportSuppressions(c, f)
}

func cmpLimit(n int) int {
	if n <= 0 {
		return 100
	}
	return min(n, 1000)
}

type suppressionIn struct {
	Address    string `json:"address"`
	AccountRef string `json:"account_ref"`
	Reason     string `json:"reason"`
	// ExpiresIn is a Go duration or whole days ("30d"); "" holds until
	// the entry is removed.
	ExpiresIn string `json:"expires_in"`
	CaseRef   string `json:"case_ref"`
}

// apiAddSuppression is POST /api/v1/suppressions: 201 with the new entry,
// or 200 with the one already holding.
func (s *Server) apiAddSuppression(c echo.Context) error {
	var in suppressionIn
	if err := decodeJSON(c.Request().Body, &in); err != nil {
		return err
	}
	ttl, err := parseTTL(in.ExpiresIn)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	x, added, err := s.svc.AddSuppression(ctx, actor(c), cases.SuppressionInput{Address: in.Address,
		AccountRef: in.AccountRef, Reason: in.Reason, TTL: ttl, CaseRef: in.CaseRef})
	if err != nil {
		return err
	}
	refs, err := s.svc.SuppressionCaseRefs(ctx, []cases.Suppression{x})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	return c.JSON(status, toSuppressionJSON(x, refs))
}

// parseTTL reads a Go duration or whole days.
func parseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, cases.Errorf(cases.EINVALID, `expires_in must be a duration such as "720h" or "30d"`)
	}
	return d, nil
}

// apiRemoveSuppression is DELETE /api/v1/suppressions/{id}?reason=…: the
// account system takes an address off (it changed hands), saying why.
func (s *Server) apiRemoveSuppression(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return cases.Errorf(cases.ENOTFOUND, "no such suppression")
	}
	ctx := c.Request().Context()
	x, err := s.svc.RemoveSuppression(ctx, actor(c), id, c.QueryParam("reason"))
	if err != nil {
		return err
	}
	refs, err := s.svc.SuppressionCaseRefs(ctx, []cases.Suppression{x})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSuppressionJSON(x, refs))
}

// publicSuggest is GET /api/v1/suggest?address=…, the sign-up form's "did
// you mean …?": a typo suggestion and nothing else, for anyone, so it
// never looks at the suppression list. Browsers of the configured origins
// may call it across origins.
func (s *Server) publicSuggest(c echo.Context) error {
	addr := c.QueryParam("address")
	if len(addr) > 320 {
		return cases.Errorf(cases.EINVALID, "address is too long")
	}
	got, ok, err := s.svc.SuggestDomain(c.Request().Context(), addr)
	if err != nil {
		return err
	}
	// The words come along in the page's language (?lang=, else the
	// browser's), so that the form's script needs none of its own.
	out := struct {
		Suggestion *string `json:"suggestion"`
		Text       string  `json:"text,omitempty"` // "Did you mean …?"
		Use        string  `json:"use,omitempty"`  // the button that takes it
	}{}
	if ok {
		lang := s.pageLang(c)
		out.Suggestion, out.Text, out.Use = &got, staffText(lang, "suggest.text", got), staffText(lang, "suggest.use")
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=3600")
	h.Add("Vary", "Accept-Language")
	return c.JSON(http.StatusOK, out)
}

// suggestCORS lets the configured origins' pages call the public helper,
// and only them; a request from any other origin gets no CORS header, so
// its browser keeps the answer from the page.
func suggestCORS(origins []string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Add("Vary", "Origin")
			if o := c.Request().Header.Get("Origin"); o != "" && slices.Contains(origins, o) {
				h.Set("Access-Control-Allow-Origin", o)
				h.Set("Access-Control-Allow-Methods", "GET")
				h.Set("Access-Control-Max-Age", "3600")
			}
			if c.Request().Method == http.MethodOptions {
				return c.NoContent(http.StatusNoContent)
			}
			return next(c)
		}
	}
}
