package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSignUp(t *testing.T) {
	h := newHarness(t, options{})
	r := h.Do(req{Method: "POST", Path: "/api/auth/signup",
		Body: map[string]string{"email": "Ada@Example.com", "password": testPassword, "name": "Ada"}})
	g := h.Grant(r, http.StatusCreated)
	if g.User.ID == "" || g.User.Email != "Ada@Example.com" || g.User.Name != "Ada" || g.User.Role != "user" || g.User.CreatedAt.IsZero() {
		t.Errorf("user = %+v", g.User)
	}
	if g.AccessToken == "" || g.TokenType != "Bearer" || g.ExpiresIn != 900 {
		t.Errorf("access token fields: %+v", g)
	}
	if len(g.RefreshToken) < 43 || g.RefreshExpiresIn != 30*24*3600 || g.SessionID == "" {
		t.Errorf("refresh fields: %+v", g)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	for _, k := range []string{"password_hash", "disabled", "PasswordHash"} {
		if strings.Contains(string(r.Body), k) {
			t.Errorf("token response leaks %q: %s", k, r.Body)
		}
	}
	c := cookieOf(t, r.Header, "latchkey_refresh")
	if c.Value != g.RefreshToken || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/api/auth" || c.Secure {
		t.Errorf("cookie = %+v", c)
	}

	// The same email in another case is taken.
	h.Do(req{Method: "POST", Path: "/api/auth/signup",
		Body: map[string]string{"email": "ada@EXAMPLE.com", "password": testPassword}}).Problem(t, 409, "email_taken")
}

func TestSignUpValidation(t *testing.T) {
	h := newHarness(t, options{})
	long := strings.Repeat("a", 250) + "@b.co"
	for _, tc := range []struct {
		name   string
		body   map[string]string
		fields []string
	}{
		{"missing email", map[string]string{"password": testPassword}, []string{"email"}},
		{"bad email", map[string]string{"email": "not-an-email", "password": testPassword}, []string{"email"}},
		{"display name", map[string]string{"email": "Ada <a@b.co>", "password": testPassword}, []string{"email"}},
		{"email over 254", map[string]string{"email": long, "password": testPassword}, []string{"email"}},
		{"missing password", map[string]string{"email": "a@b.co"}, []string{"password"}},
		{"short password", map[string]string{"email": "a@b.co", "password": "1234567"}, []string{"password"}},
		{"long password", map[string]string{"email": "a@b.co", "password": strings.Repeat("x", 129)}, []string{"password"}},
		{"long name", map[string]string{"email": "a@b.co", "password": testPassword, "name": strings.Repeat("n", 101)}, []string{"name"}},
		{"everything", map[string]string{"email": "x", "password": "y"}, []string{"email", "password"}},
		{"common password", map[string]string{"email": "a@b.co", "password": "Password"}, []string{"password"}},
		{"common in full width", map[string]string{"email": "a@b.co", "password": "ｔｒｕｓｔｎｏ１"}, []string{"password"}},
		{"129 after normalisation", map[string]string{"email": "a@b.co", "password": strings.Repeat("x", 127) + "\u00bd"}, []string{"password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: tc.body}).Problem(t, 400, "validation_failed")
			errs, _ := m["errors"].([]any)
			var got []string
			for _, e := range errs {
				f := e.(map[string]any)
				if f["message"] == "" {
					t.Errorf("field error without message: %v", f)
				}
				got = append(got, f["field"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields = %v, want %v", got, tc.fields)
			}
		})
	}
	// Boundaries that pass: 8 and 128 characters, counted as characters.
	h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/signup",
		Body: map[string]string{"email": "eight@b.co", "password": "q7#Lv9!z"}}), 201)
	h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/signup",
		Body: map[string]string{"email": "max@b.co", "password": strings.Repeat("é", 128)}}), 201)
}

