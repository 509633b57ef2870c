package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRefreshWithoutToken: a refresh with neither a body token nor the
// cookie lacks a field (400 validation_failed on refresh_token), while a
// sign-out with neither a Bearer nor a refresh token is a protected call
// without credentials (401 missing_token).
func TestRefreshWithoutToken(t *testing.T) {
	h := newHarness(t, options{})
	own := map[string]string{"Origin": h.URL}
	empty := &http.Cookie{Name: "latchkey_refresh", Value: ""}
	for _, r := range []req{
		{},
		{Body: `{}`},
		{Body: `{"refresh_token":""}`},
		{Body: `{"refresh_token":null}`},
		{Header: own},
		{Header: own, Cookie: empty},
		{Header: map[string]string{"Origin": h.URL, "Cookie": "other=1"}},
	} {
		r.Method, r.Path = "POST", "/api/auth/refresh"
		m := h.Do(r).Labeled("refresh with no token").Problem(t, 400, "validation_failed")
		errs, _ := m["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["field"] != "refresh_token" {
			t.Errorf("refresh with no token (body %v): errors = %v, want one naming refresh_token", r.Body, m["errors"])
		}
		r.Path = "/api/auth/signout"
		h.Do(r).Labeled("sign-out with no token").Problem(t, 401, "missing_token")
	}
}

// doCookies sends a POST to path with each of cookieHeaders as a Cookie
// header of its own (a client may send several), an Origin naming the
// server, and body, if any.
func (h *harness) doCookies(path, body string, cookieHeaders ...string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest("POST", h.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	r.Header.Set("Origin", h.URL)
	r.Header["Cookie"] = cookieHeaders
	resp, err := h.HTTP.Do(r)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b, What: "POST " + path + " with Cookie " + strings.Join(cookieHeaders, " | ")}
}

// refreshCookiesSet returns the refresh cookies r sets, by name.
func refreshCookiesSet(r response) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if strings.HasSuffix(c.Name, "latchkey_refresh") {
			out = append(out, c)
		}
	}
	return out
}

// TestRefreshCookieTossed: a page on a sibling subdomain can plant a second
// latchkey_refresh cookie (with a more specific path, the browser sends it
// first), so the victim's app would come up signed in to the attacker's
// account. A refresh or refresh-token sign-out carrying more than one is
// refused, 401 invalid_token, whatever the order, the headers or a token in
// the body; the answer clears the cookie at Path=/api/auth and at the
// request's path; nothing is rotated or revoked.
func TestRefreshCookieTossed(t *testing.T) {
	h := newHarness(t, options{grace: 0}) // any rotation would make the later refresh a reuse
	victim := h.signUp("victim@example.com")
	mallory := h.signUp("mallory@example.com")
	v, m := "latchkey_refresh="+victim.RefreshToken, "latchkey_refresh="+mallory.RefreshToken
	for _, path := range []string{"/api/auth/refresh", "/api/auth/signout"} {
		for _, tc := range []struct {
			name    string
			body    string
			cookies []string
		}{
			{"the planted one first", "", []string{m + "; " + v}},
			{"the planted one last", "", []string{v + "; " + m}},
			{"the same token twice", "", []string{v + "; " + v}},
			{"an empty one beside", "", []string{"latchkey_refresh=; " + v}},
			{"among other cookies", "", []string{"a=1; " + m + "; b=2; " + v}},
			{"in two Cookie headers", "", []string{m, v}},
			{"beside a body token", `{"refresh_token":"` + victim.RefreshToken + `"}`, []string{m + "; " + v}},
			{"beside a body token and a scope", `{"refresh_token":"` + victim.RefreshToken + `","scope":"global"}`, []string{m, v}},
		} {
			if path == "/api/auth/refresh" && strings.Contains(tc.body, "scope") {
				continue
			}
			r := h.doCookies(path, tc.body, tc.cookies...).Labeled(tc.name)
			r.Problem(t, 401, "invalid_token")
			paths := map[string]bool{}
			for _, c := range refreshCookiesSet(r) {
				if c.Name != "latchkey_refresh" || c.Value != "" || c.MaxAge >= 0 {
					t.Errorf("%s: sets %q, want only clearing latchkey_refresh", r.What, c.String())
				}
				paths[c.Path] = true
			}
			if !paths["/api/auth"] || !paths[path] {
				t.Errorf("%s: clears the cookie at %v, want /api/auth and %s among them", r.What, paths, path)
			}
		}
	}
	// Nothing was rotated or revoked: both tokens are still current.
	h.wantLive("the victim's", victim)
	h.wantLive("the planted", mallory)
	// One cookie is as before.
	h.Grant(h.doCookies("/api/auth/refresh", "", "a=1; latchkey_refresh="+h.signIn("victim@example.com", testPassword).RefreshToken), 200)
}

