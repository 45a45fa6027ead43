package ui

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"notme/cases"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	reports  *prometheus.CounterVec
	handler  http.Handler
}

func newMetrics(reg *prometheus.Registry, extra ...prometheus.Collector) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notme_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "notme_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"method", "route"}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notme_reports_total", Help: "Reports filed by channel and match confidence.",
		}, []string{"channel", "match"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.reports,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, c := range extra {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every series exists from the start, so a dashboard's rate() has a
	// zero to start from rather than a gap.
	for _, ch := range []cases.Channel{cases.ChannelLink, cases.ChannelMail, cases.ChannelForm, cases.ChannelAPI} {
		for _, mt := range cases.Matches {
			m.reports.WithLabelValues(string(ch), string(mt))
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m, nil
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

func (m *metrics) reported(f cases.Filed) {
	m.reports.WithLabelValues(string(f.Report.Channel), string(f.Report.Match)).Inc()
}

// mailboxCollector reports each mailbox's health at scrape time, from the
// database, so that every instance shows the same numbers.
type mailboxCollector struct {
	s                        *Server
	up, lastSuccess, waiting *prometheus.Desc
	leaseUntil               *prometheus.Desc
}

func (s *Server) mailboxCollector() prometheus.Collector {
	l := []string{"mailbox"}
	return &mailboxCollector{s: s,
		up:          prometheus.NewDesc("notme_mailbox_up", "1 if the mailbox's last fetch succeeded.", l, nil),
		lastSuccess: prometheus.NewDesc("notme_mailbox_last_success_timestamp_seconds", "Time of the last successful fetch.", l, nil),
		waiting:     prometheus.NewDesc("notme_mailbox_waiting", "Messages left in the mailbox after the last round.", l, nil),
		leaseUntil: prometheus.NewDesc("notme_mailbox_lease_until_timestamp_seconds",
			"When the desk instance polling the mailbox must renew its lease by; in the past: nobody polls it.",
			[]string{"mailbox", "instance"}, nil),
	}
}

func (m *mailboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.up
	ch <- m.lastSuccess
	ch <- m.waiting
	ch <- m.leaseUntil
}

func (m *mailboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mbs, err := m.s.svc.Mailboxes(ctx)
	if err != nil {
		m.s.log.Warn("metrics: read mailboxes", "err", err)
		return
	}
	for _, b := range mbs {
		up := 1.0
		if b.LastError != "" {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, up, b.Name)
		if b.LastSuccess != nil {
			ch <- prometheus.MustNewConstMetric(m.lastSuccess, prometheus.GaugeValue, float64(b.LastSuccess.Unix()), b.Name)
		}
		ch <- prometheus.MustNewConstMetric(m.waiting, prometheus.GaugeValue, float64(b.Waiting), b.Name)
	}
	ls, err := m.s.svc.MailboxLeases(ctx)
	if err != nil {
		m.s.log.Warn("metrics: read mailbox leases", "err", err)
		return
	}
	for _, l := range ls {
		ch <- prometheus.MustNewConstMetric(m.leaseUntil, prometheus.GaugeValue, float64(l.LeaseUntil.Unix()), l.Name, l.Owner)
	}
}

// deadlineCollector reports the unmet SLA deadlines per kind and state at
// scrape time, judged by cases.Case.Deadlines like every page, so a
// deadline met on the case page is never counted overdue here.
type deadlineCollector struct {
	s     *Server
	count *prometheus.Desc
}

func (s *Server) deadlineCollector() prometheus.Collector {
	return &deadlineCollector{s: s, count: prometheus.NewDesc("notme_case_deadlines",
		"Unmet SLA deadlines of cases, by deadline (contain, resolve, assess) and state (pending, overdue).",
		[]string{"deadline", "state"}, nil)}
}

func (d *deadlineCollector) Describe(ch chan<- *prometheus.Desc) { ch <- d.count }

func (d *deadlineCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := d.s.svc.DeadlineCounts(ctx)
	if err != nil {
		d.s.log.Warn("metrics: count deadlines", "err", err)
		return
	}
	for _, c := range counts {
		ch <- prometheus.MustNewConstMetric(d.count, prometheus.GaugeValue, float64(c.N), c.Kind, string(c.State))
	}
}

// heldAckCollector counts the acknowledgements held back, by reason code
// (cases.AckHeldDomainLimit and the others), at scrape time from the
// database, so every instance shows the same numbers.
type heldAckCollector struct {
	s    *Server
	held *prometheus.Desc
}

func (s *Server) heldAckCollector() prometheus.Collector {
	return &heldAckCollector{s: s, held: prometheus.NewDesc("notme_acks_held_total",
		"Acknowledgements held back, never sent, by reason (domain_hourly_limit, sender_check, address_window, not_plausible).",
		[]string{"reason"}, nil)}
}

func (h *heldAckCollector) Describe(ch chan<- *prometheus.Desc) { ch <- h.held }

func (h *heldAckCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := h.s.svc.HeldAckCounts(ctx)
	if err != nil {
		h.s.log.Warn("metrics: count held acknowledgements", "err", err)
		return
	}
	for _, c := range counts {
		ch <- prometheus.MustNewConstMetric(h.held, prometheus.CounterValue, float64(c.N), c.Reason)
	}
}
