package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// startBetterAuth runs `node server.mjs` (after the test command's `npm ci`)
// with env added to its environment. Without Node or the installed packages
// the test skips locally, and fails under CI=true.
func startBetterAuth(t *testing.T, env ...string) *betterAuth {
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
	cmd.Env = append(cmd.Env, env...)
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
// kid is accepted at once, without restarting Latchkey.
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
	delete(unknown.Header, "typ") // as Better Auth: "JWT" would be refused before any key is looked up
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
	// takes it on the first try, with no restart. The unknown key just
	// made Latchkey fetch the JWKS, so this token waits for the next fetch,
	// at most a second later, instead of being refused.
	oldKid := testkit.JSONPart(t, tok, 0)["kid"]
	ba.call(t, "POST", "/test/rotate-key", map[string]any{})
	fresh := ba.jwt(t)
	if testkit.JSONPart(t, fresh, 0)["kid"] == oldKid {
		t.Fatal("Better Auth did not rotate")
	}
	start := time.Now()
	c.Call("GET", tasks, fresh, nil).WantStatus(t, http.StatusOK)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the rotated key took %v to be accepted, want about a second at most", d)
	}
	// The email and name in the tokens never reach Latchkey's log.
	testkit.AssertNoSecrets(t, p.log.String(), "grace@example.com", "Grace Hopper", tok, fresh)
}

// TestBetterAuthRotation: Better Auth's jwt() plugin rotates its key by
// itself (ROTATION_INTERVAL=2: a key expires 2 s after it is made, and the
// next JWT makes a new key, which the JWKS publishes, and is signed with it
// at once). Each such JWT works on Latchkey's task routes at its first try,
// within about a second, in several requests at once, while made-up kids
// keep coming (each of which makes Latchkey fetch the JWKS, so a fetch has
// often just started when the new key appears).
func TestBetterAuthRotation(t *testing.T) {
	t.Parallel()
	ba := startBetterAuth(t, "ROTATION_INTERVAL=2")
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"),
		"--trusted-jwks-url", ba.base+"/api/auth/jwks",
		"--trusted-issuer", baIssuer, "--trusted-audience", baAudience)
	up := ba.call(t, "POST", "/api/auth/sign-up/email", map[string]string{
		"email": "rotation@example.com", "password": "better auth password", "name": "Rota"})
	tasks := p.base + "/api/" + up["user"].(map[string]any)["id"].(string) + "/tasks"
	get := func(tok string) (int, error) {
		req, _ := http.NewRequest("GET", tasks, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	tok := ba.jwt(t)
	if st, err := get(tok); st != http.StatusOK {
		t.Fatalf("a Better Auth JWT: %d %v", st, err)
	}

	// Made-up kids, from 4 clients one request after another, until the
	// test ends.
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	stop := make(chan struct{})
	var flood sync.WaitGroup
	var floodOK, floodRefused atomic.Int64
	for range 4 {
		flood.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				made := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": baIssuer, "aud": baAudience,
					"sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
				made.Header["kid"] = fmt.Sprintf("made-up-%d", i)
				delete(made.Header, "typ")
				s, _ := made.SignedString(stranger)
				switch st, _ := get(s); st {
				case http.StatusUnauthorized:
					floodRefused.Add(1)
				default:
					floodOK.Add(1)
				}
			}
		})
	}
	defer func() { close(stop); flood.Wait() }()

	seen := map[any]bool{testkit.JSONPart(t, tok, 0)["kid"]: true}
	deadline := time.Now().Add(20 * time.Second)
	for rotations := 0; rotations < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("Better Auth rotated %d times in 20 s, want 2", rotations)
		}
		fresh := ba.jwt(t)
		kid := testkit.JSONPart(t, fresh, 0)["kid"]
		if seen[kid] {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		seen[kid] = true
		rotations++
		// A key Latchkey has never seen, presented at once, in 5 requests.
		start := time.Now()
		statuses := make(chan string, 5)
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				st, err := get(fresh)
				statuses <- fmt.Sprint(st, " ", err)
			})
		}
		wg.Wait()
		close(statuses)
		for st := range statuses {
			if st != "200 <nil>" {
				t.Errorf("rotation %d: a JWT of Better Auth's new key: %s", rotations, st)
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("rotation %d: the new key took %v to be accepted, want about a second at most", rotations, d)
		}
	}
	close(stop)
	flood.Wait()
	stop = make(chan struct{}) // for the deferred close
	if floodOK.Load() != 0 || floodRefused.Load() == 0 {
		t.Errorf("made-up kids: %d accepted, %d refused", floodOK.Load(), floodRefused.Load())
	}
	// Refused for their kid, once a fetch had been waited for.
	m := testkit.NewClient(t, p.base, nil).Call("GET", "/metrics", "", nil)
	if !strings.Contains(string(m.Body), `latchkey_token_rejections_total{reason="unknown_kid"}`) {
		t.Errorf("no unknown_kid rejection counted: %s", m.Body)
	}
	t.Logf("%d made-up kids refused meanwhile", floodRefused.Load())
}
