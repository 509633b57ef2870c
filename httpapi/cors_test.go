package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

const corsOrigin = "https://app.example"

// corsHeaders returns the Access-Control-* headers of an answer.
func corsHeaders(h http.Header) map[string][]string {
	out := map[string][]string{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = v
		}
	}
	return out
}

// varies reports whether the answer's Vary names Origin.
func varies(h http.Header) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Origin") {
				return true
			}
		}
	}
	return false
}

// TestCORSAllowedOrigin: a configured origin may read answers to requests
// it makes with a Bearer token, state-changing ones included: it gets its
// own origin back (never "*"), Vary: Origin, and never credentials.
// Matching ignores case and a default port.
func TestCORSAllowedOrigin(t *testing.T) {
	h := newHarness(t, options{cors: []string{"https://other.example", "HTTPS://App.Example:443"}})
	g := h.signUp("ada@example.com")
	origin := map[string]string{"Origin": corsOrigin, "Sec-Fetch-Site": "cross-site"}
	check := func(what string, r response, status int) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
		}
		if got := r.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != corsOrigin {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", what, got, corsOrigin)
		}
		if !varies(r.Header) {
			t.Errorf("%s: Vary %q lacks Origin", what, r.Header.Values("Vary"))
		}
		if v := r.Header.Values("Access-Control-Allow-Credentials"); len(v) > 0 {
			t.Errorf("%s: Access-Control-Allow-Credentials %q", what, v)
		}
		if e := r.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(e, "WWW-Authenticate") || !strings.Contains(e, "Retry-After") {
			t.Errorf("%s: Access-Control-Expose-Headers %q", what, e)
		}
	}
	check("GET /api/auth/me", h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken, Header: origin}), 200)
	path := "/api/" + g.User.ID + "/tasks"
	check("POST tasks", h.Do(req{Method: "POST", Path: path, Bearer: g.AccessToken, Header: origin,
		Body: map[string]string{"title": "from the front end"}}), 201)
	check("GET tasks", h.Do(req{Method: "GET", Path: path, Bearer: g.AccessToken, Header: origin}), 200)
	check("401", h.Do(req{Method: "GET", Path: "/api/auth/me", Header: origin}), 401)
	// Sign-in and a refresh with the token in the body: how a front end
	// on another origin keeps its session.
	si := h.Do(req{Method: "POST", Path: "/api/auth/signin", Header: origin,
		Body: map[string]string{"email": "ada@example.com", "password": testPassword}})
	check("signin", si, 200)
	g2 := h.Grant(si, 200)
	check("refresh from the body", h.Do(req{Method: "POST", Path: "/api/auth/refresh", Header: origin,
		Body: map[string]string{"refresh_token": g2.RefreshToken}}), 200)
}

// TestCORSPreflight: a configured origin's preflight is answered 204 with
// the methods and headers the API uses, before routing (any path), with
// no body; a preflight from any other origin goes on to the router,
// which answers 404, with no CORS header.
func TestCORSPreflight(t *testing.T) {
	h := newHarness(t, options{cors: []string{corsOrigin}})
	for _, path := range []string{"/api/auth/me", "/api/u1/tasks/t1", "/api/auth/refresh", "/nowhere"} {
		r := h.Do(req{Method: "OPTIONS", Path: path, Header: map[string]string{
			"Origin": corsOrigin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,content-type"}})
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("preflight %s: %d %q, want 204 and no body", path, r.Status, r.Body)
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":  corsOrigin,
			"Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
			"Access-Control-Allow-Headers": "Authorization, Content-Type",
			"Access-Control-Max-Age":       "600",
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("preflight %s: %s = %q, want %q", path, k, got, want)
			}
		}
		if !varies(r.Header) {
			t.Errorf("preflight %s: no Vary: Origin", path)
		}
		if v := r.Header.Values("Access-Control-Allow-Credentials"); len(v) > 0 {
			t.Errorf("preflight %s: Access-Control-Allow-Credentials %q", path, v)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("preflight %s: no security headers", path)
		}
	}
	for _, origin := range []string{"https://evil.example", "https://app.example.evil.example", "http://app.example", "https://app.example:8443", "null"} {
		r := h.Do(req{Method: "OPTIONS", Path: "/api/auth/me", Header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}})
		r.Problem(t, 404, "not_found")
		if c := corsHeaders(r.Header); len(c) > 0 {
			t.Errorf("preflight from %s: CORS headers %v", origin, c)
		}
	}
	// An OPTIONS that is no preflight is routed like any other request.
	r := h.Do(req{Method: "OPTIONS", Path: "/api/auth/me", Header: map[string]string{"Origin": corsOrigin}})
	r.Problem(t, 404, "not_found")
	m := h.Do(req{Method: "GET", Path: "/metrics"})
	if want := `latchkey_http_requests_total{route="CORS preflight",status="204"} 4`; !strings.Contains(string(m.Body), want) {
		t.Errorf("metrics lack %s", want)
	}
}

