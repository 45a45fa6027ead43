package ui

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"notme/cases"
)

// caseConfirmMatch is POST /cases/{ref}/confirm-match: an agent confirms
// a probable match, which requests the kind's automatic containment.
func (s *Server) caseConfirmMatch(c echo.Context) error {
	got, err := s.svc.ConfirmMatch(c.Request().Context(), actor(c), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "confirmed", "#containment"))
}

// caseContainment is POST /cases/{ref}/containment: request one action
// (lock_account and contact_owner: leads and admins only, checked in cases).
// Locking the account and contacting the owner cannot be undone: they
// need confirm=yes.
func (s *Server) caseContainment(c echo.Context) error {
	if a := c.FormValue("action"); cases.LeadOnly(a) && !confirmed(c) {
		return s.refuseUnconfirmed(c, "confirm.request", []any{a, c.Param("ref")}, casePath(c)+"#containment")
	}
	got, err := s.svc.RequestContainment(c.Request().Context(), actor(c), c.Param("ref"), c.FormValue("action"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "containment", "#containment"))
}

// caseRetryDelivery is POST /cases/{ref}/deliveries/{id}/retry: send a
// dead letter again, with its idempotency key (audited).
func (s *Server) caseRetryDelivery(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	got, err := s.svc.RetryDelivery(c.Request().Context(), actor(c), c.Param("ref"), id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, doneURL(got.Ref, "retried", "#containment"))
}

// containmentView is the case page's containment section.
type containmentView struct {
	Actions []cases.ActionView
	// Requestable are the actions the viewer may still request.
	Requestable []string
	// CanConfirm: the case is a probable match the viewer may confirm.
	CanConfirm bool
}

func (s *Server) containmentOf(c echo.Context, d cases.CaseDetail) (containmentView, error) {
	var v containmentView
	var err error
	if v.Actions, err = s.svc.ContainmentOf(c.Request().Context(), actor(c), d.Case.ID); err != nil {
		return v, err
	}
	u := currentUser(c)
	if !d.Case.Status.Open() || u == nil {
		return v, nil
	}
	v.CanConfirm = d.Case.Match == cases.MatchProbable && d.Case.AccountRef != ""
	if d.Case.Match != cases.MatchExact {
		return v, nil
	}
	lead := u.Role == cases.RoleLead || u.Role == cases.RoleAdmin
	for _, a := range cases.Actions {
		done := slices.ContainsFunc(v.Actions, func(x cases.ActionView) bool { return x.Action == a })
		if !done && (lead || !cases.LeadOnly(a)) {
			v.Requestable = append(v.Requestable, a)
		}
	}
	return v, nil
}

// The API's view of containment: requested / delivered / confirmed per
// action, and the webhook's state.
type containmentJSON struct {
	Action       string      `json:"action"`
	State        string      `json:"state"` // requested, delivered, confirmed, failed
	RequestedAt  time.Time   `json:"requested_at"`
	DeliveredAt  *time.Time  `json:"delivered_at"`
	ConfirmedAt  *time.Time  `json:"confirmed_at"`
	ResultDetail string      `json:"result_detail,omitempty"`
	Webhook      webhookJSON `json:"webhook"`
}

type webhookJSON struct {
	DeliveryID string `json:"delivery_id"`
	State      string `json:"state"` // pending, delivered, dead
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error,omitempty"`
}

func toContainmentJSON(views []cases.ActionView) []containmentJSON {
	out := []containmentJSON{}
	for _, v := range views {
		out = append(out, containmentJSON{Action: v.Action, State: v.State, RequestedAt: v.RequestedAt,
			DeliveredAt: v.DeliveredAt, ConfirmedAt: v.ConfirmedAt, ResultDetail: v.ResultDetail,
			Webhook: webhookJSON{DeliveryID: v.Delivery.IdempotencyKey, State: v.Delivery.State,
				Attempts: v.Delivery.Attempts, LastError: v.Delivery.LastError}})
	}
	return out
}

type containmentIn struct {
	Results []struct {
		Action string `json:"action"`
		Status string `json:"status"`
		Detail string `json:"detail"`
	} `json:"results"`
}

type containmentOut struct {
	Ref         string            `json:"ref"`
	Status      cases.Status      `json:"status"`
	Containment []containmentJSON `json:"containment"`
}

// apiContainment is POST /api/v1/cases/{ref}/containment: the account
// system reports what it did. A request the desk cannot take as it is
// (bad JSON, an unknown action, one never requested) is a 400.
func (s *Server) apiContainment(c echo.Context) error {
	var in containmentIn
	err := decodeJSON(c.Request().Body, &in)
	var got cases.Case
	var views []cases.ActionView
	if err == nil {
		results := make([]cases.ContainmentResult, len(in.Results))
		for i, r := range in.Results {
			results[i] = cases.ContainmentResult{Action: r.Action, Status: r.Status, Detail: r.Detail}
		}
		got, views, err = s.svc.ConfirmContainment(c.Request().Context(), actor(c), c.Param("ref"), results)
	}
	if cases.ErrorCode(err) == cases.EINVALID {
		return echo.NewHTTPError(http.StatusBadRequest, cases.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, containmentOut{Ref: got.Ref, Status: got.Status, Containment: toContainmentJSON(views)})
}

// webhookCollector reports the webhook backlog at scrape time, from the
// database: dead letters and a growing queue are what to alert on.
type webhookCollector struct {
	s                 *Server
	backlog, oldestAt *prometheus.Desc
}

func (s *Server) webhookCollector() prometheus.Collector {
	return &webhookCollector{s: s,
		backlog: prometheus.NewDesc("notme_webhooks", "Containment webhooks not delivered, by state (pending, dead).",
			[]string{"state"}, nil),
		oldestAt: prometheus.NewDesc("notme_webhook_oldest_pending_timestamp_seconds",
			"When the oldest pending containment webhook was queued.", nil, nil),
	}
}

func (w *webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- w.backlog
	ch <- w.oldestAt
}

func (w *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := w.s.svc.WebhookBacklog(ctx)
	if err != nil {
		w.s.log.Warn("metrics: read webhook backlog", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(w.backlog, prometheus.GaugeValue, float64(b.Pending), cases.DeliveryPending)
	ch <- prometheus.MustNewConstMetric(w.backlog, prometheus.GaugeValue, float64(b.Dead), cases.DeliveryDead)
	if b.OldestPending != nil {
		ch <- prometheus.MustNewConstMetric(w.oldestAt, prometheus.GaugeValue, float64(b.OldestPending.Unix()))
	}
}
