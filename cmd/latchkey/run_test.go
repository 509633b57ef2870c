package main

// In-process tests of run(ctx, args, getenv, stdin, stdout, stderr): exit
// statuses and one-line errors, serve with graceful shutdown, and the
// operator commands against the database of a running server.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // reopen the database file behind the server's back

	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/token"
)

// runCLI runs one command to completion with env as its whole environment
// and returns its exit status and output. It fails the test when run does
// not return within 20 s (a command that wrongly starts a server).
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, envFunc(env), strings.NewReader(stdin), &out, &errb) }()
	select {
	case code = <-done:
	case <-time.After(20 * time.Second):
		cancel()
		select {
		case <-done:
			t.Fatalf("latchkey %q did not return within 20 s; it was cancelled", args)
		case <-time.After(10 * time.Second):
			t.Fatalf("latchkey %q did not return within 20 s, nor after cancellation", args)
		}
	}
	return code, out.String(), errb.String()
}

// wantOneLineError checks that stderr is exactly one "latchkey: " line.
func wantOneLineError(t *testing.T, stderr string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "latchkey: ") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr is not one line starting \"latchkey: \": %q", stderr)
	}
}

// served is run("serve", ...) in a goroutine.
type served struct {
	base   string
	log    *testkit.LogBuffer
	cancel context.CancelFunc
	exited chan struct{}
	code   int // valid once exited is closed
}

// serveInProcess starts run() serving on 127.0.0.1:0 with the database at
// dbPath and waits until it listens. The server is stopped in t.Cleanup
// unless the test stops it first.
func serveInProcess(t *testing.T, env map[string]string, dbPath string, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{log: &testkit.LogBuffer{}, cancel: cancel, exited: make(chan struct{})}
	argv := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + dbPath}, args...)
	go func() {
		defer close(s.exited)
		s.code = run(ctx, argv, envFunc(env), strings.NewReader(""), &bytes.Buffer{}, s.log)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			t.Errorf("in-process server did not stop within 20 s after cancellation")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log.String())
		}
	})
	s.base = waitListening(t, s.log, s.exited, 10*time.Second)
	return s
}

// stop cancels the server's context and returns its exit status and how
// long it took to return.
func (s *served) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	s.cancel()
	select {
	case <-s.exited:
		return s.code, time.Since(start)
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not return within 10 s of cancellation")
	}
	return 0, 0
}

// smtpSecret is an SMTP password no error may show.
const smtpSecret = "Sup3rSecretSmtpPw"

func TestRunConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "lk.db")
	notDB := filepath.Join(dir, "not-a-db")
	if err := os.WriteFile(notDB, bytes.Repeat([]byte("this is not a SQLite database\n"), 200), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := func(extra ...string) []string {
		return append([]string{"serve", "--addr", "127.0.0.1:0"}, extra...)
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		stdin   string
		mention string // the message names what is wrong
	}{
		{"bad duration in env", map[string]string{"LATCHKEY_ACCESS_TTL": "abc"}, serve("--database-url", db), "", "LATCHKEY_ACCESS_TTL"},
		{"HS256 with 31-byte secret", map[string]string{"LATCHKEY_JWT_ALG": "HS256", "LATCHKEY_JWT_SECRET": strings.Repeat("s", 31)}, serve("--database-url", db), "", "LATCHKEY_JWT_SECRET"},
		{"alg RS256", map[string]string{"LATCHKEY_JWT_ALG": "RS256"}, serve("--database-url", db), "", "LATCHKEY_JWT_ALG"},
		{"alg none", map[string]string{"LATCHKEY_JWT_ALG": "none"}, serve("--database-url", db), "", "LATCHKEY_JWT_ALG"},
		{"database in missing directory", nil, serve("--database-url", "sqlite:/nonexistent-dir/x.db"), "", "/nonexistent-dir/x.db"},
		{"database path is a directory", nil, serve("--database-url", "sqlite:"+dir), "", "directory"},
		{"database file is not a database", nil, serve("--database-url", "sqlite:"+notDB), "", "not-a-db"},
		{"unknown flag", nil, serve("--database-url", db, "--no-such-flag"), "", "no-such-flag"},
		{"unknown command", nil, []string{"frobnicate"}, "", "frobnicate"},
		{"user create without --password-stdin", nil, []string{"user", "create", "--database-url", db, "--email", "a@example.com"}, "secret-password\n", "--password-stdin"},
		{"flag wins over env: env good, flag bad", map[string]string{"LATCHKEY_ACCESS_TTL": "15m"}, serve("--database-url", db, "--access-ttl", "abc"), "", "LATCHKEY_ACCESS_TTL"},
		{"migrate with bad alg", map[string]string{"LATCHKEY_JWT_ALG": "none"}, []string{"migrate", "--database-url", db}, "", "LATCHKEY_JWT_ALG"},
		{"postgres without a shared secret key", nil, serve("--database-url", "postgres://lk:pw@127.0.0.1:1/lk"), "", "LATCHKEY_SECRET_KEY"},
		{"unknown database scheme", nil, serve("--database-url", "mysql://lk@localhost/lk"), "", "LATCHKEY_DATABASE_URL"},
		{"pool size 0", map[string]string{"LATCHKEY_DB_MAX_CONNS": "0"}, serve("--database-url", db), "", "LATCHKEY_DB_MAX_CONNS"},
		{"pool size not a number", nil, serve("--database-url", db, "--db-max-conns", "ten"), "", "LATCHKEY_DB_MAX_CONNS"},
		{"connect timeout not a duration", map[string]string{"LATCHKEY_DB_CONNECT_TIMEOUT": "5"}, serve("--database-url", db), "", "LATCHKEY_DB_CONNECT_TIMEOUT"},
		{"connection lifetime too short", nil, serve("--database-url", db, "--db-max-conn-lifetime", "1ms"), "", "LATCHKEY_DB_MAX_CONN_LIFETIME"},
		{"idle time not a duration", map[string]string{"LATCHKEY_DB_MAX_CONN_IDLE_TIME": "forever"}, serve("--database-url", db), "", "LATCHKEY_DB_MAX_CONN_IDLE_TIME"},
		{"metrics on the API's address", nil, []string{"serve", "--addr", "127.0.0.1:8080", "--metrics-addr", "127.0.0.1:8080", "--database-url", db}, "", "LATCHKEY_METRICS_ADDR"},
		{"metrics address not host:port", map[string]string{"LATCHKEY_METRICS_ADDR": "9090"}, serve("--database-url", db), "", "LATCHKEY_METRICS_ADDR"},
		{"allowed host with a scheme", map[string]string{"LATCHKEY_ALLOWED_HOSTS": "https://auth.example.com"}, serve("--database-url", db), "", "LATCHKEY_ALLOWED_HOSTS"},
		// The trusted issuer could otherwise mint Latchkey's own tokens, admin ones included.
		{"trusted secret equal to the JWT secret", map[string]string{
			"LATCHKEY_JWT_ALG": "HS256", "LATCHKEY_JWT_SECRET": strings.Repeat("k", 32),
			"LATCHKEY_TRUSTED_SECRET": strings.Repeat("k", 32), "LATCHKEY_TRUSTED_ISSUER": "http://front.example", "LATCHKEY_TRUSTED_AUDIENCE": "a",
		}, serve("--database-url", db), "", "LATCHKEY_TRUSTED_SECRET"},
		// Mail: the password (smtpSecret) must never appear in the error.
		{"SMTP URL with a bad scheme", map[string]string{"LATCHKEY_SMTP_URL": "http://lk:" + smtpSecret + "@smtp.example.com:587"}, serve("--database-url", db), "", "LATCHKEY_SMTP_URL"},
		{"SMTP URL tls=none to a non-loopback host", map[string]string{"LATCHKEY_SMTP_URL": "smtp://lk:" + smtpSecret + "@smtp.example.com:25?tls=none"}, serve("--database-url", db), "", "loopback"},
		{"SMTP URL tls=none to a non-loopback address", nil, serve("--database-url", db, "--smtp-url", "smtp://10.1.2.3:25?tls=none"), "", "LATCHKEY_SMTP_URL"},
		{"SMTP URL with a password holding a slash", map[string]string{"LATCHKEY_SMTP_URL": "smtp://lk:1/" + smtpSecret + "@smtp.example.com:587"}, serve("--database-url", db), "", "LATCHKEY_SMTP_URL"},
		{"SMTP URL not a URL", map[string]string{"LATCHKEY_SMTP_URL": "smtp://lk:" + smtpSecret + "@smtp.example.com:x"}, serve("--database-url", db), "", "LATCHKEY_SMTP_URL"},
		{"mail from not an address", map[string]string{"LATCHKEY_MAIL_FROM": "Latchkey"}, serve("--database-url", db), "", "LATCHKEY_MAIL_FROM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.env, tc.stdin, tc.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2; stderr %q", code, stderr)
			}
			wantOneLineError(t, stderr)
			if !strings.Contains(stderr, tc.mention) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.mention)
			}
			if strings.Contains(stderr, smtpSecret) {
				t.Errorf("stderr %q shows the SMTP password", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
	// None of the refused starts may have left a database behind.
	if _, err := os.Stat(filepath.Join(dir, "lk.db")); !os.IsNotExist(err) {
		t.Errorf("a refused command created the database file (stat: %v)", err)
	}
	if b, err := os.ReadFile(notDB); err != nil || !bytes.HasPrefix(b, []byte("this is not a SQLite database\n")) {
		t.Errorf("the file that is not a database was changed (err %v)", err)
	}
}

// TestRunPostgresUnreachable: a PostgreSQL server that does not answer is
// a run-time failure (exit 1), reported in one line without the password,
// within the connect timeout.
func TestRunPostgresUnreachable(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"LATCHKEY_SECRET_KEY":         "a-secret-key-of-at-least-32-bytes-long",
		"LATCHKEY_DATABASE_URL":       "postgres://lk:hunter2-password@127.0.0.1:1/lk",
		"LATCHKEY_DB_CONNECT_TIMEOUT": "1s",
	}
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"migrate"}, {"keys", "rotate"}} {
		start := time.Now()
		code, stdout, stderr := runCLI(t, env, "", args...)
		if code != 1 {
			t.Errorf("%v: exit status %d, want 1; stderr %q", args, code, stderr)
		}
		wantOneLineError(t, stderr)
		if strings.Contains(stderr+stdout, "hunter2") {
			t.Errorf("%v: the output shows the password: %q", args, stderr)
		}
		if !strings.Contains(stderr, "127.0.0.1:1") {
			t.Errorf("%v: stderr %q does not name the server", args, stderr)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%v: took %v to give up", args, took)
		}
	}
}

