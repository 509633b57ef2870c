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
	return h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": email, "password": pw}})
}

func retryAfter(t *testing.T, r response, max time.Duration) {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 || time.Duration(n)*time.Second > max {
		t.Fatalf("Retry-After = %q, want 1..%v seconds", r.Header.Get("Retry-After"), max)
	}
}

// TestAccountThrottle: ten failures for one email within 15 minutes, and
// the eleventh attempt is refused even with the right password; unknown
// emails are counted alike; the window passing lifts it.
func TestAccountThrottle(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	for i := range 10 {
		h.signInStatus("ada@example.com", "wrong password "+strconv.Itoa(i)).Problem(t, 401, "invalid_credentials")
		h.clock.Advance(time.Second)
	}
	r := h.signInStatus("ADA@example.com", testPassword)
	r.Problem(t, 429, "rate_limited")
	retryAfter(t, r, 15*time.Minute)

	// Unknown emails behave the same, so the throttle tells nothing.
	for range 10 {
		h.signInStatus("nobody@example.com", "wrong password").Problem(t, 401, "invalid_credentials")
	}
	h.signInStatus("nobody@example.com", "wrong password").Problem(t, 429, "rate_limited")

	// Another account is not affected.
	h.signUp("bob@example.com")
	h.signIn("bob@example.com", testPassword)

	// Fifteen minutes after the oldest failure, the right password works
	// and the count starts afresh.
	h.clock.Advance(15 * time.Minute)
	h.signIn("ada@example.com", testPassword)
	for range 9 {
		h.signInStatus("ada@example.com", "wrong password").Problem(t, 401, "invalid_credentials")
	}
	h.signIn("ada@example.com", testPassword)
}

// TestIPRateLimit: LATCHKEY_AUTH_RATE POSTs to /api/auth/* a minute per
// client address, then 429 with Retry-After; other routes are not counted.
func TestIPRateLimit(t *testing.T) {
	h := newHarness(t, options{rate: 3})
	g := h.signUp("ada@example.com")
	h.Refresh(g.RefreshToken)
	if r := h.signInStatus("ada@example.com", "wrong password"); r.Status != http.StatusUnauthorized {
		t.Fatalf("third POST: %d", r.Status)
	}
	r := h.signInStatus("ada@example.com", testPassword)
	r.Problem(t, 429, "rate_limited")
	retryAfter(t, r, time.Minute)
	h.Do(req{Method: "POST", Path: "/api/auth/refresh", Body: map[string]string{"refresh_token": g.RefreshToken}}).Problem(t, 429, "rate_limited")
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken}); r.Status != 200 {
		t.Fatalf("GET counted against the auth limit: %d", r.Status)
	}
}

// TestIPRateLimitIPv6Prefix: IPv6 clients are limited by /64, since one
// host can pick any address in its /64; IPv4-mapped addresses count as the
// IPv4 address.
func TestIPRateLimitIPv6Prefix(t *testing.T) {
	h := newHarness(t, options{rate: 2, proxy: true})
	post := func(from string) response {
		return h.Do(req{Method: "POST", Path: "/api/auth/signin", Header: map[string]string{"X-Forwarded-For": from},
			Body: map[string]string{"email": "nobody@example.com", "password": "wrong password"}})
	}
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"} {
		if r := post(ip); r.Status != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", ip, r.Status, r.Body)
		}
	}
	post("2001:db8:1:2:abcd::9").Problem(t, 429, "rate_limited")
	if r := post("2001:db8:1:3::1"); r.Status != http.StatusUnauthorized {
		t.Fatalf("the next /64 was limited too: %d", r.Status)
	}
	for _, ip := range []string{"192.0.2.7", "::ffff:192.0.2.7"} {
		if r := post(ip); r.Status != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", ip, r.Status, r.Body)
		}
	}
	post("192.0.2.7").Problem(t, 429, "rate_limited")
}

// TestIPRateLimitForwardedForms: behind a trusted proxy, an
// X-Forwarded-For entry with a port or a zone names its address, so two
// clients so written get a bucket each rather than sharing the proxy's; an
// entry that is no address at all is keyed by its own text, never by the
// proxy's address.
func TestIPRateLimitForwardedForms(t *testing.T) {
	h := newHarness(t, options{rate: 1, proxy: true})
	n := 0
	post := func(xff string) response {
		n++ // a new email each time, clear of the per-account throttle
		r := req{Method: "POST", Path: "/api/auth/signin", Header: map[string]string{},
			Body: map[string]string{"email": "nobody" + strconv.Itoa(n) + "@example.com", "password": "wrong password"}}
		if xff != "" {
			r.Header["X-Forwarded-For"] = xff
		}
		return h.Do(r)
	}
	// The proxy's own bucket (a request without the header) is spent first:
	// nothing below may land in it.
	post("").Problem(t, 401, "invalid_credentials")
	post("").Problem(t, 429, "rate_limited")
	for _, tc := range []struct{ first, again string }{
		{"198.51.100.1:5678", "198.51.100.1:6000"},
		{"198.51.100.2:5678", "198.51.100.2"},
		{"10.0.0.9, [2001:db8:1::1]:80", "2001:db8:1::2"},
		{"[2001:db8:2::1]", "[2001:db8:2::1]:443"},
		{"fe80::1%eth0", "fe80::1"},
		{"[fe80:0:0:1::1%25eth0]:8080", "fe80:0:0:1::2"},
		{"127.0.0.2:9999", "127.0.0.2:1"},
		{"::1", "[::1]:80"},
		{"unknown", "unknown"},
		{"_hidden-client", "_hidden-client"},
	} {
		if r := post(tc.first); r.Status != http.StatusUnauthorized {
			t.Errorf("X-Forwarded-For %q: status %d, want 401 (a bucket of its own): %s", tc.first, r.Status, r.Body)
		}
		post(tc.again).Problem(t, 429, "rate_limited")
	}
}

// TestAccountThrottleConcurrent: guesses sent all at once cannot slip past
// the limit; at most ten are checked.
func TestAccountThrottleConcurrent(t *testing.T) {
	h := newHarness(t, options{})
	h.signUp("ada@example.com")
	const n = 30
	codes := make(chan int, n)
	for i := range n {
		go func() { codes <- h.signInStatus("ada@example.com", "wrong password "+strconv.Itoa(i)).Status }()
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
	h.signInStatus("ada@example.com", huge).Problem(t, 401, "invalid_credentials")
	h.signInStatus(strings.Repeat("a", 300)+"@example.com", testPassword).Problem(t, 401, "invalid_credentials")
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
		h.Do(req{Method: "POST", Path: "/api/auth/password", Bearer: g.AccessToken,
			Body: map[string]string{"current_password": "guess " + strconv.Itoa(i), "new_password": "a new long password"}}).Problem(t, 400, "validation_failed")
	}
	h.Do(req{Method: "POST", Path: "/api/auth/password", Bearer: g.AccessToken,
		Body: map[string]string{"current_password": testPassword, "new_password": "a new long password"}}).Problem(t, 429, "rate_limited")
	h.signInStatus("ada@example.com", testPassword).Problem(t, 429, "rate_limited")
}