// TestCORSOtherOrigins: with origins configured, any other origin gets no
// CORS header, and its state-changing requests are still refused 403.
func TestCORSOtherOrigins(t *testing.T) {
	h := newHarness(t, options{cors: []string{corsOrigin}})
	g := h.signUp("ada@example.com")
	path := "/api/" + g.User.ID + "/tasks"
	for _, origin := range []string{"https://evil.example", "https://app.example.evil.example", "http://app.example", "null"} {
		hdr := map[string]string{"Origin": origin}
		r := h.Do(req{Method: "GET", Path: path, Bearer: g.AccessToken, Header: hdr})
		if r.Status != 200 {
			t.Fatalf("GET from %s: %d", origin, r.Status)
		}
		if c := corsHeaders(r.Header); len(c) > 0 {
			t.Errorf("GET from %s: CORS headers %v", origin, c)
		}
		if !varies(r.Header) {
			t.Errorf("GET from %s: no Vary: Origin", origin)
		}
		for _, post := range []req{
			{Method: "POST", Path: path, Bearer: g.AccessToken, Header: hdr, Body: map[string]string{"title": "x"}},
			{Method: "POST", Path: "/api/auth/signin", Header: hdr, Body: map[string]string{"email": "ada@example.com", "password": testPassword}},
			{Method: "DELETE", Path: path + "/t1", Bearer: g.AccessToken, Header: hdr},
		} {
			r := h.Do(post)
			r.Problem(t, 403, "forbidden")
			if c := corsHeaders(r.Header); len(c) > 0 {
				t.Errorf("%s %s from %s: CORS headers %v", post.Method, post.Path, origin, c)
			}
		}
	}
}

// TestCORSNoWildcard: "*" in the configuration is ignored, never sent.
func TestCORSNoWildcard(t *testing.T) {
	h := newHarness(t, options{cors: []string{"*", "", "app.example", "https://app.example/path"}})
	g := h.signUp("ada@example.com")
	for _, origin := range []string{corsOrigin, "*", "https://evil.example"} {
		for _, r := range []req{
			{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken, Header: map[string]string{"Origin": origin}},
			{Method: "OPTIONS", Path: "/api/auth/me", Header: map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET"}},
		} {
			if c := corsHeaders(h.Do(r).Header); len(c) > 0 {
				t.Errorf("%s from %q: CORS headers %v", r.Method, origin, c)
			}
		}
	}
	// An allowed origin is echoed, never answered with "*".
	h = newHarness(t, options{cors: []string{corsOrigin}})
	g = h.signUp("ada@example.com")
	for _, r := range []req{
		{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken, Header: map[string]string{"Origin": corsOrigin}},
		{Method: "OPTIONS", Path: "/api/auth/me", Header: map[string]string{"Origin": corsOrigin, "Access-Control-Request-Method": "GET"}},
		{Method: "GET", Path: "/healthz", Header: map[string]string{"Origin": corsOrigin}},
	} {
		if v := h.Do(r).Header.Values("Access-Control-Allow-Origin"); len(v) != 1 || v[0] == "*" {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q", r.Method, r.Path, v)
		}
	}
}

// TestCORSCookieStillOwnOrigin: the refresh cookie's CSRF rule is not
// widened by CORS. A cookie refresh or sign-out from a configured origin
// is refused 403, and the session is untouched.
func TestCORSCookieStillOwnOrigin(t *testing.T) {
	h := newHarness(t, options{cors: []string{corsOrigin}})
	g := h.signUp("ada@example.com")
	cookie := &http.Cookie{Name: "latchkey_refresh", Value: g.RefreshToken}
	for _, site := range []string{"", "same-site", "cross-site"} {
		hdr := map[string]string{"Origin": corsOrigin}
		if site != "" {
			hdr["Sec-Fetch-Site"] = site
		}
		for _, path := range []string{"/api/auth/refresh", "/api/auth/signout"} {
			r := h.Do(req{Method: "POST", Path: path, Cookie: cookie, Header: hdr})
			r.Problem(t, 403, "forbidden")
			if r.Header.Get("Access-Control-Allow-Origin") != corsOrigin {
				t.Errorf("%s: the 403 is not readable by the front end", path)
			}
		}
	}
	// The token still works: nothing was rotated or revoked.
	h.Grant(h.Refresh(g.RefreshToken), 200)
}
