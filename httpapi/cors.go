package httpapi

import (
	"net/http"
	"net/url"
	"strings"
)

// CORS answers. Credentials are never allowed: a front end on another
// origin keeps the refresh token from the body and sends the access token
// as a Bearer; the HttpOnly SameSite=Strict refresh cookie stays with pages
// of our own origin.
const (
	corsMethods = "GET, POST, PUT, PATCH, DELETE"
	corsHeaders = "Authorization, Content-Type"
	corsExpose  = "Location, Retry-After, WWW-Authenticate"
	corsMaxAge  = "600" // seconds a browser may cache a preflight answer
)

// normalizeOrigin returns origin as lower-case scheme://host[:port], with
// the scheme's default port dropped, or "" when origin is not a serialized
// origin (a path, query, fragment or user info, no scheme or host, "null").
func normalizeOrigin(origin string) string {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return scheme + "://" + host
}

// corsSet is the configured origins, normalized; "*" and anything that is
// not an origin are left out, so no wildcard is ever honoured.
func corsSet(origins []string) map[string]bool {
	set := make(map[string]bool, len(origins))
	for _, o := range origins {
		if n := normalizeOrigin(strings.TrimSpace(o)); n != "" {
			set[n] = true
		}
	}
	return set
}

// corsAllowed reports whether origin is one of the configured CORS origins.
func (s *server) corsAllowed(origin string) bool {
	if origin == "" || len(s.corsOrigins) == 0 {
		return false
	}
	n := normalizeOrigin(origin)
	return n != "" && s.corsOrigins[n]
}

// cors lets the configured origins call the API from a browser. A request
// whose Origin is one of them gets Access-Control-Allow-Origin naming that
// origin (never "*") and no Access-Control-Allow-Credentials; a preflight
// from one (OPTIONS with Access-Control-Request-Method) is answered 204
// here, before routing. Any other origin gets no Access-Control-* header:
// its preflight goes on to the router like any OPTIONS request. With
// origins configured every answer varies by Origin, so that no cache
// serves one origin's answer to another. With none, cors is not installed.
func (s *server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if !s.corsAllowed(origin) {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			r.Pattern = "CORS preflight" // the route label in metrics and logs
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExpose)
		next.ServeHTTP(w, r)
	})
}
