package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func (h *harness) signInStatus(email, pw string) response {
	h.t.Helper()
	return h.do(req{method: "POST", path: "/api/auth/signin", body: map[string]string{"email": email, "password": pw}})
}

func retryAfter(t *testing.T, r response, max time.Duration) {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 || time.Duration(n)*time.Second > max {
		t.Fatalf("Retry-After = %q, want 1..%v seconds", r.header.Get("Retry-After"), max)
	}
}

// TestAccountThrottle: ten failures for one email within 15 minutes, and
// the eleventh attempt is refused even with the right password; unknown
// emails are counted alike; the window passing lifts it.
func TestAccountThrottle(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	for i := range 10 {
		h.signInStatus("ada@example.com", "wrong password "+strconv.Itoa(i)).problem(t, 401, "invalid_credentials")
		h.clock.Advance(time.Second)
	}
	r := h.signInStatus("ADA@example.com", testPassword)
	r.problem(t, 429, "rate_limited")
	retryAfter(t, r, 15*time.Minute)

	// Unknown emails behave the same, so the throttle tells nothing.
	for range 10 {
		h.signInStatus("nobody@example.com", "wrong password").problem(t, 401, "invalid_credentials")
	}
	h.signInStatus("nobody@example.com", "wrong password").problem(t, 429, "rate_limited")

	// Another account is not affected.
	h.signUp("bob@example.com")
	h.signIn("bob@example.com", testPassword)

	// Fifteen minutes after the oldest failure, the right password works
	// and the count starts afresh.
	h.clock.Advance(15 * time.Minute)
	h.signIn("ada@example.com", testPassword)
	for range 9 {
		h.signInStatus("ada@example.com", "wrong password").problem(t, 401, "invalid_credentials")
	}
	h.signIn("ada@example.com", testPassword)
}

// TestIPRateLimit: LATCHKEY_AUTH_RATE POSTs to /api/auth/* a minute per
// client address, then 429 with Retry-After; other routes are not counted.
func TestIPRateLimit(t *testing.T) {
	h := newHarness(t, options{rate: 3})
	g := h.signUp("ada@example.com")
	h.refresh(g.RefreshToken)
	if r := h.signInStatus("ada@example.com", "wrong password"); r.status != http.StatusUnauthorized {
		t.Fatalf("third POST: %d", r.status)
	}
	r := h.signInStatus("ada@example.com", testPassword)
	r.problem(t, 429, "rate_limited")
	retryAfter(t, r, time.Minute)
	h.do(req{method: "POST", path: "/api/auth/refresh", body: map[string]string{"refresh_token": g.RefreshToken}}).problem(t, 429, "rate_limited")
	if r := h.do(req{method: "GET", path: "/api/auth/me", bearer: g.AccessToken}); r.status != 200 {
		t.Fatalf("GET counted against the auth limit: %d", r.status)
	}
}
