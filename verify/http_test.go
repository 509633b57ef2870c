package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

type bearerCase struct {
	name    string
	target  string
	headers []string // Authorization values
	token   string
	code    string
	reason  string
}

func TestBearerToken(t *testing.T) {
	tests := []bearerCase{
		{name: "bearer", headers: []string{"Bearer abc.def.ghi"}, token: "abc.def.ghi"},
		{name: "lower-case scheme", headers: []string{"bearer abc.def.ghi"}, token: "abc.def.ghi"},
		{name: "upper-case scheme", headers: []string{"BEARER abc.def.ghi"}, token: "abc.def.ghi"},
		{name: "extra spaces", headers: []string{"Bearer   abc.def.ghi  "}, token: "abc.def.ghi"},
		{name: "other query parameters", target: "/x?status=all", headers: []string{"Bearer t"}, token: "t"},
		{name: "no header", code: verify.CodeMissingToken, reason: verify.ReasonMissing},
		{name: "empty header", headers: []string{""}, code: verify.CodeMissingToken, reason: verify.ReasonMissing},
		{name: "Basic scheme", headers: []string{"Basic dXNlcjpwYXNz"}, code: verify.CodeMissingToken, reason: verify.ReasonMissing},
		{name: "Bearer prefix of another scheme", headers: []string{"Bearerx abc"}, code: verify.CodeMissingToken, reason: verify.ReasonMissing},
		{name: "Bearer without token", headers: []string{"Bearer "}, code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "Bearer alone", headers: []string{"Bearer"}, code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "token with a space", headers: []string{"Bearer abc def"}, code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "two Authorization headers", headers: []string{"Bearer a", "Bearer b"}, code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "other parameters like the name", target: "/x?access_token_hint=1&my_access_token=2&access=3&token=4", headers: []string{"Bearer t"}, token: "t"},
		{name: "the name as a value", target: "/x?q=access_token&r=x%3Baccess_token", headers: []string{"Bearer t"}, token: "t"},
	}
	// A token in the query string is never taken. Without a Bearer header
	// no credentials came (RFC 6750 §3.1): missing_token. Beside one, the
	// request is refused as invalid_token.
	for _, q := range []struct{ name, query string }{
		{"plain", "access_token=abc"},
		{"after another", "a=1&access_token=abc"},
		{"empty value", "access_token="},
		{"no value", "access_token"},
		{"repeated", "access_token=a&access_token=b"},
		{"upper case", "ACCESS_TOKEN=abc"},
		{"mixed case", "Access_Token=abc"},
		{"semicolon separator", "a=1;access_token=abc"},
		{"semicolon first", "access_token=abc;a=1"},
		{"semicolon, upper case", "a=1;ACCESS_TOKEN=abc"},
		{"escaped underscore", "access%5Ftoken=abc"},
		{"escaped, lower-case hex", "access%5ftoken=abc"},
		{"escaped letters", "%61ccess_token=abc"},
		{"escaped, upper case", "ACCESS%5FTOKEN=abc"},
		{"escaped, after a semicolon", "a=1;%41ccess_token=abc"},
		{"plus for space", "access_token+=abc"},
		{"after a malformed pair", "a=%zz&access_token=abc"},
	} {
		tests = append(tests,
			bearerCase{name: "query token alone, " + q.name, target: "/x?" + q.query,
				code: verify.CodeMissingToken, reason: verify.ReasonQueryToken},
			bearerCase{name: "query token beside a header, " + q.name, target: "/x?" + q.query, headers: []string{"Bearer abc"},
				code: verify.CodeInvalidToken, reason: verify.ReasonQueryToken},
			bearerCase{name: "query token beside another scheme, " + q.name, target: "/x?" + q.query, headers: []string{"Basic dXNlcjpwYXNz"},
				code: verify.CodeMissingToken, reason: verify.ReasonQueryToken},
			bearerCase{name: "query token beside two headers, " + q.name, target: "/x?" + q.query, headers: []string{"Bearer a", "Bearer b"},
				code: verify.CodeInvalidToken, reason: verify.ReasonQueryToken},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target
			if target == "" {
				target = "/x"
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := verify.BearerToken(r)
			if tc.code == "" {
				if err != nil || got != tc.token {
					t.Fatalf("BearerToken = %q, %v; want %q", got, err, tc.token)
				}
				return
			}
			if got != "" {
				t.Errorf("token %q returned with an error", got)
			}
			wantError(t, err, "", tc.code, tc.reason)
		})
	}
}

