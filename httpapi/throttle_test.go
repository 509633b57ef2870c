package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
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

// TestIPRateLimitIPv6Prefix: IPv6 clients are limited by /64, since one
// host can pick any address in its /64; IPv4-mapped addresses count as the
// IPv4 address.
func TestIPRateLimitIPv6Prefix(t *testing.T) {
	h := newHarness(t, options{rate: 2, proxy: true})
	post := func(from string) response {
		return h.do(req{method: "POST", path: "/api/auth/signin", header: map[string]string{"X-Forwarded-For": from},
			body: map[string]string{"email": "nobody@example.com", "password": "wrong password"}})
	}
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"} {
		if r := post(ip); r.status != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", ip, r.status, r.body)
		}
	}
	post("2001:db8:1:2:abcd::9").problem(t, 429, "rate_limited")
	if r := post("2001:db8:1:3::1"); r.status != http.StatusUnauthorized {
		t.Fatalf("the next /64 was limited too: %d", r.status)
	}
	for _, ip := range []string{"192.0.2.7", "::ffff:192.0.2.7"} {
		if r := post(ip); r.status != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", ip, r.status, r.body)
		}
	}
	post("192.0.2.7").problem(t, 429, "rate_limited")
}

// TestAccountThrottleConcurrent: guesses sent all at once cannot slip past
// the limit; at most ten are checked.
func TestAccountThrottleConcurrent(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	const n = 30
	codes := make(chan int, n)
	for i := range n {
		go func() { codes <- h.signInStatus("ada@example.com", "wrong password "+strconv.Itoa(i)).status }()
	}
	checked := 0
	for range n {
		switch c := <-codes; c {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("status %d", c)
		}
	}
	if checked > 10 {
		t.Fatalf("%d of %d concurrent guesses were checked, want at most 10", checked, n)
	}
}

// TestOverlongCredentials: an email or password no account can have is
// refused without lookup or hashing, and still counts as an attempt.
func TestOverlongCredentials(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	huge := strings.Repeat("\ufdfa", 100_000) // 300 KB; NFKC would make it 5 MB
	start := time.Now()
	h.signInStatus("ada@example.com", huge).problem(t, 401, "invalid_credentials")
	h.signInStatus(strings.Repeat("a", 300)+"@example.com", testPassword).problem(t, 401, "invalid_credentials")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("overlong credentials took %v", d)
	}
}

// TestChangePasswordThrottled: the current-password check shares the
// account's throttle, so a stolen session cannot brute-force the password.
func TestChangePasswordThrottled(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	for i := range 10 {
		h.do(req{method: "POST", path: "/api/auth/password", bearer: g.AccessToken,
			body: map[string]string{"current_password": "guess " + strconv.Itoa(i), "new_password": "a new long password"}}).problem(t, 400, "validation_failed")
	}
	h.do(req{method: "POST", path: "/api/auth/password", bearer: g.AccessToken,
		body: map[string]string{"current_password": testPassword, "new_password": "a new long password"}}).problem(t, 429, "rate_limited")
	h.signInStatus("ada@example.com", testPassword).problem(t, 429, "rate_limited")
}