// TestRunServeWarnsOfPoolSettingsOnSQLite: the PostgreSQL pool settings
// have no effect on SQLite, and serve says so rather than ignore them.
func TestRunServeWarnsOfPoolSettingsOnSQLite(t *testing.T) {
	t.Parallel()
	s := serveInProcess(t, map[string]string{"LATCHKEY_DB_MAX_CONNS": "4"}, filepath.Join(t.TempDir(), "lk.db"))
	if log := s.log.String(); !strings.Contains(log, "no effect on SQLite") || !strings.Contains(log, "LATCHKEY_DB_MAX_CONNS") {
		t.Errorf("no warning that LATCHKEY_DB_MAX_CONNS does nothing on SQLite:\n%s", log)
	}
}

// A flag given on the command line wins over the environment: a bad value
// in the environment does not matter when the flag sets a good one, and
// the flag's value is the one in effect.
func TestRunFlagWinsOverEnv(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	s := serveInProcess(t, map[string]string{"LATCHKEY_ACCESS_TTL": "abc", "LATCHKEY_REFRESH_TTL": "1h"}, dbPath,
		"--access-ttl", "5m")
	c := testkit.NewClient(t, s.base, nil)
	g := c.SignUp("flag@example.com", "correct horse battery", "")
	if g.ExpiresIn < 299 || g.ExpiresIn > 300 {
		t.Errorf("expires_in %d, want 300 (the flag's 5m)", g.ExpiresIn)
	}
	claims := testkit.JSONPart(t, g.AccessToken, 1)
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp-iat != 300 {
		t.Errorf("exp-iat = %v, want 300", exp-iat)
	}
	// The environment still counts where no flag overrides it.
	if g.RefreshExpiresIn < 3590 || g.RefreshExpiresIn > 3600 {
		t.Errorf("refresh_expires_in %d, want 3600 (LATCHKEY_REFRESH_TTL=1h)", g.RefreshExpiresIn)
	}
	if code, _ := s.stop(t); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

// HS256 with a secret of exactly 32 bytes is accepted; the JWKS is empty
// and tokens are HS256.
func TestRunServeHS256(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	s := serveInProcess(t, map[string]string{"LATCHKEY_JWT_ALG": "HS256", "LATCHKEY_JWT_SECRET": strings.Repeat("k", 32)}, dbPath)
	c := testkit.NewClient(t, s.base, nil)
	r := c.Call("GET", "/.well-known/jwks.json", "", nil)
	r.WantStatus(t, http.StatusOK)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	r.Decode(t, &set)
	if set.Keys == nil || len(set.Keys) != 0 {
		t.Errorf("JWKS in HS256 mode = %s, want {\"keys\": []}", r.Body)
	}
	g := c.SignUp("hs@example.com", "correct horse battery", "")
	if alg := testkit.JSONPart(t, g.AccessToken, 0)["alg"]; alg != "HS256" {
		t.Errorf("token alg %v, want HS256", alg)
	}
	c.Call("GET", "/api/"+g.User.ID+"/tasks", g.AccessToken, nil).WantStatus(t, http.StatusOK)
}

var (
	requestsRE   = regexp.MustCompile(`(?m)^latchkey_http_requests_total\{[^}]*route="GET /healthz"[^}]*\} [1-9]`)
	rejectionsRE = regexp.MustCompile(`(?m)^latchkey_token_rejections_total\{[^}]*reason="[a-z_]+"[^}]*\} [1-9]`)
)

func TestRunServe(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	s := serveInProcess(t, nil, dbPath)
	c := testkit.NewClient(t, s.base, nil)

	c.Call("GET", "/healthz", "", nil).WantStatus(t, http.StatusOK)
	c.Call("GET", "/readyz", "", nil).WantStatus(t, http.StatusOK)
	c.Call("GET", "/api/auth/me", "not-a-token", nil).Problem(t, http.StatusUnauthorized, "invalid_token")

	r := c.Call("GET", "/metrics", "", nil)
	r.WantStatus(t, http.StatusOK)
	if !requestsRE.Match(r.Body) {
		t.Errorf("metrics lack latchkey_http_requests_total{route=\"GET /healthz\"} after a request:\n%s", grepLines(r.Body, "latchkey_"))
	}
	if !rejectionsRE.Match(r.Body) {
		t.Errorf("metrics lack latchkey_token_rejections_total{reason=...} after a bad token:\n%s", grepLines(r.Body, "latchkey_"))
	}

	code, took := s.stop(t)
	t.Logf("graceful shutdown took %v", took)
	if code != 0 {
		t.Errorf("exit status %d after cancellation, want 0", code)
	}
	if took > 5*time.Second {
		t.Errorf("shutdown took %v, want under 5 s", took)
	}
	if log := s.log.String(); !strings.Contains(log, "msg=stopped") {
		t.Errorf("log does not say the server stopped:\n%s", log)
	}

	// The file is whole and can be opened again, by SQLite and by latchkey.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v; want ok", check, err)
	}
	var keys int
	if err := db.QueryRow(`SELECT COUNT(*) FROM signing_keys`).Scan(&keys); err != nil || keys != 1 {
		t.Errorf("signing keys after first start = %d, %v; want 1", keys, err)
	}
	if code, _, stderr := runCLI(t, nil, "", "migrate", "--database-url", "sqlite:"+dbPath); code != 0 {
		t.Errorf("migrate after shutdown: exit %d, stderr %q", code, stderr)
	}
}

