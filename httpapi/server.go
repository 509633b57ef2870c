// Package httpapi is Latchkey's HTTP interface: the contract's routes, the
// problem+json error mapping, metrics, and the embedded web app.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/ssf"
	"github.com/latchkey/latchkey/verify"
)

// Config is everything the HTTP layer depends on. Of the store it takes
// only the parts its handlers use; one latchkey.Store fills them all.
type Config struct {
	Logger *slog.Logger
	Auth   *auth.Service
	// Feed serves the revocation feed (/ssf/*); nil: those routes are 404.
	Feed *ssf.Service
	// Users finds the user of GET /api/auth/me.
	Users UserFinder
	// Tasks keeps the tasks of the /api/{user_id}/tasks routes.
	Tasks latchkey.TaskService
	// Admin lists users and audit events for GET /api/admin/*.
	Admin AdminLister
	// Ready is pinged by GET /readyz.
	Ready Pinger
	// Verifier checks Latchkey's own access tokens.
	Verifier *verify.Verifier
	// Trusted, when set, also verifies access tokens of a trusted external
	// issuer (TrustedIssuer) on the task routes.
	Trusted       *verify.Verifier
	TrustedIssuer string
	// JWKS returns the current JSON Web Key Set document.
	JWKS func() []byte
	// Issuer is the configured issuer URL; its origin passes the CSRF check,
	// and its host is one that requests may name in Host.
	Issuer string
	// AllowedHosts are the other host names (or addresses, IPv6 with or
	// without brackets) that requests may name in Host, with any port or
	// none. On a connection that reached a loopback address, localhost,
	// 127.0.0.1 and [::1] may be named too, and on any connection the
	// address it reached. Any other Host is answered 421
	// (misdirected_request), but on /healthz and /readyz.
	AllowedHosts []string
	// TrustProxy takes the client address from X-Forwarded-For.
	TrustProxy bool
	// RequireMFAForAdmins refuses the admin routes to an admin token whose
	// sign-in used no second factor (LATCHKEY_REQUIRE_MFA_FOR_ADMINS).
	RequireMFAForAdmins bool
	// AuthRate is how many POSTs to /api/auth/* a client IP may make a
	// minute (a burst of as many); 0 turns the limit off.
	AuthRate int
	// Registry receives the HTTP metrics and is served at /metrics. A new
	// one is made when nil.
	Registry *prometheus.Registry
	// SeparateMetrics: the metrics have a listener of their own
	// (NewMetricsHandler), and this handler answers /metrics 404 as an
	// unknown path. Otherwise it serves them to loopback clients only,
	// judged by their real address (with TrustProxy, the forwarded one).
	SeparateMetrics bool
	// CORSOrigins are the browser origins (scheme://host[:port]) allowed to
	// call the API with an Authorization header, compared case-insensitively;
	// never with credentials. "*" and entries that are not origins are
	// ignored. None: no CORS header is sent.
	CORSOrigins []string
	// RequestTimeout, when set, bounds each request's context: a store
	// that does not answer in time (a database outage) then gets the
	// client a 503 problem+json instead of a hang.
	RequestTimeout time.Duration
}

// UserFinder finds a user by id; latchkey.UserService is one.
type UserFinder interface {
	// FindUserByID returns ENOTFOUND when there is no such user.
	FindUserByID(ctx context.Context, id string) (*latchkey.User, error)
}

// AdminLister is what the admin routes read: the lists of
// latchkey.AdminService and latchkey.AuditService.
type AdminLister interface {
	ListUsers(ctx context.Context, limit int, after *latchkey.Cursor) ([]*latchkey.User, *latchkey.Cursor, error)
	ListAudit(ctx context.Context, f latchkey.AuditFilter) ([]*latchkey.AuditEvent, *latchkey.Cursor, error)
}

// Pinger reports whether a store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// server holds the dependencies the handlers close over.
type server struct {
	Config
	issuerOrigin string
	metrics      *metrics
	authLimiter  *ipLimiter      // nil when AuthRate is 0
	corsOrigins  map[string]bool // normalized CORSOrigins
	hosts        map[string]bool // the issuer's host and AllowedHosts, normalized
}

// NewServer returns the whole HTTP API as one handler.
func NewServer(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &server{Config: cfg, metrics: newMetrics(cfg.Registry)}
	if cfg.Auth != nil && cfg.Auth.Audit != nil {
		registerAuditDrops(cfg.Registry, cfg.Auth.Audit.Dropped)
	}
	if cfg.Auth != nil && cfg.Auth.Hasher != nil {
		registerHashes(cfg.Registry, cfg.Auth.Hasher.Derived)
	}
	if cfg.AuthRate > 0 {
		s.authLimiter = newIPLimiter(cfg.AuthRate)
	}
	if u, err := url.Parse(cfg.Issuer); err == nil && u.Scheme != "" && u.Host != "" {
		s.issuerOrigin = strings.ToLower(u.Scheme + "://" + u.Host)
	}
	s.hosts = hostSet(cfg.Issuer, cfg.AllowedHosts)
	mux := http.NewServeMux()
	s.addRoutes(mux)
	s.corsOrigins = corsSet(cfg.CORSOrigins)
	var h http.Handler = s.refuseCrossSite(mux)
	if len(s.corsOrigins) > 0 {
		h = s.cors(h)
	}
	h = s.refuseMisdirected(h)
	h = securityHeaders(h)
	h = s.instrument(h)
	return h
}