// problemBody is the contract's 401 body; unknown fields fail the decode so
// that nothing extra slips into it.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) problemBody {
	t.Helper()
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	var p problemBody
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return p
}

func TestMiddleware(t *testing.T) {
	revoked := edConfig()
	revoked.IsRevoked = func(context.Context, *verify.Claims) bool { return true }
	valid := mintEd(t, nil, nil)

	tests := []struct {
		name      string
		cfg       verify.Config
		target    string
		auth      string
		status    int
		code      string
		reason    string
		challenge string
		detail    string
	}{
		{name: "valid", auth: "Bearer " + valid, status: http.StatusOK},
		{name: "no token", status: 401, code: verify.CodeMissingToken, reason: verify.ReasonMissing,
			challenge: `Bearer realm="latchkey"`, detail: "missing bearer token"},
		{name: "Basic", auth: "Basic dXNlcjpwYXNz", status: 401, code: verify.CodeMissingToken, reason: verify.ReasonMissing,
			challenge: `Bearer realm="latchkey"`, detail: "missing bearer token"},
		{name: "garbage", auth: "Bearer abc", status: 401, code: verify.CodeInvalidToken, reason: verify.ReasonMalformed,
			challenge: `Bearer realm="latchkey", error="invalid_token", error_description="malformed access token"`,
			detail:    "malformed access token"},
		{name: "query token", target: "/x?access_token=" + valid, auth: "Bearer " + valid, status: 401,
			code: verify.CodeInvalidToken, reason: verify.ReasonQueryToken,
			challenge: `Bearer realm="latchkey", error="invalid_token", error_description="access token must not be sent in the URL"`,
			detail:    "access token must not be sent in the URL"},
		{name: "query token, upper case, semicolon", target: "/x?a=1;ACCESS_TOKEN=" + valid, auth: "Bearer " + valid, status: 401,
			code: verify.CodeInvalidToken, reason: verify.ReasonQueryToken,
			challenge: `Bearer realm="latchkey", error="invalid_token", error_description="access token must not be sent in the URL"`,
			detail:    "access token must not be sent in the URL"},
		// RFC 6750 §3.1: a client that used an unsupported method sent no
		// credentials; the challenge carries no error.
		{name: "query token alone", target: "/x?access_token=" + valid, status: 401,
			code: verify.CodeMissingToken, reason: verify.ReasonQueryToken,
			challenge: `Bearer realm="latchkey"`, detail: "access token must not be sent in the URL"},
		{name: "query token alone, upper case", target: "/x?ACCESS_TOKEN=" + valid, status: 401,
			code: verify.CodeMissingToken, reason: verify.ReasonQueryToken,
			challenge: `Bearer realm="latchkey"`, detail: "access token must not be sent in the URL"},
		{name: "query token alone, semicolon", target: "/x?a=1;access_token=" + valid, status: 401,
			code: verify.CodeMissingToken, reason: verify.ReasonQueryToken,
			challenge: `Bearer realm="latchkey"`, detail: "access token must not be sent in the URL"},
		{name: "expired", auth: "Bearer " + mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Hour).Unix() }),
			status: 401, code: verify.CodeTokenExpired, reason: verify.ReasonExpired,
			challenge: `Bearer realm="latchkey", error="invalid_token", error_description="access token expired"`,
			detail:    "access token expired"},
		{name: "revoked", cfg: revoked, auth: "Bearer " + valid, status: 401, code: verify.CodeTokenRevoked, reason: verify.ReasonRevoked,
			challenge: `Bearer realm="latchkey", error="invalid_token", error_description="access token revoked"`,
			detail:    "access token revoked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Keys == nil {
				cfg = edConfig()
			}
			var hooked []*verify.Error
			reached := false
			h := verify.Middleware(newVerifier(t, cfg), verify.MiddlewareOptions{
				OnError: func(r *http.Request, err *verify.Error) {
					if r == nil {
						t.Error("OnError got a nil request")
					}
					hooked = append(hooked, err)
				},
			})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				c, ok := verify.ClaimsFromContext(r.Context())
				if !ok || c.Subject != "user-1" || c.Role != "user" {
					t.Errorf("handler got claims %+v, %v", c, ok)
				}
				fmt.Fprint(w, "hello "+c.Subject)
			}))
			target := tc.target
			if target == "" {
				target = "/x"
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)

			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == http.StatusOK {
				if !reached || rec.Body.String() != "hello user-1" || len(hooked) != 0 {
					t.Errorf("reached %v body %q hooked %v", reached, rec.Body, hooked)
				}
				return
			}
			if reached {
				t.Error("handler reached without a valid token")
			}
			if len(hooked) != 1 || hooked[0].Code != tc.code || hooked[0].Reason != tc.reason {
				t.Errorf("OnError calls %v, want one %s/%s", hooked, tc.code, tc.reason)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("Content-Type %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			if got := rec.Header().Values("WWW-Authenticate"); len(got) != 1 || got[0] != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			p := decodeProblem(t, rec)
			want := problemBody{Type: "about:blank", Title: "Unauthorized", Status: 401, Code: tc.code, Detail: tc.detail}
			if p != want {
				t.Errorf("body %+v, want %+v", p, want)
			}
			if strings.Contains(rec.Body.String(), valid[:20]) {
				t.Error("body contains token text")
			}
		})
	}
}

