package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	requests   *prometheus.CounterVec
	durations  *prometheus.HistogramVec
	rejections *prometheus.CounterVec
}

// registerAuditDrops exposes how many audit events the full queue dropped.
func registerAuditDrops(reg *prometheus.Registry, dropped func() int64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "latchkey_audit_events_dropped_total",
		Help: "Audit events without a change (failed sign-ins, rejected tokens) dropped because the write queue was full.",
	}, func() float64 { return float64(dropped()) }))
}

// registerHashes exposes how many argon2id derivations ran, so that a load
// test can set sign-ins per second beside hashes per second.
func registerHashes(reg *prometheus.Registry, derived func() uint64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "latchkey_password_hashes_total",
		Help: "Argon2id derivations run: password hashes, checks and the dummy checks of unknown emails.",
	}, func() float64 { return float64(derived()) }))
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_http_requests_total",
			Help: "HTTP requests by route pattern (which includes the method) and status.",
		}, []string{"route", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "latchkey_http_request_duration_seconds",
			Help:    "HTTP request durations by route pattern and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_token_rejections_total",
			Help: "Access tokens refused, by reason.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.durations, m.rejections,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.durations.WithLabelValues(route, code).Observe(d.Seconds())
}
