package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/httpapi"
	"github.com/latchkey/latchkey/keyseal"
	"github.com/latchkey/latchkey/password"
	"github.com/latchkey/latchkey/sqldb"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/token"
	"github.com/latchkey/latchkey/verify"
)

const (
	testIssuer   = "http://localhost:8080"
	testAudience = "latchkey"
	testPassword = "correct horse battery"
)

// fastParams keep argon2id cheap in tests; production uses DefaultParams.
var fastParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a settable time shared by every part of the server under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type options struct {
	trusted       *verify.Verifier // the external issuer's verifier, if any
	trustedIssuer string
	grace         time.Duration
	secret        []byte // HS256 mode when set
	tls           bool
	rate          int      // AuthRate
	proxy         bool     // TrustProxy
	cors          []string // CORSOrigins
}

// harness is a real server (real SQLite file, real key ring) behind httptest.
type harness struct {
	t       testing.TB
	srv     *httptest.Server
	store   *sqldb.DB
	dbPath  string
	ring    *token.KeyRing
	sealer  *keyseal.Sealer // seals the ring's private keys in the store
	revoked *auth.Revocations
	clock   *clock
	logs    *syncBuffer
	secrets []string // every password and token the test used; none may be logged
}

func newHarness(t testing.TB, opts options) *harness {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now().UTC()}
	const accessTTL = 15 * time.Minute
	issuer := &token.Issuer{Issuer: testIssuer, Audience: testAudience, TTL: accessTTL, Secret: opts.secret, Now: clk.Now}
	alg := verify.AlgEdDSA
	var keys verify.KeyFunc
	h := &harness{t: t, store: db, dbPath: dbPath, clock: clk, logs: &syncBuffer{}, secrets: []string{testPassword}}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		logs := h.logs.String()
		for _, s := range h.secrets {
			if s != "" && strings.Contains(logs, s) {
				t.Errorf("a secret appears in the server log: %.12s...", s)
			}
		}
	})
	if opts.secret != nil {
		alg, keys = verify.AlgHS256, verify.HMACSecret(opts.secret)
	} else {
		kek := make([]byte, keyseal.KeySize)
		rand.Read(kek)
		if h.sealer, err = keyseal.New(kek); err != nil {
			t.Fatal(err)
		}
		ring, err := token.OpenKeyRing(ctx, db, h.sealer, accessTTL+verify.MaxLeeway)
		if err != nil {
			t.Fatal(err)
		}
		h.ring, issuer.Ring, keys = ring, ring, ring.Key
	}
	h.revoked = auth.NewRevocations(accessTTL + verify.MaxLeeway)
	v, err := verify.New(verify.Config{
		Issuer: testIssuer, Audience: testAudience, Algorithms: []string{alg}, Keys: keys, Now: clk.Now,
		IsRevoked: func(_ context.Context, c *verify.Claims) bool { return h.revoked.Revoked(c.SessionID) },
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := auth.NewRecorder(db, logger, 1024)
	recCtx, stopRec := context.WithCancel(context.Background())
	recDone := make(chan struct{})
	go func() { rec.Run(recCtx); close(recDone) }()
	t.Cleanup(func() { stopRec(); <-recDone })
	svc := &auth.Service{
		Audit: rec,
		Store: db, Hasher: password.New(fastParams, 0), Tokens: issuer, Revoked: h.revoked,
		RefreshTTL: 30 * 24 * time.Hour, RefreshGrace: opts.grace, Now: clk.Now,
		Logger: logger,
	}
	jwks := func() []byte { return []byte(`{"keys":[]}`) }
	if h.ring != nil {
		jwks = h.ring.JWKS
	}
	h.srv = httptest.NewUnstartedServer(httpapi.NewServer(httpapi.Config{
		Logger: logger, Auth: svc, Users: db, Tasks: db, Admin: db, Ready: db, Verifier: v, JWKS: jwks, Issuer: testIssuer, AuthRate: opts.rate, TrustProxy: opts.proxy,
		CORSOrigins: opts.cors, Trusted: opts.trusted, TrustedIssuer: opts.trustedIssuer,
	}))
	if opts.tls {
		h.srv.StartTLS()
	} else {
		h.srv.Start()
	}
	t.Cleanup(h.srv.Close)
	return h
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// problem checks that r is the contract's problem+json with status and code.
func (r response) problem(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	m := r.json(t)
	if m["code"] != code || m["status"] != float64(status) || m["type"] != "about:blank" || m["title"] == "" {
		t.Fatalf("problem = %v, want status %d code %q", m, status, code)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer realm="latchkey"`) {
		t.Fatalf("401 without WWW-Authenticate: %q", r.header.Get("WWW-Authenticate"))
	}
	return m
}

// req is one request. body is JSON-encoded unless it is a string or []byte.
type req struct {
	method, path string
	body         any
	bearer       string
	header       map[string]string
	cookie       *http.Cookie
}

func (h *harness) do(r req) response {
	h.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.method, h.srv.URL+r.path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	resp, err := h.srv.Client().Do(hr)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode >= 500 && r.path != "/readyz" {
		h.t.Errorf("%s %s: server error %d: %s", r.method, r.path, resp.StatusCode, b)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// grant is a decoded token response.
type grant struct {
	User             latchkey.User `json:"user"`
	AccessToken      string        `json:"access_token"`
	TokenType        string        `json:"token_type"`
	ExpiresIn        int64         `json:"expires_in"`
	RefreshToken     string        `json:"refresh_token"`
	RefreshExpiresIn int64         `json:"refresh_expires_in"`
	SessionID        string        `json:"session_id"`
}

func (h *harness) grantOf(r response, status int) grant {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	var g grant
	if err := json.Unmarshal(r.body, &g); err != nil {
		h.t.Fatal(err)
	}
	h.secrets = append(h.secrets, g.AccessToken, g.RefreshToken)
	return g
}

func (h *harness) signUp(email string) grant {
	h.t.Helper()
	return h.grantOf(h.do(req{method: "POST", path: "/api/auth/signup",
		body: map[string]string{"email": email, "password": testPassword, "name": "Test"}}), http.StatusCreated)
}

func (h *harness) signIn(email, pw string) grant {
	h.t.Helper()
	return h.grantOf(h.do(req{method: "POST", path: "/api/auth/signin",
		body: map[string]string{"email": email, "password": pw}}), http.StatusOK)
}

func (h *harness) refresh(tok string) response {
	h.t.Helper()
	return h.do(req{method: "POST", path: "/api/auth/refresh", body: map[string]string{"refresh_token": tok}})
}

// signingKey returns the ring's current private key and kid, for forging
// tokens in tests.
func (h *harness) signingKey() (string, ed25519.PrivateKey) {
	h.t.Helper()
	keys, err := h.store.ListSigningKeys(context.Background())
	if err != nil || len(keys) == 0 {
		h.t.Fatalf("signing keys: %v", err)
	}
	priv, err := h.sealer.Open(keys[0].PrivateKey, []byte(keys[0].ID))
	if err != nil {
		h.t.Fatalf("open signing key: %v", err)
	}
	return keys[0].ID, ed25519.PrivateKey(priv)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
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