// metricsListenRE matches the line serve writes once the metrics listener
// of --metrics-addr accepts connections.
var metricsListenRE = regexp.MustCompile(`msg="metrics listening" addr=(127\.0\.0\.1:[0-9]+)`)

// TestRunServeMetricsAddr: with --metrics-addr the metrics are served on
// that listener alone, and the API's answers /metrics 404 as any unknown
// path; both stop with the server.
func TestRunServeMetricsAddr(t *testing.T) {
	t.Parallel()
	s := serveInProcess(t, nil, filepath.Join(t.TempDir(), "lk.db"), "--metrics-addr", "127.0.0.1:0")
	m := metricsListenRE.FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no metrics listening line in the log:\n%s", s.log.String())
	}
	api := testkit.NewClient(t, s.base, nil)
	api.Call("GET", "/api/auth/me", "not-a-token", nil).Problem(t, http.StatusUnauthorized, "invalid_token")
	api.Call("GET", "/metrics", "", nil).Problem(t, http.StatusNotFound, "not_found")

	mc := testkit.NewClient(t, "http://"+m[1], nil)
	r := mc.Call("GET", "/metrics", "", nil)
	r.WantStatus(t, http.StatusOK)
	if !rejectionsRE.Match(r.Body) {
		t.Errorf("the metrics listener lacks the API's counts:\n%s", grepLines(r.Body, "latchkey_"))
	}
	mc.Call("GET", "/api/auth/jwks", "", nil).Problem(t, http.StatusNotFound, "not_found")
	mc.Do(testkit.Request{Method: "GET", Path: "/metrics", Host: "attacker.example"}).Problem(t, http.StatusMisdirectedRequest, "misdirected_request")

	if code, _ := s.stop(t); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if _, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		t.Error("the metrics listener still accepts connections after the server stopped")
	}
}