func TestBadBodies(t *testing.T) {
	h := newHarness(t, options{})
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"malformed", `{"email":`, 400},
		{"truncated", `{"email":"a@b.co","password":"12345678"`, 400},
		{"not an object", `[1,2]`, 400},
		{"invalid utf-8", []byte("{\"email\":\"a\xff@b.co\",\"password\":\"12345678\"}"), 400},
		{"trailing data", `{"email":"a@b.co","password":"12345678"} {}`, 400},
		{"trailing garbage", `{"email":"a@b.co","password":"12345678"}x`, 400},
		{"unknown field", `{"email":"a@b.co","password":"12345678","admin":true}`, 400},
		{"wrong type", `{"email":1,"password":"12345678"}`, 400},
		{"null body", `null`, 400},
		{"empty", ``, 400},
		{"over 1 MiB", `{"name":"` + strings.Repeat("a", 1<<20) + `"}`, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Do(req{Method: "POST", Path: "/api/auth/signup", Body: tc.body})
			if tc.name == "null body" {
				// null decodes to the zero request: then field validation speaks.
				r.Problem(t, 400, "validation_failed")
				return
			}
			r.Problem(t, tc.status, "invalid_request")
		})
	}
	// Nothing was half-written.
	if _, err := h.store.FindUserByEmail(context.Background(), "a@b.co"); err == nil {
		t.Fatal("a user was created from a bad body")
	}
}

