package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

// handleMetrics serves the metrics on the API's listener to clients on
// this machine only, and to nobody when they have a listener of their own.
// Anyone else gets the 404 of an unknown path: a 403 would tell a scanner
// that the route exists and that looking local might open it.
func (s *server) handleMetrics() http.Handler {
	serve := promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
	notFound := s.handleNotFound()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.SeparateMetrics || !s.loopbackClient(r) {
			notFound.ServeHTTP(w, r)
			return
		}
		serve.ServeHTTP(w, r)
	})
}

// loopbackClient reports whether r comes from this machine, judged by the
// client's real address: with TrustProxy the forwarded one, so that a
// request the proxy on this host relays for someone else is not, and
// neither is one without X-Forwarded-For, since with TrustProxy every
// request is meant to come through the proxy.
func (s *server) loopbackClient(r *http.Request) bool {
	if s.TrustProxy && len(r.Header.Values("X-Forwarded-For")) == 0 {
		return false
	}
	a, err := netip.ParseAddr(s.clientIP(r))
	return err == nil && a.IsLoopback()
}

// NewMetricsHandler serves GET /metrics from cfg.Registry to whoever
// reaches it, for a listener of its own (Config.SeparateMetrics); every
// other request is a 404 problem+json. It checks Host as NewServer does
// (cfg.Issuer, cfg.AllowedHosts): after DNS rebinding, a page could
// otherwise read the metrics of a listener on an internal address.
// Requests to it are not counted in the metrics.
func NewMetricsHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &server{Config: cfg, hosts: hostSet(cfg.Issuer, cfg.AllowedHosts)}
	m := http.NewServeMux()
	m.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	m.Handle("/", s.handleNotFound())
	return securityHeaders(s.refuseMisdirected(m))
}
