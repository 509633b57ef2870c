package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	vw "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/testkit"
)

// FuzzRequestBodies sends arbitrary bytes as the body of every route that
// reads one, through the real handlers on a real store: whatever comes, the
// answer is a 2xx or the contract's 4xx, never a 5xx or a panic.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"email":"fuzz@example.com","password":"fuzzing password","name":"F"}`,
		`{"title":"t","description":"d","completed":true}`,
		`{"refresh_token":"x","scope":"global"}`,
		`{"current_password":"a","new_password":"b"}`,
		`{"role":"admin","disabled":true,"email_verified":true}`,
		`{"email":"fuzzer@example.com","code":"123456","new_password":"fuzzing password"}`,
		`{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
		`{"new_email":"new@example.com","current_password":"x"}`,
		`{"mfa_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","code":"123456"}`,
		`{"mfa_token":"x","recovery_code":"0000-0000-0000-0000"}`,
		`{"current_password":"x","code":"123456"}`,
		`{"title":`, "\xff", `{} {}`, `null`, `[]`, `{"title":null}`,
	} {
		f.Add([]byte(s))
	}
	h := newHarness(f, options{})
	g := h.admin("fuzzer@example.com")
	task := h.createTask(g, "fuzz target")["id"].(string)
	factor, _ := h.enrolTOTP(g) // unconfirmed: a code can reach its check
	handler := h.App.Handler()
	base := "/api/" + g.User.ID + "/tasks"
	routes := []struct{ method, path string }{
		{"POST", "/api/auth/signup"}, {"POST", "/api/auth/signin"}, {"POST", "/api/auth/refresh"},
		{"POST", "/api/auth/password"}, {"POST", base}, {"PUT", base + "/" + task},
		{"PATCH", base + "/" + task}, {"PATCH", "/api/admin/users/" + g.User.ID},
		{"POST", "/api/auth/password/forgot"}, {"POST", "/api/auth/password/reset"},
		{"POST", "/api/auth/email/verify"}, {"POST", "/api/auth/email/verify/resend"},
		{"POST", "/api/auth/email/change"}, {"POST", "/api/auth/email/change/confirm"},
		{"POST", "/api/auth/signin/mfa"}, {"POST", "/api/auth/mfa/totp"},
		{"POST", "/api/auth/mfa/totp/" + factor + "/confirm"}, {"DELETE", "/api/auth/mfa/totp/" + factor},
		{"POST", "/api/auth/mfa/recovery-codes"},
	}
	// Sign-out without a Bearer reads its body for a refresh token; with
	// one it would end the fuzzer's own session.
	routes = append(routes, struct{ method, path string }{"POST", "/api/auth/signout"})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, rt := range routes {
			r := httptest.NewRequest(rt.method, testIssuer+rt.path, strings.NewReader(string(body)))
			if rt.path != "/api/auth/signout" {
				r.Header.Set("Authorization", "Bearer "+g.AccessToken)
			}
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("%s %s with %q: %d %s", rt.method, rt.path, body, w.Code, w.Body)
			}
			if w.Code == http.StatusMisdirectedRequest {
				t.Fatalf("%s %s: 421: the request names the issuer's host", rt.method, rt.path)
			}
			if w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s %s: %d without problem+json", rt.method, rt.path, w.Code)
			}
		}
	})
}

// FuzzCrossSite throws arbitrary Origin, Sec-Fetch-Site and Host values at
// a cookie refresh: it may only succeed when Origin names this server, and
// Host names it too (421 otherwise: DNS rebinding).
func FuzzCrossSite(f *testing.F) {
	f.Add("http://localhost:8080", "same-origin", "localhost:8080")
	f.Add("https://evil.example", "cross-site", "localhost:8080")
	f.Add("", "", "127.0.0.1")
	f.Add("null", "none", "x")
	f.Add("HTTP://LOCALHOST:8080", "same-site", "localhost:8080")
	f.Add("http://attacker.example:8080", "same-origin", "attacker.example:8080")
	h := newHarness(f, options{grace: 1 << 62}) // an endless grace window: every refresh of the one token may pass
	g := h.signUp("csrf@example.com")
	handler := h.App.Handler()
	f.Fuzz(func(t *testing.T, origin, fetchSite, host string) {
		r := httptest.NewRequest("POST", testIssuer+"/api/auth/refresh", nil)
		if host != "" {
			r.Host = host
		}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", fetchSite)
		}
		r.AddCookie(&http.Cookie{Name: "latchkey_refresh", Value: g.RefreshToken})
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		own := strings.EqualFold(origin, "http://"+r.Host) || strings.EqualFold(origin, testIssuer)
		switch {
		case w.Code >= 500:
			t.Fatalf("5xx: %d %s", w.Code, w.Body)
		case w.Code == 200 && (!own || strings.EqualFold(fetchSite, "cross-site")):
			t.Fatalf("cookie refresh passed with Origin %q, Sec-Fetch-Site %q, Host %q", origin, fetchSite, r.Host)
		case w.Code == http.StatusMisdirectedRequest:
			// Not on a loopback connection, only the issuer's host,
			// localhost, is this server's.
			if name, port, ok := strings.Cut(r.Host, ":"); strings.EqualFold(name, "localhost") && (!ok || strings.Trim(port, "0123456789") == "" && len(port) <= 5) {
				t.Fatalf("421 for Host %q, the issuer's", r.Host)
			}
		case w.Code == 200 || w.Code == 403:
		default:
			t.Fatalf("unexpected %d %s", w.Code, w.Body)
		}
	})
}

// FuzzPasskeyCredentials sends arbitrary JSON as the credential of a live
// passkey ceremony, registration and sign-in, so that it reaches
// go-webauthn's parsers and checks (a dead challenge would stop it
// before): never a 5xx, never a passkey stored, never a session.
func FuzzPasskeyCredentials(f *testing.F) {
	h := newHarness(f, options{})
	g := h.signUp("fuzz-passkey@example.com")
	pk := testkit.NewPasskey(g.User.ID, vw.AuthenticatorOptions{})
	h.addPasskey(g, pk, "")
	// A sign-in with the passkey is recent MFA: registration options need
	// no password (no argon2id per input). The clock does not move.
	fresh := h.Grant(h.passkeySignIn(pk, 1), 200)
	f.Add([]byte(pk.Attest(f, h.registerOptions(fresh, nil).Options)))
	f.Add([]byte(pk.Assert(f, h.signInOptions().Options, 2)))
	for _, s := range []string{`{}`, `null`, `[]`, `"x"`, `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA","userHandle":"AAAA"}}`} {
		f.Add([]byte(s))
	}
	handler := h.App.Handler()
	send := func(t *testing.T, path, bearer, challenge string, cred []byte) {
		body := `{"challenge_id":` + strconv.Quote(challenge) + `,"credential":` + string(cred) + `}`
		r := httptest.NewRequest("POST", testIssuer+path, strings.NewReader(body))
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code >= 500 || (w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json") {
			t.Fatalf("POST %s with %q: %d %s", path, cred, w.Code, w.Body)
		}
		if w.Code < 300 {
			t.Fatalf("POST %s accepted %q: %d %s", path, cred, w.Code, w.Body)
		}
	}
	svc := h.App.Auth
	f.Fuzz(func(t *testing.T, cred []byte) {
		// The challenges straight from the service: h's helpers belong to f.
		reg, err := svc.StartPasskeyRegistration(context.Background(), g.User.ID, fresh.SessionID, "", auth.Client{})
		if err != nil {
			t.Fatal(err)
		}
		send(t, "/api/auth/passkeys/register", fresh.AccessToken, reg.ChallengeID, cred)
		in, err := svc.BeginPasskeySignIn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		send(t, "/api/auth/passkeys/signin", "", in.ChallengeID, cred)
	})
}
