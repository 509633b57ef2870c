package httpapi_test

import (
	"bytes"
	"os"
	"path/filepath"
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

// TestRefreshTokensNotStored: the database files never hold a refresh
// token, only hashes.
func TestRefreshTokensNotStored(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	g2 := h.Grant(h.Refresh(g.RefreshToken), 200)
	files, _ := filepath.Glob(h.dbPath + "*")
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