func TestSignIn(t *testing.T) {
	h := newHarness(t, options{})
	up := h.signUp("ada@example.com")
	in := h.signIn("ADA@example.com", testPassword)
	if in.User.ID != up.User.ID || in.SessionID == up.SessionID {
		t.Fatalf("sign-in: %+v", in)
	}
	wrong := h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": "wrong password"}})
	unknown := h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "bob@example.com", "password": "wrong password"}})
	wrong.Problem(t, 401, "invalid_credentials")
	unknown.Problem(t, 401, "invalid_credentials")
	if string(wrong.Body) != string(unknown.Body) || wrong.Header.Get("WWW-Authenticate") != unknown.Header.Get("WWW-Authenticate") {
		t.Errorf("unknown email and wrong password differ:\n%s\n%s", wrong.Body, unknown.Body)
	}
	// No token came, so the challenge names none as invalid.
	if got := wrong.Header.Get("WWW-Authenticate"); got != `Bearer realm="latchkey"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com"}}).Problem(t, 400, "validation_failed")

	// A disabled account learns so only with the right password.
	if _, err := h.store.Writer().Exec(`UPDATE users SET disabled = TRUE WHERE id = $1`, up.User.ID); err != nil {
		t.Fatal(err)
	}
	h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": "wrong password"}}).Problem(t, 401, "invalid_credentials")
	h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": testPassword}}).Problem(t, 403, "account_disabled")
	// And its refresh tokens stop working.
	h.Refresh(in.RefreshToken).Problem(t, 401, "token_revoked")
}

func TestMe(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken})
	if r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	u := r.JSON(t)["user"].(map[string]any)
	if u["id"] != g.User.ID || u["email"] != "ada@example.com" || u["role"] != "user" {
		t.Errorf("me = %v", u)
	}
	h.Do(req{Method: "GET", Path: "/api/auth/me"}).Problem(t, 401, "missing_token")
}

func TestRefreshRotation(t *testing.T) {
	h := newHarness(t, options{grace: 10 * time.Second})
	g := h.signUp("ada@example.com")
	g2 := h.Grant(h.Refresh(g.RefreshToken), 200)
	if g2.RefreshToken == g.RefreshToken || g2.SessionID != g.SessionID || g2.AccessToken == "" {
		t.Fatalf("refresh did not rotate: %+v", g2)
	}
	// Two tabs: the old token again inside the grace window answers the
	// same new token.
	g3 := h.Grant(h.Refresh(g.RefreshToken), 200)
	if g3.RefreshToken != g2.RefreshToken {
		t.Fatal("second refresh in the grace window got a different token")
	}
	// The new token rotates on as usual.
	g4 := h.Grant(h.Refresh(g2.RefreshToken), 200)
	// Now the first token is two generations old: reuse, session revoked.
	h.Refresh(g.RefreshToken).Problem(t, 401, "token_revoked")
	h.Refresh(g4.RefreshToken).Problem(t, 401, "token_revoked")
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g4.AccessToken}).Problem(t, 401, "token_revoked")
}

func TestRefreshReuseAfterGrace(t *testing.T) {
	h := newHarness(t, options{grace: 10 * time.Second})
	g := h.signUp("ada@example.com")
	g2 := h.Grant(h.Refresh(g.RefreshToken), 200)
	h.clock.Advance(11 * time.Second)
	r := h.Refresh(g.RefreshToken)
	r.Problem(t, 401, "token_revoked")
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	// The whole session is gone: its refresh token and its live access tokens.
	h.Refresh(g2.RefreshToken).Problem(t, 401, "token_revoked")
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g2.AccessToken}).Problem(t, 401, "token_revoked")
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken}).Problem(t, 401, "token_revoked")
	// Other sessions of the user are untouched.
	other := h.signIn("ada@example.com", testPassword)
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: other.AccessToken}); r.Status != 200 {
		t.Fatalf("other session: %d", r.Status)
	}
}

func TestRefreshStrict(t *testing.T) {
	h := newHarness(t, options{grace: 0})
	g := h.signUp("ada@example.com")
	h.Grant(h.Refresh(g.RefreshToken), 200)
	h.Refresh(g.RefreshToken).Problem(t, 401, "token_revoked")
}

func TestRefreshConcurrentTabs(t *testing.T) {
	h := newHarness(t, options{grace: 10 * time.Second})
	g := h.signUp("ada@example.com")
	const n = 8
	var wg sync.WaitGroup
	got := make([]response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = h.Refresh(g.RefreshToken)
		}()
	}
	wg.Wait()
	var first string
	for i, r := range got {
		if r.Status != 200 {
			t.Fatalf("refresh %d: %d %s", i, r.Status, r.Body)
		}
		tok := r.JSON(t)["refresh_token"].(string)
		if first == "" {
			first = tok
		} else if tok != first {
			t.Fatalf("concurrent refreshes disagree")
		}
	}
}

func TestRefreshErrors(t *testing.T) {
	h := newHarness(t, options{grace: 10 * time.Second})
	g := h.signUp("ada@example.com")
	h.Refresh("not-a-token").Problem(t, 401, "invalid_token")
	h.Refresh(strings.Repeat("A", 100_000)).Problem(t, 401, "invalid_token")
	h.Do(req{Method: "POST", Path: "/api/auth/refresh"}).Problem(t, 400, "validation_failed")
	h.Do(req{Method: "POST", Path: "/api/auth/refresh", Body: `{"refresh_token":1}`}).Problem(t, 400, "invalid_request")
	// Expired: the refresh lifetime has passed.
	h.clock.Advance(31 * 24 * time.Hour)
	h.Refresh(g.RefreshToken).Problem(t, 401, "invalid_token")
}

func TestRefreshCookieCSRF(t *testing.T) {
	h := newHarness(t, options{grace: 10 * time.Second})
	g := h.signUp("ada@example.com")
	cookie := &http.Cookie{Name: "latchkey_refresh", Value: g.RefreshToken}
	for _, origin := range []string{"", "null", "https://evil.example", "http://localhost:8080.evil.example"} {
		r := h.Do(req{Method: "POST", Path: "/api/auth/refresh", Cookie: cookie, Header: map[string]string{"Origin": origin}})
		r.Problem(t, 403, "forbidden")
	}
	// The server's own origin, as reached...
	r := h.Do(req{Method: "POST", Path: "/api/auth/refresh", Cookie: cookie, Header: map[string]string{"Origin": h.URL}})
	g2 := h.Grant(r, 200)
	if c := cookieOf(t, r.Header, "latchkey_refresh"); c.Value != g2.RefreshToken {
		t.Fatal("refresh did not set the rotated cookie")
	}
	// ...or as the issuer names it.
	cookie.Value = g2.RefreshToken
	h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/refresh", Cookie: cookie, Header: map[string]string{"Origin": testIssuer}}), 200)
	// A token in the body needs no Origin: it is not sent by the browser on its own.
	h.Grant(h.Refresh(g2.RefreshToken), 200)
}

func TestSignOutScopes(t *testing.T) {
	for _, tc := range []struct {
		scope                  string
		self, other, keepOther bool
	}{
		{scope: "", keepOther: true},
		{scope: "local", keepOther: true},
		{scope: "others", keepOther: false},
		{scope: "global", keepOther: false},
	} {
		t.Run("scope="+tc.scope, func(t *testing.T) {
			h := newHarness(t, options{})
			a := h.signUp("ada@example.com")
			b := h.signIn("ada@example.com", testPassword)
			var body any
			if tc.scope != "" {
				body = map[string]string{"scope": tc.scope}
			}
			r := h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: a.AccessToken, Body: body})
			if r.Status != 204 {
				t.Fatalf("signout: %d %s", r.Status, r.Body)
			}
			selfKept := tc.scope == "others"
			check := func(name string, g grant, kept bool) {
				r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken})
				if kept && r.Status != 200 {
					t.Errorf("%s session should live: %d", name, r.Status)
				}
				if !kept {
					r.Problem(t, 401, "token_revoked")
					h.Refresh(g.RefreshToken).Problem(t, 401, "token_revoked")
				}
			}
			check("own", a, selfKept)
			check("other", b, tc.keepOther)
			if !selfKept {
				if c := cookieOf(t, r.Header, "latchkey_refresh"); c.MaxAge >= 0 || c.Value != "" {
					t.Errorf("signout did not clear the cookie: %+v", c)
				}
			}
		})
	}
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: a.AccessToken, Body: map[string]string{"scope": "everything"}}).Problem(t, 400, "validation_failed")
	h.Do(req{Method: "POST", Path: "/api/auth/signout"}).Problem(t, 401, "missing_token")
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: a.AccessToken, Body: `{"scope":1}`}).Problem(t, 400, "invalid_request")
}

func TestSessions(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	b := h.signIn("ada@example.com", testPassword)
	bob := h.signUp("bob@example.com")

	r := h.Do(req{Method: "GET", Path: "/api/auth/sessions", Bearer: a.AccessToken, Header: map[string]string{"User-Agent": "test-agent"}})
	if r.Status != 200 {
		t.Fatalf("sessions: %d %s", r.Status, r.Body)
	}
	list := r.JSON(t)["sessions"].([]any)
	if len(list) != 2 {
		t.Fatalf("want 2 sessions, got %d", len(list))
	}
	current := 0
	for _, x := range list {
		s := x.(map[string]any)
		for _, k := range []string{"id", "created_at", "last_used_at", "expires_at", "user_agent", "ip", "current"} {
			if _, ok := s[k]; !ok {
				t.Errorf("session lacks %q: %v", k, s)
			}
		}
		if s["current"] == true {
			current++
			if s["id"] != a.SessionID {
				t.Errorf("current session is %v, want %v", s["id"], a.SessionID)
			}
		}
		if s["ip"] != "127.0.0.1" {
			t.Errorf("ip = %v", s["ip"])
		}
	}
	if current != 1 {
		t.Errorf("%d sessions marked current", current)
	}

	// Another user's session is not found, and untouched.
	h.Do(req{Method: "DELETE", Path: "/api/auth/sessions/" + bob.SessionID, Bearer: a.AccessToken}).Problem(t, 404, "not_found")
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: bob.AccessToken}); r.Status != 200 {
		t.Fatal("bob's session was touched")
	}
	// Revoke b: it leaves the list and its token dies at once.
	if r := h.Do(req{Method: "DELETE", Path: "/api/auth/sessions/" + b.SessionID, Bearer: a.AccessToken}); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: b.AccessToken}).Problem(t, 401, "token_revoked")
	h.Do(req{Method: "DELETE", Path: "/api/auth/sessions/" + b.SessionID, Bearer: a.AccessToken}).Problem(t, 404, "not_found")
	if n := len(h.Do(req{Method: "GET", Path: "/api/auth/sessions", Bearer: a.AccessToken}).JSON(t)["sessions"].([]any)); n != 1 {
		t.Fatalf("after revoke: %d sessions", n)
	}
	// The current one may be revoked too.
	if r := h.Do(req{Method: "DELETE", Path: "/api/auth/sessions/" + a.SessionID, Bearer: a.AccessToken}); r.Status != 204 {
		t.Fatalf("revoke current: %d", r.Status)
	}
	h.Do(req{Method: "GET", Path: "/api/auth/sessions", Bearer: a.AccessToken}).Problem(t, 401, "token_revoked")
}

func TestChangePassword(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	b := h.signIn("ada@example.com", testPassword)
	const next = "a new long password"
	h.Secrets = append(h.Secrets, next)
	h.Do(req{Method: "POST", Path: "/api/auth/password", Bearer: a.AccessToken,
		Body: map[string]string{"current_password": "wrong password", "new_password": next}}).Problem(t, 400, "validation_failed")
	m := h.Do(req{Method: "POST", Path: "/api/auth/password", Bearer: a.AccessToken,
		Body: map[string]string{"current_password": testPassword, "new_password": "short"}}).Problem(t, 400, "validation_failed")
	if f := m["errors"].([]any)[0].(map[string]any)["field"]; f != "new_password" {
		t.Errorf("field = %v", f)
	}
	h.Do(req{Method: "POST", Path: "/api/auth/password",
		Body: map[string]string{"current_password": testPassword, "new_password": next}}).Problem(t, 401, "missing_token")
	m = h.Do(req{Method: "POST", Path: "/api/auth/password", Bearer: a.AccessToken,
		Body: map[string]string{"current_password": "wrong password", "new_password": next}}).Problem(t, 400, "validation_failed")
	if f := m["errors"].([]any)[0].(map[string]any)["field"]; f != "current_password" {
		t.Errorf("wrong current password: field = %v", f)
	}

	r := h.Do(req{Method: "POST", Path: "/api/auth/password", Bearer: a.AccessToken,
		Body: map[string]string{"current_password": testPassword, "new_password": next}})
	if r.Status != 204 {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: a.AccessToken}); r.Status != 200 {
		t.Fatal("the current session must survive a password change")
	}
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: b.AccessToken}).Problem(t, 401, "token_revoked")
	h.Refresh(b.RefreshToken).Problem(t, 401, "token_revoked")
	h.Do(req{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "ada@example.com", "password": testPassword}}).Problem(t, 401, "invalid_credentials")
	h.signIn("ada@example.com", next)
}

func TestJWKS(t *testing.T) {
	h := newHarness(t, options{})
	for _, path := range []string{"/.well-known/jwks.json", "/api/auth/jwks"} {
		r := h.Do(req{Method: "GET", Path: path})
		if r.Status != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "max-age=") {
			t.Fatalf("%s: %d %q", path, r.Status, r.Header.Get("Cache-Control"))
		}
		keys := r.JSON(t)["keys"].([]any)
		if len(keys) != 1 {
			t.Fatalf("%s: %d keys", path, len(keys))
		}
		k := keys[0].(map[string]any)
		if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["kid"] == "" || k["x"] == "" {
			t.Errorf("jwk = %v", k)
		}
		if _, ok := k["d"]; ok {
			t.Fatal("JWKS publishes a private key")
		}
	}
	hs := newHarness(t, options{secret: []byte(strings.Repeat("s", 32))})
	if r := hs.Do(req{Method: "GET", Path: "/.well-known/jwks.json"}); strings.TrimSpace(string(r.Body)) != `{"keys":[]}` {
		t.Fatalf("HS256 JWKS = %s", r.Body)
	}
}

func cookieOf(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, h.Values("Set-Cookie"))
	return nil
}

// TestCrossSiteRefused: a page on another site can make a browser POST a
// text/plain form whose body parses as JSON. Every state-changing call with
// a foreign Origin is refused, so such a page can neither sign the browser
// into an attacker's account nor sign it out.
func TestCrossSiteRefused(t *testing.T) {
	h := newHarness(t, options{})
	victim := h.signUp("victim@example.com")
	h.signUp("mallory@example.com")
	evil := map[string]string{"Origin": "https://evil.example", "Content-Type": "text/plain"}
	for _, r := range []req{
		{Method: "POST", Path: "/api/auth/signin", Body: map[string]string{"email": "mallory@example.com", "password": testPassword}},
		{Method: "POST", Path: "/api/auth/signup", Body: map[string]string{"email": "new@example.com", "password": testPassword}},
		{Method: "POST", Path: "/api/auth/refresh", Body: map[string]string{"refresh_token": "x"}, Cookie: &http.Cookie{Name: "latchkey_refresh", Value: victim.RefreshToken}},
		{Method: "POST", Path: "/api/auth/signout", Cookie: &http.Cookie{Name: "latchkey_refresh", Value: victim.RefreshToken}},
	} {
		r.Header = evil
		resp := h.Do(r)
		resp.Problem(t, 403, "forbidden")
		if len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("%s: cross-site call touched the cookie: %v", r.Path, resp.Header.Values("Set-Cookie"))
		}
	}
	// Sec-Fetch-Site tells the same story without an Origin.
	h.Do(req{Method: "POST", Path: "/api/auth/signin", Header: map[string]string{"Sec-Fetch-Site": "cross-site"},
		Body: map[string]string{"email": "mallory@example.com", "password": testPassword}}).Problem(t, 403, "forbidden")
	// The victim's session is intact.
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: victim.AccessToken}); r.Status != 200 {
		t.Fatalf("victim signed out: %d", r.Status)
	}
	// Same origin and no Origin (curl, servers) pass.
	h.Grant(h.Do(req{Method: "POST", Path: "/api/auth/signin", Header: map[string]string{"Origin": h.URL},
		Body: map[string]string{"email": "mallory@example.com", "password": testPassword}}), 200)
	h.signIn("mallory@example.com", testPassword)
}

func TestSignOutWithRefreshToken(t *testing.T) {
	h := newHarness(t, options{})
	a := h.signUp("ada@example.com")
	b := h.signIn("ada@example.com", testPassword)
	c := h.signIn("ada@example.com", testPassword)

	// The refresh token in the body, no Bearer: that session ends.
	if r := h.Do(req{Method: "POST", Path: "/api/auth/signout", Body: map[string]string{"refresh_token": a.RefreshToken}}); r.Status != 204 {
		t.Fatalf("signout by body token: %d %s", r.Status, r.Body)
	}
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: a.AccessToken}).Problem(t, 401, "token_revoked")
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Body: map[string]string{"refresh_token": a.RefreshToken}}).Problem(t, 401, "token_revoked")

	// The cookie needs our Origin.
	cookie := &http.Cookie{Name: "latchkey_refresh", Value: b.RefreshToken}
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Cookie: cookie}).Problem(t, 403, "forbidden")
	r := h.Do(req{Method: "POST", Path: "/api/auth/signout", Cookie: cookie, Header: map[string]string{"Origin": h.URL}})
	if r.Status != 204 {
		t.Fatalf("signout by cookie: %d %s", r.Status, r.Body)
	}
	if ck := cookieOf(t, r.Header, "latchkey_refresh"); ck.MaxAge >= 0 {
		t.Errorf("cookie not cleared: %+v", ck)
	}
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: b.AccessToken}).Problem(t, 401, "token_revoked")
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: c.AccessToken}); r.Status != 200 {
		t.Fatal("another session was signed out")
	}

	h.Do(req{Method: "POST", Path: "/api/auth/signout", Body: map[string]string{"refresh_token": "unknown"}}).Problem(t, 401, "invalid_token")
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Body: `{"refresh_token":"` + c.RefreshToken + `","scope":"sideways"}`}).Problem(t, 400, "validation_failed")
	// A bad Bearer is judged as a Bearer, even with a good refresh token beside it.
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: "garbage", Body: map[string]string{"refresh_token": c.RefreshToken}}).Problem(t, 401, "invalid_token")
}

// TestRefreshBodyFailureKeepsCookie: a bad token in the body says nothing
// about the browser's cookie, which stays; a dead cookie is cleared.
func TestRefreshBodyFailureKeepsCookie(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	r := h.Do(req{Method: "POST", Path: "/api/auth/refresh", Body: map[string]string{"refresh_token": "nope"},
		Cookie: &http.Cookie{Name: "latchkey_refresh", Value: g.RefreshToken}})
	r.Problem(t, 401, "invalid_token")
	if v := r.Header.Values("Set-Cookie"); len(v) != 0 {
		t.Fatalf("cookie touched: %v", v)
	}
	r = h.Do(req{Method: "POST", Path: "/api/auth/refresh", Header: map[string]string{"Origin": h.URL},
		Cookie: &http.Cookie{Name: "latchkey_refresh", Value: "dead"}})
	r.Problem(t, 401, "invalid_token")
	if ck := cookieOf(t, r.Header, "latchkey_refresh"); ck.MaxAge >= 0 {
		t.Fatalf("dead cookie not cleared: %+v", ck)
	}
}

// TestRefreshGraceBoundary: the window is inclusive, and one nanosecond
// past it the old token is reuse.
func TestRefreshGraceBoundary(t *testing.T) {
	h := newHarness(t, options{grace: 10 * time.Second})
	a := h.signUp("ada@example.com")
	b := h.signIn("ada@example.com", testPassword)
	a2 := h.Grant(h.Refresh(a.RefreshToken), 200)
	b2 := h.Grant(h.Refresh(b.RefreshToken), 200)
	h.clock.Advance(10 * time.Second)
	if g := h.Grant(h.Refresh(a.RefreshToken), 200); g.RefreshToken != a2.RefreshToken {
		t.Fatal("at the edge of the window: a different token")
	}
	h.clock.Advance(time.Nanosecond)
	h.Refresh(b.RefreshToken).Problem(t, 401, "token_revoked")
	h.Refresh(b2.RefreshToken).Problem(t, 401, "token_revoked")
}

// TestRefreshSpentAfterExpiry: a spent token of a session that has run out
// is merely unknown; there is no live session left to protect.
func TestRefreshSpentAfterExpiry(t *testing.T) {
	h := newHarness(t, options{grace: 0})
	g := h.signUp("ada@example.com")
	h.Grant(h.Refresh(g.RefreshToken), 200)
	h.clock.Advance(31 * 24 * time.Hour)
	h.Refresh(g.RefreshToken).Problem(t, 401, "invalid_token")
}

// BenchmarkRefresh is POST /api/auth/refresh through the whole handler on
// SQLite, EdDSA-signed, with a refresh token in the body: the load tool's
// refresh scenario without the network. Each goroutine refreshes a session
// of its own, so every call rotates (no grace answers).
func BenchmarkRefresh(b *testing.B) {
	h := newHarness(b, options{grace: 10 * time.Second, rate: 0})
	h.signUp("bench@example.com")
	handler := h.App.Handler()
	var next atomic.Int64
	tokens := make([]string, 64)
	for i := range tokens {
		tokens[i] = h.signIn("bench@example.com", testPassword).RefreshToken
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rt := tokens[next.Add(1)-1]
		for pb.Next() {
			r := httptest.NewRequest(http.MethodPost, testIssuer+"/api/auth/refresh", strings.NewReader(`{"refresh_token":"`+rt+`"}`))
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Errorf("status %d %s", w.Code, w.Body)
				return
			}
			var g struct {
				RefreshToken string `json:"refresh_token"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &g); err != nil {
				b.Error(err)
				return
			}
			rt = g.RefreshToken
		}
	})
}