// TestRunServeMetricsNotRelayed: without --metrics-addr, /metrics is for
// clients on this machine only. Behind a trusted proxy on this host, the
// connection comes from 127.0.0.1, but the client is the forwarded one.
func TestRunServeMetricsNotRelayed(t *testing.T) {
	t.Parallel()
	s := serveInProcess(t, nil, filepath.Join(t.TempDir(), "lk.db"), "--trust-proxy", "true")
	c := testkit.NewClient(t, s.base, nil)
	c.Call("GET", "/metrics", "", nil, "X-Forwarded-For", "203.0.113.7").Problem(t, http.StatusNotFound, "not_found")
	c.Call("GET", "/metrics", "", nil).Problem(t, http.StatusNotFound, "not_found")
	c.Call("GET", "/metrics", "", nil, "X-Forwarded-For", "127.0.0.1").WantStatus(t, http.StatusOK)
}

func grepLines(b []byte, prefix string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestRunUserCreate(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	dbURL := "sqlite:" + dbPath
	const pw = "correct horse battery staple"
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
	}{
		{"create", []string{"--email", "a@example.com", "--name", "Ada"}, pw + "\n", 0},
		{"duplicate email", []string{"--email", "a@example.com", "--name", "Ada"}, pw + "\n", 1},
		{"duplicate email other case", []string{"--email", "A@Example.COM"}, pw + "\n", 1},
		{"duplicate email full width", []string{"--email", "ａ@example.com"}, pw + "\n", 1},
		{"invisible character", []string{"--email", "e\u200b@example.com"}, pw + "\n", 2},
		{"too short password", []string{"--email", "b@example.com"}, "short\n", 2},
		{"no password on stdin", []string{"--email", "c@example.com"}, "", 2},
		{"bad role", []string{"--email", "d@example.com", "--role", "root"}, pw + "\n", 2},
		{"admin", []string{"--email", "admin@example.com", "--role", "admin"}, pw + "\r\n", 0},
	}
	for _, tc := range tests {
		args := append([]string{"user", "create", "--database-url", dbURL, "--password-stdin"}, tc.args...)
		code, stdout, stderr := runCLI(t, nil, tc.stdin, args...)
		if code != tc.wantCode {
			t.Errorf("%s: exit status %d, want %d; stdout %q stderr %q", tc.name, code, tc.wantCode, stdout, stderr)
			continue
		}
		if code == 0 {
			if !strings.HasPrefix(stdout, "created user ") || stderr != "" {
				t.Errorf("%s: stdout %q stderr %q", tc.name, stdout, stderr)
			}
		} else {
			wantOneLineError(t, stderr)
			if strings.Contains(stderr, pw) {
				t.Errorf("%s: the error shows the password: %q", tc.name, stderr)
			}
		}
	}

	s := serveInProcess(t, nil, dbPath)
	c := testkit.NewClient(t, s.base, nil)
	g := c.SignIn("a@example.com", pw)
	if g.User.Email != "a@example.com" || g.User.Name != "Ada" || g.User.Role != "user" {
		t.Errorf("signed-in user = %+v, want a@example.com, Ada, role user", g.User)
	}
	// The password was read without its line ending.
	adm := c.SignIn("admin@example.com", pw)
	if adm.User.Role != "admin" || testkit.JSONPart(t, adm.AccessToken, 1)["role"] != "admin" {
		t.Errorf("admin created with --role admin has role %q / claim %v", adm.User.Role, testkit.JSONPart(t, adm.AccessToken, 1)["role"])
	}
	// The refused creation wrote nothing.
	c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "b@example.com", "password": "short"}).
		Problem(t, http.StatusUnauthorized, "invalid_credentials")
	c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "e@example.com", "password": pw}).
		Problem(t, http.StatusUnauthorized, "invalid_credentials")

	// user disable finds the account by any spelling of its email.
	code, stdout, stderr := runCLI(t, nil, "", "user", "disable", "--database-url", dbURL, "--email", "Ａ@ＥＸＡＭＰＬＥ.com")
	if code != 0 || !strings.Contains(stdout, "disabled user "+g.User.ID) {
		t.Fatalf("user disable by another spelling: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "a@example.com", "password": pw}).
		Problem(t, http.StatusForbidden, "account_disabled")
}

type jwksDoc struct {
	Keys []map[string]any `json:"keys"`
}

func getJWKS(t *testing.T, c *testkit.Client) jwksDoc {
	t.Helper()
	r := c.Call("GET", "/.well-known/jwks.json", "", nil)
	r.WantStatus(t, http.StatusOK)
	var d jwksDoc
	r.Decode(t, &d)
	return d
}

func TestRunKeysRotate(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	s := serveInProcess(t, nil, dbPath)
	c := testkit.NewClient(t, s.base, nil)

	before := getJWKS(t, c)
	if len(before.Keys) != 1 {
		t.Fatalf("JWKS before rotation has %d keys, want 1", len(before.Keys))
	}
	g := c.SignUp("rot@example.com", "correct horse battery", "")
	oldKid := testkit.JSONPart(t, g.AccessToken, 0)["kid"]
	if oldKid != before.Keys[0]["kid"] {
		t.Fatalf("token kid %v is not the published key %v", oldKid, before.Keys[0]["kid"])
	}

	code, stdout, stderr := runCLI(t, nil, "", "keys", "rotate", "--database-url", "sqlite:"+dbPath)
	if code != 0 {
		t.Fatalf("keys rotate: exit %d, stderr %q", code, stderr)
	}
	m := regexp.MustCompile(`new signing key (\S+);`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("keys rotate printed %q, want the new kid", stdout)
	}
	newKid := m[1]

	var after jwksDoc
	took, ok := testkit.Poll(2*time.Second, 20*time.Millisecond, func() bool {
		after = getJWKS(t, c)
		return len(after.Keys) == 2
	})
	if !ok {
		t.Fatalf("JWKS still has %d keys 2 s after keys rotate", len(after.Keys))
	}
	t.Logf("the running server published the new key after %v", took)
	kids := map[any]bool{}
	for _, k := range after.Keys {
		kids[k["kid"]] = true
		if _, ok := k["d"]; ok {
			t.Errorf("JWKS publishes a private key: %v", k)
		}
		// The kid is the RFC 7638 thumbprint, so every process agrees.
		x, _ := k["x"].(string)
		sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
		if want := base64.RawURLEncoding.EncodeToString(sum[:]); k["kid"] != want {
			t.Errorf("kid %v is not the key's thumbprint %s", k["kid"], want)
		}
	}
	if !kids[oldKid] || !kids[newKid] {
		t.Errorf("JWKS kids %v, want both %v and %v", kids, oldKid, newKid)
	}

	// A token signed before the rotation still works.
	c.Call("POST", "/api/"+g.User.ID+"/tasks", g.AccessToken, map[string]string{"title": "before"}).
		WantStatus(t, http.StatusCreated)
	// Once the new key has been published for token.Activation (so every
	// process sharing the store has it), tokens carry the new kid.
	g2 := c.Refresh(g.RefreshToken).Grant(t, http.StatusOK)
	deadline := time.Now().Add(token.Activation + 3*time.Second)
	for testkit.JSONPart(t, g2.AccessToken, 0)["kid"] != newKid {
		if time.Now().After(deadline) {
			t.Fatalf("no token with the new kid %v within %v of the rotation", newKid, token.Activation)
		}
		time.Sleep(250 * time.Millisecond)
		g2 = c.Refresh(g2.RefreshToken).Grant(t, http.StatusOK)
	}
	c.Call("GET", "/api/"+g.User.ID+"/tasks", g2.AccessToken, nil).WantStatus(t, http.StatusOK)
	c.Call("GET", "/api/"+g.User.ID+"/tasks", g.AccessToken, nil).WantStatus(t, http.StatusOK)
}

func TestRunTokenInspect(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	dbURL := "sqlite:" + dbPath
	s := serveInProcess(t, nil, dbPath)
	c := testkit.NewClient(t, s.base, nil)
	g := c.SignUp("insp@example.com", "correct horse battery", "")
	other := c.SignIn("insp@example.com", "correct horse battery")

	parts := strings.Split(g.AccessToken, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	// A payload naming another subject under the original signature.
	claims := testkit.JSONPart(t, g.AccessToken, 1)
	claims["sub"] = "someone-else"
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(mustJSON(t, claims)) + "." + parts[2]

	inspect := func(tok string) (int, string, string) {
		t.Helper()
		return runCLI(t, nil, "", "token", "inspect", "--database-url", dbURL, tok)
	}
	code, stdout, stderr := inspect(g.AccessToken)
	if code != 0 || !strings.Contains(stdout, g.User.ID) {
		t.Errorf("inspect a valid token: exit %d, stdout %q, stderr %q; want 0 and the subject %s", code, stdout, stderr, g.User.ID)
	}

	if r := c.Call("POST", "/api/auth/signout", g.AccessToken, nil); r.Status != http.StatusNoContent {
		t.Fatalf("sign-out: %d %s", r.Status, r.Body)
	}
	tests := []struct {
		name, token string
		want        int
	}{
		{"revoked by sign-out", g.AccessToken, 1},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2], 10), 1},
		{"tampered claims", forged, 1},
		{"other session still valid", other.AccessToken, 0},
		{"not a JWT", "not-a-jwt", 2},
		{"empty", "", 2},
	}
	for _, tc := range tests {
		code, stdout, stderr := inspect(tc.token)
		if code != tc.want {
			t.Errorf("%s: exit %d, want %d; stdout %q stderr %q", tc.name, code, tc.want, stdout, stderr)
			continue
		}
		if code != 0 {
			wantOneLineError(t, stderr)
		}
	}
	if code, _, stderr := inspect(g.AccessToken); code == 1 && !strings.Contains(stderr, "revoked") {
		t.Errorf("inspect of a signed-out token does not say it is revoked: %q", stderr)
	}
	if code, _, stderr := runCLI(t, nil, "", "token", "inspect", "--database-url", dbURL); code != 2 {
		t.Errorf("inspect without a token: exit %d, want 2; stderr %q", code, stderr)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunMigrateTwice(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	for i := 1; i <= 2; i++ {
		code, stdout, stderr := runCLI(t, nil, "", "migrate", "--database-url", "sqlite:"+dbPath)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "up to date") {
			t.Errorf("migrate #%d: exit %d, stdout %q, stderr %q; want 0", i, code, stdout, stderr)
		}
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, distinct int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if n == 0 || n != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions after two migrations", n, distinct)
	}
}

