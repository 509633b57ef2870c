package main

// Helpers shared by run_test.go (run() in-process) and e2e_test.go (the
// built binary): a goroutine-safe log buffer, readiness detection from the
// "msg=listening" log line, bounded polling and a small HTTP client for the
// contract's routes.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer (the server's logger or
// the child's stderr copier) and concurrent readers (the test polling it).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// listenRE matches the slog text line the server writes once it accepts
// connections.
var listenRE = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:[0-9]+)`)

// waitListening polls log until the server announces its address and
// returns the base URL. It fails the test when exited is closed first (the
// server stopped) or when timeout passes.
func waitListening(t *testing.T, log *syncBuffer, exited <-chan struct{}, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := listenRE.FindStringSubmatch(log.String()); m != nil {
			return "http://" + m[1]
		}
		select {
		case <-exited:
			t.Fatalf("server exited before it listened; log:\n%s", log.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not log %q within %v; log:\n%s", "msg=listening", timeout, log.String())
		}
	}
}

// poll calls cond every interval until it returns true or timeout passes,
// and reports whether it did and how long that took. The number of calls is
// bounded by timeout/interval+1.
func poll(timeout, interval time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(interval)
	}
}

// envFunc turns a map into the getenv that run() takes, so that in-process
// tests never see the real environment.
func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// api is a client for one server.
type api struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newAPI(t *testing.T, base string) *api {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	return &api{t: t, base: base, hc: hc}
}

// reply is a response read in full.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends one request. body nil sends none; a string or []byte is sent
// as is; anything else is marshalled as JSON. hdr is name, value pairs.
func (a *api) do(method, path, bearer string, body any, hdr ...string) reply {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatalf("marshal request body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		a.t.Fatalf("new request %s %s: %v", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// decode unmarshals the body into v, failing the test on bad JSON.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d body %q: %v", r.Status, r.Body, err)
	}
}

// wantStatus fails the test unless the status is want.
func (r reply) wantStatus(t *testing.T, what string, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, want, r.Body)
	}
}

type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// wantProblem checks an error answer: status, problem+json, the code, and
// for a 401 the WWW-Authenticate challenge the contract asks for.
func (r reply) wantProblem(t *testing.T, what string, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	var p problemDoc
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", what, r.Body, err)
	}
	if p.Code != code || p.Status != status {
		t.Errorf("%s: problem code %q status %d, want %q %d; body %s", what, p.Code, p.Status, code, status, r.Body)
	}
	if status == http.StatusUnauthorized {
		wa := r.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(wa, `Bearer realm="latchkey"`) {
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer realm=\"latchkey\" challenge", what, wa)
		}
		// A token came and failed: error="invalid_token". No token came
		// (missing_token, wrong credentials): the bare challenge.
		tokenFailed := code == "invalid_token" || code == "token_expired" || code == "token_revoked"
		if tokenFailed != strings.Contains(wa, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q for code %s", what, wa, code)
		}
	}
}

type userJSON struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedAt string `json:"created_at"`
}

type tokenResp struct {
	User             userJSON `json:"user"`
	AccessToken      string   `json:"access_token"`
	TokenType        string   `json:"token_type"`
	ExpiresIn        int64    `json:"expires_in"`
	RefreshToken     string   `json:"refresh_token"`
	RefreshExpiresIn int64    `json:"refresh_expires_in"`
	SessionID        string   `json:"session_id"`
}

type taskJSON struct {
	ID          string `json:"id"`
	UserID      string `json:"user_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Completed   bool   `json:"completed"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

// grant decodes a token response and checks the fields every one carries.
func (r reply) grant(t *testing.T, what string, status int) tokenResp {
	t.Helper()
	r.wantStatus(t, what, status)
	var g tokenResp
	r.decode(t, &g)
	if g.AccessToken == "" || g.RefreshToken == "" || g.SessionID == "" || g.User.ID == "" || g.TokenType != "Bearer" {
		t.Fatalf("%s: incomplete token response %s", what, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
	}
	return g
}

func (a *api) signUp(email, pw, name string) tokenResp {
	a.t.Helper()
	return a.do("POST", "/api/auth/signup", "", map[string]string{"email": email, "password": pw, "name": name}).
		grant(a.t, "sign-up "+email, http.StatusCreated)
}

func (a *api) signIn(email, pw string) tokenResp {
	a.t.Helper()
	return a.do("POST", "/api/auth/signin", "", map[string]string{"email": email, "password": pw}).
		grant(a.t, "sign-in "+email, http.StatusOK)
}

func (a *api) refresh(rt string) reply {
	a.t.Helper()
	return a.do("POST", "/api/auth/refresh", "", map[string]string{"refresh_token": rt})
}

// jwtPart decodes segment i (0 header, 1 claims) of a compact JWS.
func jwtPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("token segment %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token segment %d: %v", i, err)
	}
	return m
}

// assertNoSecrets fails when log holds any of secrets, or the claims or
// signature segment of a JWT among them (the header is not secret: every
// token of a key shares it).
func assertNoSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		needles := []string{s}
		if parts := strings.Split(s, "."); len(parts) == 3 {
			needles = append(needles, parts[1], parts[2])
		}
		for _, n := range needles {
			if len(n) >= 8 && strings.Contains(log, n) {
				t.Errorf("server log contains a secret used by the test (%.12s...)", n)
			}
		}
	}
}
