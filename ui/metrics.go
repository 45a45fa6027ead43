package ui

import (
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

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
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