// TestRunMigrateEmailCollision: upgrading a store where two accounts'
// emails now have one key (package emailkey) stops with a one-line error
// naming both users, and changes nothing; once the operator has given one
// of them another address, migrate succeeds.
func TestRunMigrateEmailCollision(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	dbURL := "sqlite:" + dbPath
	if code, _, stderr := runCLI(t, nil, "", "migrate", "--database-url", dbURL); code != 0 {
		t.Fatalf("migrate: exit %d, %q", code, stderr)
	}
	// Back to the schema before the email key, holding two accounts that
	// strings.ToLower kept apart.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DELETE FROM schema_migrations WHERE version = 16`,
		`ALTER TABLE users RENAME COLUMN email_key TO email_lower`,
		`INSERT INTO users (id, email, email_lower, role, password_hash, created_at) VALUES ('user-sam', 'sam@example.com', 'sam@example.com', 'user', 'x', 1)`,
		`INSERT INTO users (id, email, email_lower, role, password_hash, created_at) VALUES ('user-long-s', 'ſam@example.com', 'ſam@example.com', 'user', 'x', 2)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	code, _, stderr := runCLI(t, nil, "", "migrate", "--database-url", dbURL)
	if code != 1 || !strings.Contains(stderr, "[user-long-s user-sam]") || strings.Contains(stderr, "example.com") {
		t.Fatalf("migrate with a collision: exit %d, stderr %q; want 1 naming both ids and no email", code, stderr)
	}
	wantOneLineError(t, stderr)
	var lower string
	if err := db.QueryRow(`SELECT email_lower FROM users WHERE id = 'user-long-s'`).Scan(&lower); err != nil || lower != "ſam@example.com" {
		t.Fatalf("after the failed migration: %q, %v", lower, err)
	}
	if _, err := db.Exec(`UPDATE users SET email = 'sam.2@example.com', email_lower = 'sam.2@example.com' WHERE id = 'user-long-s'`); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, nil, "", "migrate", "--database-url", dbURL); code != 0 {
		t.Fatalf("migrate after the fix: exit %d, %q", code, stderr)
	}
}

// The help text lists each setting with its current value as the default;
// secrets taken from the environment must not be printed with it.
func TestRunHelpHidesSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"LATCHKEY_JWT_ALG":        "HS256",
		"LATCHKEY_JWT_SECRET":     "jwt-secret-0123456789abcdefghijklmnop",
		"LATCHKEY_SECRET_KEY":     "secret-key-0123456789abcdefghijklmnop",
		"LATCHKEY_TRUSTED_SECRET": "trusted-secret-0123456789abcdefghijkl",
	}
	for _, cmd := range [][]string{{"serve", "-h"}, {"migrate", "--help"}} {
		code, stdout, stderr := runCLI(t, env, "", cmd...)
		if code != 0 || !strings.Contains(stdout, "-database-url") {
			t.Errorf("latchkey %s: exit %d, stdout %q, stderr %q; want 0 and the flag list", cmd, code, stdout, stderr)
		}
		for k, v := range env {
			if strings.HasSuffix(k, "SECRET") || strings.HasSuffix(k, "SECRET_KEY") {
				if strings.Contains(stdout+stderr, v) {
					t.Errorf("latchkey %s prints the value of %s", cmd, k)
				}
			}
		}
	}
}

func TestRunTrustedIssuerConfig(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "lk.db")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"jwks without issuer", []string{"--trusted-jwks-url", "http://127.0.0.1:1/jwks", "--trusted-audience", "a"}},
		{"both jwks and secret", []string{"--trusted-jwks-url", "http://127.0.0.1:1/jwks", "--trusted-secret", strings.Repeat("s", 32), "--trusted-issuer", "http://f", "--trusted-audience", "a"}},
		{"issuer without keys", []string{"--trusted-issuer", "http://f", "--trusted-audience", "a"}},
		{"same issuer as ours", []string{"--trusted-secret", strings.Repeat("s", 32), "--trusted-issuer", "http://localhost:8080", "--trusted-audience", "a"}},
		{"jwks over plain http to another host", []string{"--trusted-jwks-url", "http://front.example/jwks", "--trusted-issuer", "http://f", "--trusted-audience", "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", db}, tc.args...),
				envFunc(nil), strings.NewReader(""), &bytes.Buffer{}, &stderr)
			if code != 2 || strings.Count(stderr.String(), "\n") != 1 {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
		})
	}
}

// TestRunHelpListsSettings: every command's -h lists the flag and the
// environment variable of each setting it takes, from the configuration
// table, and none that it does not take.
func TestRunHelpListsSettings(t *testing.T) {
	t.Parallel()
	for _, cmd := range app.Commands {
		code, stdout, stderr := runCLI(t, nil, "", append(strings.Fields(cmd), "-h")...)
		if code != 0 {
			t.Errorf("latchkey %s -h: exit %d, stderr %q", cmd, code, stderr)
			continue
		}
		for _, s := range app.Settings {
			listed := strings.Contains(stdout, "-"+s.Flag()+" ") && strings.Contains(stdout, "("+s.Env+")")
			if listed != s.Takes(cmd) {
				t.Errorf("latchkey %s -h: lists %s: %t, takes it: %t", cmd, s.Env, listed, s.Takes(cmd))
			}
		}
	}
}
