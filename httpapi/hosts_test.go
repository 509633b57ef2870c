package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testkit"
)

// evilHosts are Host headers a browser sends after DNS rebinding: the
// attacker's name, now resolving to this server's address.
var evilHosts = []string{"attacker.example", "attacker.example:8080", "ATTACKER.example", "localhost.attacker.example",
	"127.0.0.1.nip.io", "localhost:8080.attacker.example", "[::1].attacker.example", "[fe80::1]", "::1",
	"localhost.", "127.0.0.2", "0.0.0.0"}

// TestMisdirectedHost: on a loopback listener, a request naming any Host
// but the issuer's, a listed one, or localhost, 127.0.0.1 and [::1] is 421
// misdirected_request on every kind of route (API, web app, metrics,
// unknown paths, preflights); /healthz, /readyz and the JWKS answer
// whatever the Host, for load balancers, probes and resource servers.
func TestMisdirectedHost(t *testing.T) {
	h := newHarness(t, options{cors: []string{"https://app.example"}})
	g := h.signUp("ada@example.com")
	routes := []req{
		{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken},
		{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": testPassword}},
		{Method: "GET", Path: "/api/" + g.User.ID + "/tasks", Bearer: g.AccessToken},
		{Method: "GET", Path: "/"},
		{Method: "GET", Path: "/assets/app.js"},
		{Method: "GET", Path: "/metrics"},
		{Method: "GET", Path: "/openapi.yaml"},
		{Method: "GET", Path: "/no/such/path"},
		{Method: "HEAD", Path: "/openapi.yaml"},
		{Method: "OPTIONS", Path: "/api/auth/me", Header: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}},
	}
	for _, host := range evilHosts {
		for _, r := range routes {
			r.Host = host
			resp := h.Do(r)
			if r.Method == "HEAD" {
				if resp.Status != http.StatusMisdirectedRequest {
					t.Errorf("HEAD %s with Host %q: status %d, want 421", r.Path, host, resp.Status)
				}
				continue
			}
			resp.Problem(t, http.StatusMisdirectedRequest, "misdirected_request")
			if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Set-Cookie") != "" {
				t.Errorf("%s %s with Host %q: a 421 with CORS or a cookie: %v", r.Method, r.Path, host, resp.Header)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s with Host %q: the 421 lacks the security headers", r.Method, r.Path, host)
			}
		}
		for _, p := range []string{"/healthz", "/readyz", "/.well-known/jwks.json", "/api/auth/jwks"} {
			if r := h.Do(req{Method: "GET", Path: p, Host: host}); r.Status != http.StatusOK {
				t.Errorf("GET %s with Host %q: status %d, want 200 (for load balancers and resource servers)", p, host, r.Status)
			}
		}
	}

	// Every loopback spelling, with and without a port, in any case; and
	// the issuer's host (localhost:8080 in the tests).
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(h.URL, "http://"))
	for _, host := range []string{"localhost", "localhost:" + port, "LocalHost:8080", "127.0.0.1", "127.0.0.1:" + port,
		"127.0.0.1:1", "[::1]", "[::1]:" + port, "localhost:"} {
		h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken, Host: host}).WantStatus(t, http.StatusOK)
		h.Do(req{Method: "GET", Path: "/metrics", Host: host}).WantStatus(t, http.StatusOK)
		h.Do(req{Method: "GET", Path: "/", Host: host}).WantStatus(t, http.StatusOK)
	}
	// Refused requests are counted, under no route.
	if m := h.Do(req{Method: "GET", Path: "/metrics"}); !strings.Contains(string(m.Body), `latchkey_http_requests_total{route="unmatched",status="421"}`) {
		t.Errorf("metrics do not count the 421s:\n%s", m.Body)
	}
}