// TestSignOutBearerIgnoresCookies: a sign-out with a Bearer token reads no
// refresh token, so two cookies beside it do not stop it: refusing would
// leave the session alive.
func TestSignOutBearerIgnoresCookies(t *testing.T) {
	h := newHarness(t, options{})
	victim := h.signUp("victim@example.com")
	mallory := h.signUp("mallory@example.com")
	r := h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: victim.AccessToken,
		Header: map[string]string{"Origin": h.URL, "Cookie": "latchkey_refresh=" + mallory.RefreshToken + "; latchkey_refresh=" + victim.RefreshToken}})
	r.WantStatus(t, 204)
	h.Refresh(victim.RefreshToken).Problem(t, 401, "token_revoked")
	h.wantLive("the planted", mallory)
}

// TestRefreshCookieHostPrefix: over TLS the cookie is __Host-latchkey_refresh
// (Secure, Path=/, no Domain), which no other host can set; a plain
// latchkey_refresh cookie, which a sibling subdomain could plant, is not
// read at all.
func TestRefreshCookieHostPrefix(t *testing.T) {
	h := newHarness(t, options{tls: true, grace: 0})
	r := h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": "victim@example.com", "password": testPassword}})
	victim := h.Grant(r, 201)
	set := refreshCookiesSet(r)
	if len(set) != 1 || set[0].Name != "__Host-latchkey_refresh" || set[0].Value != victim.RefreshToken || set[0].Path != "/" ||
		set[0].Domain != "" || !set[0].Secure || !set[0].HttpOnly || set[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("over TLS the sign-up sets %q, want one __Host-latchkey_refresh; Path=/; Secure; HttpOnly; SameSite=Strict", r.Header.Values("Set-Cookie"))
	}
	mallory := h.signUp("mallory@example.com")
	host := "__Host-latchkey_refresh="
	planted := "latchkey_refresh=" + mallory.RefreshToken

	// The planted cookie alone is no token at all.
	h.doCookies("/api/auth/refresh", "", planted).Problem(t, 400, "validation_failed")
	h.doCookies("/api/auth/signout", "", planted).Problem(t, 401, "missing_token")
	// Beside the real one it is ignored: the victim's session refreshes.
	r = h.doCookies("/api/auth/refresh", "", planted+"; "+host+victim.RefreshToken)
	if g := h.Grant(r, 200); g.User.ID != victim.User.ID {
		t.Fatalf("refreshed into %s's account, want the victim's", g.User.Email)
	}
	next := refreshCookiesSet(r)
	if len(next) != 1 || next[0].Name != "__Host-latchkey_refresh" {
		t.Fatalf("refresh sets %q", r.Header.Values("Set-Cookie"))
	}
	// Two __Host- cookies (which browsers should never hold) are refused
	// all the same, and the one cookie there can be is cleared.
	r = h.doCookies("/api/auth/refresh", "", host+mallory.RefreshToken, host+next[0].Value)
	r.Problem(t, 401, "invalid_token")
	if c := refreshCookiesSet(r); len(c) != 1 || c[0].Name != "__Host-latchkey_refresh" || c[0].Path != "/" || c[0].MaxAge >= 0 || !c[0].Secure {
		t.Errorf("refusal sets %q, want __Host-latchkey_refresh cleared at Path=/", r.Header.Values("Set-Cookie"))
	}
	h.wantLive("the planted", mallory)
	// Sign-out by the cookie clears it at Path=/.
	r = h.doCookies("/api/auth/signout", "", host+next[0].Value)
	r.WantStatus(t, 204)
	if c := refreshCookiesSet(r); len(c) != 1 || c[0].Name != "__Host-latchkey_refresh" || c[0].Path != "/" || c[0].MaxAge >= 0 {
		t.Errorf("sign-out sets %q, want __Host-latchkey_refresh cleared at Path=/", r.Header.Values("Set-Cookie"))
	}
}
