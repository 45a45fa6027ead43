package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// queuePage is the queue: filters with their counts, a search box and the
// cases, nearest deadline first.
type queuePage struct {
	page
	Cases   []cases.QueueCase
	Filters []filterSelect
	Kinds   map[string]cases.Kind
	// Filtered: some filter narrows the list, so an empty list says so.
	Filtered bool
	// Query is the search box; SearchBy what it matched; SearchError why
	// it could not be searched.
	Query       string
	SearchBy    []string
	SearchError string
	Empty       bool // "take next" found nothing
}

// filterSelect is one filter of the queue's GET form.
type filterSelect struct {
	Name, Label string
	Options     []filterOption
}

type filterOption struct {
	Value, Label string
	Count        int
	Selected     bool
}

// queueQuery is the filter part of the queue's URL, parsed.
type queueQuery struct {
	severity, status, match, escalated, assignee, kind string
}

func parseQueueQuery(c echo.Context) queueQuery {
	return queueQuery{severity: c.QueryParam("severity"), status: c.QueryParam("status"), match: c.QueryParam("match"),
		escalated: c.QueryParam("escalated"), assignee: c.QueryParam("assignee"), kind: c.QueryParam("kind")}
}

// filter turns the URL into a QueueFilter; a value it does not know means
// "any", so an old bookmark still opens.
func (q queueQuery) filter(me *cases.User) cases.QueueFilter {
	f := cases.QueueFilter{Kind: q.kind}
	if slices.Contains(cases.Severities, cases.Severity(q.severity)) {
		f.Severity = cases.Severity(q.severity)
	}
	if slices.Contains(cases.Matches, cases.Match(q.match)) {
		f.Match = cases.Match(q.match)
	}
	switch {
	case q.status == "all":
		f.Statuses = cases.Statuses
	case slices.Contains(cases.Statuses, cases.Status(q.status)):
		f.Statuses = []cases.Status{cases.Status(q.status)}
	}
	switch q.escalated {
	case "yes", "no":
		yes := q.escalated == "yes"
		f.Escalated = &yes
	}
	switch q.assignee {
	case "":
	case "none":
		f.Unassigned = true
	case "me":
		if me != nil {
			f.AssigneeID = &me.ID
		}
	default:
		if id, err := strconv.ParseInt(q.assignee, 10, 64); err == nil {
			f.AssigneeID = &id
		}
	}
	return f
}

func (q queueQuery) any() bool {
	return q != queueQuery{}
}

// queue is GET /queue: open cases, nearest deadline first; filters, their
// counts and an exact search, all in the URL so a view can be bookmarked.
func (s *Server) queue(c echo.Context) error {
	ctx := c.Request().Context()
	qq := parseQueueQuery(c)
	p := queuePage{page: s.pageT(c, "queue.title"), Kinds: map[string]cases.Kind{}, Filtered: qq.any(),
		Query: c.QueryParam("q"), Empty: c.QueryParam("empty") != ""}
	for _, k := range s.svc.Kinds() {
		p.Kinds[k.Name] = k
	}
	f := qq.filter(currentUser(c))
	facets, err := s.svc.QueueFacets(ctx, actor(c), f)
	if err != nil {
		return err
	}
	p.Filters = s.queueFilters(p.Lang, qq, facets, currentUser(c))
	if p.Query != "" {
		res, err := s.svc.FindCases(ctx, actor(c), p.Query)
		switch {
		case cases.ErrorCode(err) == cases.EINVALID:
			p.SearchError = domainError(p.Lang, err)
			return s.render(c, http.StatusUnprocessableEntity, "queue", p)
		case err != nil:
			return err
		case res.Ref != "":
			return c.Redirect(http.StatusSeeOther, "/cases/"+url.PathEscape(res.Ref))
		}
		p.Cases, p.SearchBy = res.Cases, res.By
		p.Title = staffText(p.Lang, "queue.search")
		return s.render(c, http.StatusOK, "queue", p)
	}
	if p.Cases, err = s.svc.Queue(ctx, actor(c), f); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "queue", p)
}

// queueFilters builds the filter selects with a count beside each value.
func (s *Server) queueFilters(lang string, q queueQuery, fc cases.QueueFacets, me *cases.User) []filterSelect {
	sum := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	T := func(key string) string { return staffText(lang, key) }
	v := func(value string) string { return staffValue(lang, value) }
	opt := func(value, label string, n int, current string) filterOption {
		return filterOption{Value: value, Label: label, Count: n, Selected: value == current}
	}
	sev := filterSelect{Name: "severity", Label: T("col.severity")}
	total := 0
	for _, n := range fc.Severity {
		total += n
	}
	sev.Options = append(sev.Options, opt("", T("f.any"), total, q.severity))
	for _, x := range cases.Severities {
		sev.Options = append(sev.Options, opt(string(x), v(string(x)), fc.Severity[x], q.severity))
	}

	st := filterSelect{Name: "status", Label: T("col.status")}
	all := 0
	for _, n := range fc.Status {
		all += n
	}
	st.Options = append(st.Options, opt("", T("f.open"), fc.Status[cases.StatusNew]+fc.Status[cases.StatusContained], q.status))
	for _, x := range cases.Statuses {
		st.Options = append(st.Options, opt(string(x), v(string(x)), fc.Status[x], q.status))
	}
	st.Options = append(st.Options, opt("all", T("f.all"), all, q.status))

	m := filterSelect{Name: "match", Label: T("col.match")}
	total = 0
	for _, n := range fc.Match {
		total += n
	}
	m.Options = append(m.Options, opt("", T("f.any"), total, q.match))
	for _, x := range cases.Matches {
		m.Options = append(m.Options, opt(string(x), v(string(x)), fc.Match[x], q.match))
	}

	esc := filterSelect{Name: "escalated", Label: T("f.escalated"), Options: []filterOption{
		opt("", T("f.any"), fc.Escalated[true]+fc.Escalated[false], q.escalated),
		opt("yes", T("escalated"), fc.Escalated[true], q.escalated),
		opt("no", T("f.notescalated"), fc.Escalated[false], q.escalated),
	}}

	as := filterSelect{Name: "assignee", Label: T("col.assignee")}
	total = 0
	for _, n := range fc.Assignee {
		total += n
	}
	as.Options = append(as.Options, opt("", T("f.anyone"), total, q.assignee))
	if me != nil {
		as.Options = append(as.Options, opt("me", T("f.me"), fc.Assignee[me.ID], q.assignee))
	}
	as.Options = append(as.Options, opt("none", T("nobody"), fc.Assignee[0], q.assignee))
	ids := make([]int64, 0, len(fc.Assignees))
	for id := range fc.Assignees {
		if me == nil || id != me.ID {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b int64) int { return strings.Compare(fc.Assignees[a], fc.Assignees[b]) })
	for _, id := range ids {
		as.Options = append(as.Options, opt(strconv.FormatInt(id, 10), fc.Assignees[id], fc.Assignee[id], q.assignee))
	}

	kd := filterSelect{Name: "kind", Label: T("col.kind")}
	kd.Options = append(kd.Options, opt("", T("f.any"), sum(fc.Kind), q.kind))
	for _, k := range s.svc.Kinds() {
		label := kindLabelOf(lang, k)
		if label == "" {
			label = k.Name
		}
		kd.Options = append(kd.Options, opt(k.Name, label, fc.Kind[k.Name], q.kind))
	}
	return []filterSelect{sev, st, m, esc, as, kd}
}
