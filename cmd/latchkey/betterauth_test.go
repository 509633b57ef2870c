package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/testkit"
)

const (
	baIssuer   = "https://better-auth.test"
	baAudience = "latchkey-api"
)

// betterAuth is the real better-auth npm package running the issuer of
// examples/better-auth on a loopback port.
type betterAuth struct {
	base   string
	client *http.Client // with a cookie jar: Better Auth's session cookie
}

// startBetterAuth runs `node server.mjs` (after the test command's `npm ci`).
// Without Node or the installed packages the test skips locally, and fails
// under CI=true.
func startBetterAuth(t *testing.T) *betterAuth {
	t.Helper()
	dir, _ := filepath.Abs("../../examples/better-auth")
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "better-auth")); err != nil {
		missing = "examples/better-auth has no node_modules (run npm ci there; scripts/test.sh does)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Better Auth integration test: %s", missing)
		}
		t.Skipf("Better Auth integration test skipped: %s", missing)
	}
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT=0", "ISSUER="+baIssuer, "AUDIENCE="+baAudience,
		"SECRET=integration-test-secret-of-32-bytes-at-least")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "listening ") {
				ready <- strings.TrimPrefix(line, "listening ")
			}
		}
	}()
	select {
	case base := <-ready:
		jar, _ := cookiejar.New(nil)
		return &betterAuth{base: base, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	case <-time.After(20 * time.Second):
		t.Fatalf("better-auth did not start: %s", stderr.String())
	}
	return nil
}

func (b *betterAuth) call(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("better-auth %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("better-auth %s: %s", path, raw)
	}
	return m
}

func (b *betterAuth) jwt(t *testing.T) string {
	t.Helper()
	return b.call(t, "GET", "/api/auth/token", nil)["token"].(string)
}

// TestBetterAuthIntegration: a user signs up on a real Better Auth front
// end, and its JWT works on Latchkey's task routes (ownership enforced);
// tampered, other-audience, expired and unknown-key tokens are refused with
// the right codes; after Better Auth rotates its key, a token with the new
// kid is accepted without restarting Latchkey.
func TestBetterAuthIntegration(t *testing.T) {
	t.Parallel()
	ba := startBetterAuth(t)
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"),
		"--trusted-jwks-url", ba.base+"/api/auth/jwks",
		"--trusted-issuer", baIssuer, "--trusted-audience", baAudience)
	c := testkit.NewClient(t, p.base, nil)

	up := ba.call(t, "POST", "/api/auth/sign-up/email", map[string]string{
		"email": "grace@example.com", "password": "better auth password", "name": "Grace Hopper"})
	sub := up["user"].(map[string]any)["id"].(string)
	tok := ba.jwt(t)
	if h := testkit.JSONPart(t, tok, 0); h["alg"] != "EdDSA" || h["typ"] != nil {
		t.Fatalf("Better Auth header = %v", h)
	}
	tasks := "/api/" + sub + "/tasks"
	c.Call("POST", tasks, tok, map[string]string{"title": "from Better Auth"}).WantStatus(t, http.StatusCreated)
	c.Call("GET", tasks, tok, nil).WantStatus(t, http.StatusOK)
	c.Call("GET", "/api/someone-else/tasks", tok, nil).Problem(t, http.StatusForbidden, "forbidden")

	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(sub), []byte("someone-else"), 1)) + "." + parts[2]
	otherAud := ba.call(t, "POST", "/test/sign", map[string]any{"sub": sub, "aud": "someone-else"})["token"].(string)
	expired := ba.call(t, "POST", "/test/sign", map[string]any{"sub": sub, "exp": 1000})["token"].(string)
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	unknown := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": baIssuer, "aud": baAudience, "sub": sub, "exp": time.Now().Add(time.Hour).Unix()})
	unknown.Header["kid"] = "not-a-better-auth-key"
	unknownTok, _ := unknown.SignedString(stranger)
	for _, x := range []struct{ name, token, code string }{
		{"tampered", tampered, "invalid_token"},
		{"another audience", otherAud, "invalid_token"},
		{"expired", expired, "token_expired"},
		{"unknown key", unknownTok, "invalid_token"},
	} {
		c.Call("GET", tasks, x.token, nil).Problem(t, http.StatusUnauthorized, x.code)
	}

	// Better Auth rotates its key: the next JWT has a new kid, and Latchkey
	// takes it once its re-fetch on an unknown kid comes round (at most
	// every 10 s), with no restart.
	oldKid := testkit.JSONPart(t, tok, 0)["kid"]
	ba.call(t, "POST", "/test/rotate-key", map[string]any{})
	fresh := ba.jwt(t)
	if testkit.JSONPart(t, fresh, 0)["kid"] == oldKid {
		t.Fatal("Better Auth did not rotate")
	}
	var last testkit.Response
	if _, ok := testkit.Poll(15*time.Second, 250*time.Millisecond, func() bool {
		last = c.Call("GET", tasks, fresh, nil)
		return last.Status == http.StatusOK
	}); !ok {
		t.Fatalf("the rotated key was never accepted: %d %s", last.Status, last.Body)
	}
	// The email and name in the tokens never reach Latchkey's log.
	testkit.AssertNoSecrets(t, p.log.String(), "grace@example.com", "Grace Hopper", tok, fresh)
}