// TestMisdirectedHostRebinding: a page on attacker.example, whose name
// now resolves to 127.0.0.1, calls the server from the victim's browser.
// Its Origin matches its Host, so the CSRF check alone would let a cookie
// refresh through and hand the page the victim's tokens. The request is
// refused before any handler runs: nothing is rotated, signed up or
// audited.
func TestMisdirectedHostRebinding(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(h.URL, "http://"))
	evil := "attacker.example:" + port
	page := map[string]string{"Origin": "http://" + evil, "Sec-Fetch-Site": "same-origin"}
	cookie := &http.Cookie{Name: "latchkey_refresh", Value: g.RefreshToken}

	r := h.Do(req{Method: "POST", Path: "/api/auth/refresh", Host: evil, Header: page, Cookie: cookie})
	r.Problem(t, http.StatusMisdirectedRequest, "misdirected_request")
	if strings.Contains(string(r.Body), "access_token") || r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("the rebinding page got tokens: %s", r.Body)
	}
	h.Do(req{Method: "POST", Path: "/api/auth/signup", Host: evil, Header: page,
		Body: map[string]string{"email": "eve@example.com", "password": testPassword}}).Problem(t, http.StatusMisdirectedRequest, "misdirected_request")
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Host: evil, Header: page, Cookie: cookie}).Problem(t, http.StatusMisdirectedRequest, "misdirected_request")
	h.Do(req{Method: "GET", Path: "/api/auth/sessions", Host: evil, Bearer: g.AccessToken}).Problem(t, http.StatusMisdirectedRequest, "misdirected_request")

	// Nothing happened: the refresh token was not rotated (strict mode
	// would call a second use reuse), the email is free, and the audit
	// log holds only the sign-up.
	h.Grant(h.Refresh(g.RefreshToken), http.StatusOK)
	h.SignUp("eve@example.com", testPassword, "")
	events, _, err := h.store.ListAudit(context.Background(), latchkey.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type != "signup" && e.Type != "refresh" && e.Type != "email_verification_sent" {
			t.Errorf("audit event %s after refused requests", e.Type)
		}
	}
	// The same page on the server's own name passes.
	own := map[string]string{"Origin": "http://127.0.0.1:" + port}
	g2 := h.signIn("ada@example.com", testPassword)
	h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/refresh", Header: own,
		Cookie: &http.Cookie{Name: "latchkey_refresh", Value: g2.RefreshToken}}), http.StatusOK)
}

// TestMisdirectedHostIPv6Loopback: a listener on [::1] answers [::1],
// localhost and 127.0.0.1 (as named), and refuses other names.
func TestMisdirectedHostIPv6Loopback(t *testing.T) {
	h := newHarness(t, options{})
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.App.Serve(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-served:
		case <-time.After(20 * time.Second):
			t.Error("the [::1] listener did not stop")
		}
	})
	c := testkit.NewClient(t, "http://"+ln.Addr().String(), nil)
	port := ln.Addr().(*net.TCPAddr).Port
	for _, host := range []string{"", "[::1]", "[0:0:0:0:0:0:0:1]:80", "localhost", "127.0.0.1:" + strconv.Itoa(port)} {
		c.Do(req{Method: "GET", Path: "/openapi.yaml", Host: host}).WantStatus(t, http.StatusOK)
	}
	for _, host := range []string{"attacker.example", "[::2]", "[::1]x"} {
		c.Do(req{Method: "GET", Path: "/openapi.yaml", Host: host}).Problem(t, http.StatusMisdirectedRequest, "misdirected_request")
	}
}

// TestMisdirectedHostNotLoopback: on a connection that did not arrive on a
// loopback address, the loopback names are refused too; the issuer's host,
// the LATCHKEY_ALLOWED_HOSTS names and the address the connection reached
// (10.0.0.9 here) pass, each with any port or none.
func TestMisdirectedHostNotLoopback(t *testing.T) {
	h := newHarness(t, options{allowedHosts: []string{"auth.example.com", "[2001:db8::5]", "10.0.0.5"}})
	handler := h.App.Handler()
	call := func(host string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/openapi.yaml", nil)
		r.Host = host
		// What net/http puts in every request's context: the address the
		// connection reached, here a LAN address.
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 9), Port: 8080}))
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		return w
	}
	for _, host := range []string{"localhost:8080", "localhost", "auth.example.com", "AUTH.EXAMPLE.COM:443", "auth.example.com:8443",
		"[2001:db8::5]", "[2001:db8::5]:80", "10.0.0.5", "10.0.0.5:8080", "10.0.0.9", "10.0.0.9:80", "[::ffff:10.0.0.9]"} {
		if w := call(host); w.Code != http.StatusOK {
			t.Errorf("Host %q: status %d, want 200: %s", host, w.Code, w.Body)
		}
	}
	for _, host := range append([]string{"127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:8080", "www.auth.example.com",
		"auth.example.com.attacker.example", "auth.example.com:x", "2001:db8::5", "[10.0.0.5]", "10.0.0.7", "10.0.0.9.nip.io", ""}, evilHosts...) {
		if w := call(host); w.Code != http.StatusMisdirectedRequest || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("Host %q: status %d %s, want 421 problem+json", host, w.Code, w.Header().Get("Content-Type"))
		}
	}
}
