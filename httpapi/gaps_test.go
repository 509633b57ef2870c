package httpapi_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenKindsDoNotMix (RFC 8725 §3.12): a refresh token is no access
// token, and an access token is no refresh token.
func TestTokenKindsDoNotMix(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.RefreshToken}).Problem(t, 401, "invalid_token")
	h.Refresh(g.AccessToken).Problem(t, 401, "invalid_token")
}

// TestNoCORSHeaders: with no origins configured, no answer, preflight or
// not, lets another origin read it.
func TestNoCORSHeaders(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	for _, r := range []req{
		{Method: "OPTIONS", Path: "/api/auth/me", Header: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}},
		{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken, Header: map[string]string{"Origin": "https://app.example"}},
	} {
		resp := h.Do(r)
		for k := range resp.Header {
			if len(k) > 13 && k[:13] == "Access-Contro" {
				t.Errorf("%s %s: CORS header %s: %v", r.Method, r.Path, k, resp.Header[k])
			}
		}
	}
}

// TestClientIPFromProxy: with TrustProxy the right-most X-Forwarded-For
// entry is the client (what the trusted proxy saw); without it the header
// is ignored, so a client cannot pick its own address.
func TestClientIPFromProxy(t *testing.T) {
	for _, tc := range []struct {
		proxy bool
		want  string
	}{{true, "203.0.113.7"}, {false, "127.0.0.1"}} {
		h := newHarness(t, options{proxy: tc.proxy})
		hdr := map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
		g := h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/signup", Header: hdr,
			Body: map[string]string{"email": "ada@example.com", "password": testPassword}}), 201)
		s := h.Do(req{Method: "GET", Path: "/api/auth/sessions", Bearer: g.AccessToken}).JSON(t)["sessions"].([]any)[0].(map[string]any)
		if s["ip"] != tc.want {
			t.Errorf("trust proxy %v: session ip %v, want %s", tc.proxy, s["ip"], tc.want)
		}
	}
}

// TestClientIPForwardedForms: the session list shows the address an
// X-Forwarded-For entry names, without its port or zone; an entry that is
// no address is shown as its text, cut to 64 bytes of printable ASCII.
func TestClientIPForwardedForms(t *testing.T) {
	h := newHarness(t, options{proxy: true})
	long := strings.Repeat("x", 300)
	for i, tc := range []struct{ xff, want string }{
		{"203.0.113.7:5678", "203.0.113.7"},
		{"198.51.100.1, [2001:db8::7]:443", "2001:db8::7"},
		{"[2001:db8::8]", "2001:db8::8"},
		{"fe80::1%eth0", "fe80::1"},
		{"[fe80::2%eth0]:80", "fe80::2"},
		{"::ffff:192.0.2.9", "192.0.2.9"},
		{" 192.0.2.10 ", "192.0.2.10"},
		{"unknown", "unknown"},
		{long, long[:64]},
		{"caf\xc3\xa9 b", "caf???b"},
	} {
		email := fmt.Sprintf("user%d@example.com", i)
		g := h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/signup", Header: map[string]string{"X-Forwarded-For": tc.xff},
			Body: map[string]string{"email": email, "password": testPassword}}), 201)
		s := h.Do(req{Method: "GET", Path: "/api/auth/sessions", Bearer: g.AccessToken}).JSON(t)["sessions"].([]any)[0].(map[string]any)
		if s["ip"] != tc.want {
			t.Errorf("X-Forwarded-For %q: session ip %q, want %q", tc.xff, s["ip"], tc.want)
		}
	}
}

// TestRefreshTokensNotStored: the database files never hold a refresh
// token, only hashes.
func TestRefreshTokensNotStored(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	g2 := h.Grant(h.Refresh(g.RefreshToken), 200)
	files, _ := filepath.Glob(h.sqliteFile() + "*")
	if len(files) == 0 {
		t.Fatal("no database files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{g.RefreshToken, g2.RefreshToken} {
			if bytes.Contains(b, []byte(tok)) {
				t.Fatalf("%s holds a refresh token", filepath.Base(f))
			}
		}
	}
}

// TestChangePasswordRefusesCommon: the common-password rule holds on a
// password change too.
func TestChangePasswordRefusesCommon(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	m := h.Do(req{Method: "POST", Path: "/api/auth/password", Bearer: g.AccessToken,
		Body: map[string]string{"current_password": testPassword, "new_password": "iloveyou123"}}).Problem(t, 400, "validation_failed")
	if f := m["errors"].([]any)[0].(map[string]any)["field"]; f != "new_password" {
		t.Fatalf("field = %v", f)
	}
}
