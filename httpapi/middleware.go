package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/verify"
)

// requireToken lets a request through only with a valid, unrevoked access
// token; verify answers the contract's 401 otherwise.
func (s *server) requireToken(next http.Handler) http.Handler {
	return verify.Middleware(s.Verifier, verify.MiddlewareOptions{
		Realm:   realm,
		OnError: s.onTokenError,
	})(next)
}

// onTokenError counts and audits a refused access token.
func (s *server) onTokenError(r *http.Request, err *verify.Error) {
	s.metrics.rejections.WithLabelValues(err.Reason).Inc()
	if err.Reason != verify.ReasonMissing {
		s.Auth.Record(latchkey.AuditTokenRejected, s.client(r), "", "", err.Reason)
	}
}

// requireOwner refuses a task route whose {user_id} is not the token's
// subject, admins included: a user's tasks are that user's alone. The 403
// is verify's, so the rule exists once.
func requireOwner(next http.Handler) http.Handler {
	return verify.RequireSubject("user_id")(next)
}

// requireAdmin lets only tokens with role admin through, with verify's 403.
// A role change revokes the user's sessions, so the claim is never stale
// for long.
func requireAdmin(next http.Handler) http.Handler {
	return verify.RequireRole(string(latchkey.RoleAdmin))(next)
}

// requireAdminMFA, with Config.RequireMFAForAdmins, refuses an admin token
// whose sign-in used no second factor ("mfa" not in amr): 403
// mfa_required.
func (s *server) requireAdminMFA(next http.Handler) http.Handler {
	if !s.RequireMFAForAdmins {
		return next
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if !claims(r).HasMFA() {
			return latchkey.Errorf(latchkey.EADMINMFA, "admin routes need a sign-in with a second factor")
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// claims returns the verified claims put in the context by requireToken.
func claims(r *http.Request) *verify.Claims {
	c, _ := verify.ClaimsFromContext(r.Context())
	return c
}

// clientIP is the peer address, or with TrustProxy the right-most
// X-Forwarded-For entry: the address the trusted proxy itself saw. An
// entry that names no address is the client's key as it is written
// (forwardedText), never the proxy's address: that would put every client
// behind the proxy in one rate-limit bucket.
func (s *server) clientIP(r *http.Request) string {
	if s.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			last = strings.TrimSpace(last)
			if a, ok := parseClientAddr(last); ok {
				return a.String()
			}
			return forwardedText(last)
		}
	}
	if a, ok := parseClientAddr(r.RemoteAddr); ok {
		return a.String()
	}
	return r.RemoteAddr
}

// parseClientAddr reads an address as a proxy may forward it, or as the
// peer address is written: bare (192.0.2.1, 2001:db8::1), in brackets
// ([2001:db8::1]), or with a port (192.0.2.1:443, [2001:db8::1]:443). A
// zone (fe80::1%eth0) is dropped, and an IPv4-mapped address is the IPv4
// one, so that each client has one spelling.
func parseClientAddr(v string) (netip.Addr, bool) {
	// netip reads a bare address with any zone ("::%]" is :: in zone "]").
	if a, err := netip.ParseAddr(v); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if i := strings.IndexByte(v, '%'); i >= 0 {
		// The zone ends at the closing bracket, or with the entry.
		end := strings.IndexByte(v[i:], ']')
		if end < 0 {
			end = len(v) - i
		}
		v = v[:i] + v[i+end:]
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		if ap, perr := netip.ParseAddrPort(v); perr == nil {
			a, err = ap.Addr(), nil
		} else if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
			a, err = netip.ParseAddr(v[1 : len(v)-1])
		}
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// maxForwardedText bounds a forwarded entry kept as text: it is a map key
// of the rate limiter and is stored with sessions and audit events.
const maxForwardedText = 64

// forwardedText is the key of a forwarded entry that names no address
// ("unknown", an obfuscated identifier): its first 64 bytes, each byte that
// is not printable ASCII replaced by '?', so that it is safe to store,
// log and print. An empty entry is "unknown".
func forwardedText(v string) string {
	if v == "" {
		return "unknown"
	}
	b := []byte(v[:min(len(v), maxForwardedText)])
	for i, c := range b {
		if c <= ' ' || c >= 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

func (s *server) client(r *http.Request) auth.Client {
	return auth.Client{IP: s.clientIP(r), UserAgent: r.UserAgent()}
}

// securityHeaders sets the headers every response carries, and HSTS on
// responses served over TLS.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// refuseCrossSite answers 403 to a state-changing request that a browser
// sent from another site. Browsers always send Origin on such requests, and
// a page elsewhere can POST a form (text/plain, no preflight) whose body
// parses as JSON: without this, it could sign a victim's browser into the
// attacker's account (login CSRF) or sign it out. Clients that are not
// browsers send no Origin and are not affected. A configured CORS origin
// passes, whatever Sec-Fetch-Site says; it does not pass the cookie's own
// Origin check (refreshToken), which only our own origin does.
func (s *server) refuseCrossSite(next http.Handler) http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			origin := r.Header.Get("Origin")
			if s.corsAllowed(origin) {
				break
			}
			if (origin != "" && !s.ownOrigin(r, origin)) || strings.EqualFold(r.Header.Get("Sec-Fetch-Site"), "cross-site") {
				return latchkey.Errorf(latchkey.EFORBIDDEN, "cross-site request refused")
			}
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts and times every request by route pattern and status,
// and logs it. Only the path is logged, never the query string, which is
// where a careless client puts a token. It also gives the request its
// RequestTimeout: here, because the route is read back from the request
// the mux saw.
func (s *server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if s.RequestTimeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), s.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				if sw.status == 0 {
					writeError(sw, r, s.Logger, latchkey.Errorf(latchkey.EINTERNAL, "internal error"))
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			s.metrics.observe(route, status, d)
			level := slog.LevelDebug
			switch {
			case status == http.StatusServiceUnavailable:
				level = slog.LevelWarn // load shed or a store outage, answered as designed
			case status >= 500:
				level = slog.LevelError
			}
			s.Logger.Log(r.Context(), level, "request", "method", r.Method, "route", route, "path", r.URL.Path, "status", status, "duration", d)
		}()
		next.ServeHTTP(sw, r)
	})
}