// watchedBody is a request body that counts the reads made of it.
type watchedBody struct {
	io.Reader
	reads int
}

func (b *watchedBody) Read(p []byte) (int, error) { b.reads++; return b.Reader.Read(p) }
func (b *watchedBody) Close() error               { return nil }

// TestMiddlewareNeverReadsBody: a token in a form body (RFC 6750 §2.2) is
// not a way in. The middleware never reads the body, so without a header
// such a request has no token (missing_token, bare challenge), and with one
// the handler gets the body whole, JSON or form.
func TestMiddlewareNeverReadsBody(t *testing.T) {
	valid := mintEd(t, nil, nil)
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, ctype, body, auth string
		status                  int
	}{
		{"form token, no header", form, "access_token=" + valid, "", 401},
		{"form token with a charset, no header", form + "; charset=utf-8", "a=1&access_token=" + valid, "", 401},
		{"form token, upper case, no header", form, "ACCESS_TOKEN=" + valid, "", 401},
		{"multipart form token, no header", "multipart/form-data; boundary=b",
			"--b\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\n" + valid + "\r\n--b--\r\n", "", 401},
		{"JSON body, header", "application/json", `{"title":"a task","description":"` + strings.Repeat("d", 5000) + `"}`, "Bearer " + valid, 200},
		{"form body, header", form, "title=x&access_token=not-looked-at", "Bearer " + valid, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hooked []*verify.Error
			var got []byte
			h := verify.Middleware(newVerifier(t, edConfig()), verify.MiddlewareOptions{
				OnError: func(_ *http.Request, err *verify.Error) { hooked = append(hooked, err) },
			})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = io.ReadAll(r.Body)
			}))
			body := &watchedBody{Reader: strings.NewReader(tc.body)}
			r := httptest.NewRequest(http.MethodPost, "/x", nil)
			r.Body, r.ContentLength = body, int64(len(tc.body))
			r.Header.Set("Content-Type", tc.ctype)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 200 {
				if string(got) != tc.body {
					t.Errorf("handler read %d bytes of %d", len(got), len(tc.body))
				}
				return
			}
			if body.reads != 0 {
				t.Errorf("the middleware read the body %d times", body.reads)
			}
			if len(hooked) != 1 || hooked[0].Code != verify.CodeMissingToken || hooked[0].Reason != verify.ReasonMissing {
				t.Errorf("OnError calls %v, want one missing_token/missing", hooked)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="latchkey"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
			if p := decodeProblem(t, rec); p.Code != verify.CodeMissingToken {
				t.Errorf("code %q", p.Code)
			}
		})
	}
}

