package testkit

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Labeled names the answer in failure messages, for checks made in a loop.
func (r Response) Labeled(what string) Response {
	r.What = what + " (" + r.What + ")"
	return r
}

// JSON decodes the body as a JSON object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s: body %q is not a JSON object: %v", r.What, r.Body, err)
	}
	return m
}

// Decode unmarshals the body into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s: decode %d body %q: %v", r.What, r.Status, r.Body, err)
	}
}

// WantStatus fails the test unless the status is want.
func (r Response) WantStatus(t testing.TB, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d; body %s", r.What, r.Status, want, r.Body)
	}
}

// Problem checks that r is the contract's problem+json with status and
// code, and for a 401 the WWW-Authenticate challenge the contract asks
// for, and returns the document.
func (r Response) Problem(t testing.TB, status int, code string) map[string]any {
	t.Helper()
	r.WantStatus(t, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: Content-Type %q, want application/problem+json", r.What, ct)
	}
	m := r.JSON(t)
	if m["code"] != code || m["status"] != float64(status) || m["type"] != "about:blank" || m["title"] == "" {
		t.Fatalf("%s: problem = %v, want status %d code %q", r.What, m, status, code)
	}
	if status == http.StatusUnauthorized {
		wa := r.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(wa, `Bearer realm="latchkey"`) {
			t.Fatalf("%s: 401 with WWW-Authenticate %q, want a Bearer realm=\"latchkey\" challenge", r.What, wa)
		}
		// A token came and failed: error="invalid_token". No token came
		// (missing_token, wrong credentials): the bare challenge.
		tokenFailed := code == "invalid_token" || code == "token_expired" || code == "token_revoked"
		if tokenFailed != strings.Contains(wa, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q for code %s", r.What, wa, code)
		}
	}
	return m
}

// Grant checks that r is a complete token response with status, never to
// be cached, and returns it.
func (r Response) Grant(t testing.TB, status int) Grant {
	t.Helper()
	r.WantStatus(t, status)
	var g Grant
	r.Decode(t, &g)
	if g.AccessToken == "" || g.RefreshToken == "" || g.SessionID == "" || g.User.ID == "" || g.TokenType != "Bearer" {
		t.Fatalf("%s: incomplete token response %s", r.What, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", r.What, cc)
	}
	return g
}