func TestMiddlewareRealm(t *testing.T) {
	h := verify.Middleware(newVerifier(t, edConfig()), verify.MiddlewareOptions{Realm: "tasks"})(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("reached") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="tasks"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
}

func TestMiddlewareNilVerifierPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	verify.Middleware(nil, verify.MiddlewareOptions{})
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name      string
		realm     string
		err       error
		code      string
		challenge string
	}{
		{name: "foreign error text is not revealed", err: errors.New("db password is hunter2"), code: verify.CodeInvalidToken,
			challenge: `Bearer realm="latchkey", error="invalid_token", error_description="invalid access token"`},
		{name: "nil error", err: nil, code: verify.CodeInvalidToken,
			challenge: `Bearer realm="latchkey", error="invalid_token", error_description="invalid access token"`},
		{name: "wrapped *Error", err: fmt.Errorf("ctx: %w", &verify.Error{Code: verify.CodeInvalidToken, Reason: verify.ReasonBadAudience}),
			code:      verify.CodeInvalidToken,
			challenge: `Bearer realm="latchkey", error="invalid_token", error_description="token audience not accepted"`},
		{name: "realm quoted", realm: `a"b\c` + "\r\nX: y", err: &verify.Error{Code: verify.CodeMissingToken, Reason: verify.ReasonMissing},
			code: verify.CodeMissingToken, challenge: `Bearer realm="a\"b\\cX: y"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			verify.WriteError(rec, tc.realm, tc.err)
			if rec.Code != 401 {
				t.Errorf("status %d", rec.Code)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			p := decodeProblem(t, rec)
			if p.Code != tc.code || p.Status != 401 || strings.Contains(p.Detail, "hunter2") {
				t.Errorf("body %+v", p)
			}
		})
	}
}

func TestClaimsContext(t *testing.T) {
	if c, ok := verify.ClaimsFromContext(context.Background()); ok || c != nil {
		t.Errorf("empty context gave %v, %v", c, ok)
	}
	if _, ok := verify.ClaimsFromContext(verify.WithClaims(context.Background(), nil)); ok {
		t.Error("nil claims reported present")
	}
	want := &verify.Claims{Subject: "u"}
	if c, ok := verify.ClaimsFromContext(verify.WithClaims(context.Background(), want)); !ok || c != want {
		t.Errorf("got %v, %v", c, ok)
	}
}

func TestChallenge(t *testing.T) {
	for _, tc := range []struct{ realm, code, desc, want string }{
		{"", verify.CodeMissingToken, "missing bearer token", `Bearer realm="latchkey"`},
		{"latchkey", "invalid_credentials", "invalid email or password", `Bearer realm="latchkey"`},
		{"latchkey", verify.CodeTokenExpired, "access token expired", `Bearer realm="latchkey", error="invalid_token", error_description="access token expired"`},
		{"latchkey", verify.CodeTokenRevoked, "a \"quoted\" \\ é\nthing", `Bearer realm="latchkey", error="invalid_token", error_description="a quoted  thing"`},
		{`r"e`, verify.CodeInvalidToken, "x", `Bearer realm="r\"e", error="invalid_token", error_description="x"`},
	} {
		if got := verify.Challenge(tc.realm, tc.code, tc.desc); got != tc.want {
			t.Errorf("Challenge(%q, %q, %q) = %s, want %s", tc.realm, tc.code, tc.desc, got, tc.want)
		}
	}
}

// wantForbidden asserts the contract's 403: problem+json, code forbidden,
// no WWW-Authenticate, handler not reached.
func wantForbidden(t *testing.T, rec *httptest.ResponseRecorder, reached bool) {
	t.Helper()
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403; body %s", rec.Code, rec.Body)
	}
	if reached {
		t.Error("handler reached")
	}
	if got := rec.Header().Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type %q", got)
	}
	if got := rec.Header().Values("WWW-Authenticate"); len(got) != 0 {
		t.Errorf("WWW-Authenticate %q on a 403", got)
	}
	p := decodeProblem(t, rec)
	if p.Type != "about:blank" || p.Title != "Forbidden" || p.Status != 403 || p.Code != verify.CodeForbidden || p.Detail == "" {
		t.Errorf("body %+v", p)
	}
}

func TestRequireRole(t *testing.T) {
	auth := verify.Middleware(newVerifier(t, edConfig()), verify.MiddlewareOptions{})
	admin := mintEd(t, nil, func(c jwt.MapClaims) { c["role"] = "admin" })
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{name: "admin", auth: "Bearer " + admin, status: http.StatusOK},
		{name: "user", auth: "Bearer " + mintEd(t, nil, nil), status: http.StatusForbidden},
		{name: "no role", auth: "Bearer " + mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "role") }), status: http.StatusForbidden},
		{name: "role differs in case", auth: "Bearer " + mintEd(t, nil, func(c jwt.MapClaims) { c["role"] = "Admin" }), status: http.StatusForbidden},
		{name: "no token: 401 first", status: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reached := false
			h := auth(verify.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
			})))
			r := httptest.NewRequest(http.MethodGet, "/admin", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			switch tc.status {
			case http.StatusOK:
				if rec.Code != 200 || !reached {
					t.Errorf("status %d reached %v", rec.Code, reached)
				}
			case http.StatusForbidden:
				wantForbidden(t, rec, reached)
			default:
				if rec.Code != tc.status || reached {
					t.Errorf("status %d reached %v", rec.Code, reached)
				}
			}
		})
	}

	// Without Middleware in front there are no claims: refused, not let through.
	rec := httptest.NewRecorder()
	reached := false
	verify.RequireRole("admin")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin", nil))
	wantForbidden(t, rec, reached)
}

func TestRequireSubject(t *testing.T) {
	auth := verify.Middleware(newVerifier(t, edConfig()), verify.MiddlewareOptions{})
	mux := http.NewServeMux()
	var reached bool
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })
	mux.Handle("GET /api/{user_id}/tasks", auth(verify.RequireSubject("user_id")(ok)))
	mux.Handle("GET /misconfigured/{id}", auth(verify.RequireSubject("user_id")(ok)))
	mux.Handle("GET /unprotected/{user_id}", verify.RequireSubject("user_id")(ok))

	user1 := "Bearer " + mintEd(t, nil, nil) // sub user-1
	admin := "Bearer " + mintEd(t, nil, func(c jwt.MapClaims) { c["role"] = "admin"; c["sub"] = "admin-1" })
	tests := []struct {
		name, path, auth string
		status           int
	}{
		{"own tasks", "/api/user-1/tasks", user1, http.StatusOK},
		{"another user's tasks", "/api/user-2/tasks", user1, http.StatusForbidden},
		{"prefix of the subject", "/api/user-/tasks", user1, http.StatusForbidden},
		{"escaped path segment", "/api/user%2D1/tasks", user1, http.StatusOK}, // PathValue unescapes: same user
		{"admins included", "/api/user-1/tasks", admin, http.StatusForbidden},
		{"no such wildcard", "/misconfigured/user-1", user1, http.StatusForbidden},
		{"no Middleware, no claims", "/unprotected/user-1", "", http.StatusForbidden},
		{"no token: 401 first", "/api/user-1/tasks", "", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reached = false
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, r)
			switch tc.status {
			case http.StatusOK:
				if rec.Code != 200 || !reached {
					t.Errorf("status %d reached %v; body %s", rec.Code, reached, rec.Body)
				}
			case http.StatusForbidden:
				wantForbidden(t, rec, reached)
			default:
				if rec.Code != tc.status || reached {
					t.Errorf("status %d reached %v", rec.Code, reached)
				}
			}
		})
	}
}

func TestRequirePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"RequireRole":    func() { verify.RequireRole("") },
		"RequireSubject": func() { verify.RequireSubject("") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(\"\") did not panic", name)
				}
			}()
			f()
		}()
	}
}
