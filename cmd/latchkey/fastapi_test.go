package main

// The seeds' backend for real: examples/fastapi (FastAPI, PyJWT, httpx, from
// Debian's packages, run by Debian's /usr/bin/python3) verifying the access
// tokens of a real `latchkey serve` against its JWKS.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/testkit"
)

const (
	fastapiPython   = "/usr/bin/python3" // Debian's: the PATH's python3 may be another build
	fastapiPackages = "python3-fastapi python3-uvicorn python3-jwt python3-httpx python3-cryptography"
	fastapiAudience = "tasks-example"
)

// needFastAPI skips the test locally, and fails it under CI=true, when
// Debian's Python or the example's packages are missing.
func needFastAPI(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := os.Stat(fastapiPython); err != nil {
		missing = fastapiPython + " is missing"
	} else if out, err := exec.Command(fastapiPython, "-c", "import fastapi, uvicorn, jwt, httpx, cryptography").CombinedOutput(); err != nil {
		missing = "Debian's Python packages are missing (" + strings.TrimSpace(lastLine(string(out))) + ")"
	}
	if missing == "" {
		return
	}
	msg := "FastAPI example test: " + missing + "; install them with apt-get install " + fastapiPackages + " (scripts/test.sh does)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; skipped")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// freeAddr takes a free loopback port and gives it back (another process
// could take it in between; the server would then fail to start, and the
// test with it).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// fastapiEnv is the test's environment without Latchkey's or Python's own
// settings (a pyenv PYTHONPATH would mix builds), plus extra.
func fastapiEnv(extra ...string) []string {
	var env []string
	for _, kv := range childEnv() {
		if !strings.HasPrefix(kv, "PYTHON") {
			env = append(env, kv)
		}
	}
	return append(append(env, "PYTHONDONTWRITEBYTECODE=1"), extra...)
}

// fastapiCmd is uvicorn serving the example's app factory on addr. The
// access log is off: it prints query strings, and a client may put a token
// there (which the app refuses, but the log would keep).
func fastapiCmd(addr string, env ...string) (*exec.Cmd, *testkit.LogBuffer) {
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(fastapiPython, "-m", "uvicorn", "--factory", "latchkey_tasks.app:create_app",
		"--host", host, "--port", port, "--no-access-log")
	cmd.Dir, _ = filepath.Abs("../../examples/fastapi")
	cmd.Env = fastapiEnv(env...)
	log := &testkit.LogBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	return cmd, log
}

// startFastAPI runs the example with env and waits for its /healthz.
func startFastAPI(t *testing.T, env ...string) (base string, log *testkit.LogBuffer) {
	t.Helper()
	base, log, _ = startFastAPICmd(t, env...)
	return base, log
}

// startFastAPICmd is startFastAPI, also giving the process (killed at the
// test's end if still running).
func startFastAPICmd(t *testing.T, env ...string) (base string, log *testkit.LogBuffer, cmd *exec.Cmd) {
	t.Helper()
	addr := freeAddr(t)
	cmd, log = fastapiCmd(addr, env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the FastAPI example: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("log of the FastAPI example:\n%s", log.String())
		}
	})
	base = "http://" + addr
	hc := &http.Client{Timeout: time.Second}
	_, ok := testkit.Poll(20*time.Second, 50*time.Millisecond, func() bool {
		select {
		case <-exited:
			t.Fatalf("the FastAPI example exited at start:\n%s", log.String())
		default:
		}
		resp, err := hc.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !ok {
		t.Fatalf("the FastAPI example did not answer /healthz within 20 s:\n%s", log.String())
	}
	return base, log, cmd
}

// forger signs tokens with a key of Latchkey's store, as Latchkey would,
// so that each one breaks exactly one rule.
type forger struct {
	t      *testing.T
	kid    string
	key    ed25519.PrivateKey
	claims map[string]any // a real token's claims
}

func newForger(t *testing.T, dbPath, accessToken string) *forger {
	t.Helper()
	kek, err := os.ReadFile(dbPath + ".key")
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := testkit.JSONPart(t, accessToken, 0)["kid"].(string)
	key, ok := openedKeys(t, dbPath, kek)[kid]
	if !ok {
		t.Fatalf("the token's kid %q is not in the store", kid)
	}
	return &forger{t: t, kid: kid, key: key, claims: testkit.JSONPart(t, accessToken, 1)}
}

// sign signs the real claims changed by edit (nil: none), with header
// members hdr over {alg: EdDSA, typ: at+jwt, kid}; a nil value drops one.
func (f *forger) sign(hdr map[string]any, edit func(c map[string]any)) string {
	f.t.Helper()
	c := maps.Clone(f.claims)
	if edit != nil {
		edit(c)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims(c))
	tok.Header = map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": f.kid}
	for k, v := range hdr {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(f.key)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func newEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rawJWS is a compact JWS of header and claims with sig as its signature.
func rawJWS(t *testing.T, header, claims map[string]any, sig []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + enc(sig)
}

// serveForFastAPI runs latchkey serve whose issuer is its own loopback URL,
// which the example is configured with.
func serveForFastAPI(t *testing.T, dbPath string, extra ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--addr", addr, "--issuer", "http://" + addr,
		"--audience", fastapiAudience, "--database-url", "sqlite:" + dbPath}, extra...)
	p := spawn(t, filepath.Dir(dbPath), childEnv(), args...).waitReady(t)
	if p.base != "http://"+addr {
		t.Fatalf("latchkey listens on %s, not on %s", p.base, addr)
	}
	return p
}

// TestFastAPIExample: a user signs up at a real latchkey serve; the FastAPI
// example serves that user's tasks with the access token, refuses another
// user's path (403), and refuses every token that breaks one of Latchkey's
// rules with Latchkey's code and challenge. Each refusal has a forged twin
// that keeps the rule and is accepted, so a refusal cannot come from the
// forging itself.
func TestFastAPIExample(t *testing.T) {
	t.Parallel()
	needFastAPI(t)
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	lk := serveForFastAPI(t, dbPath)
	base, log := startFastAPI(t, "LATCHKEY_ISSUER="+lk.base, "LATCHKEY_AUDIENCE="+fastapiAudience)
	g := testkit.NewClient(t, lk.base, nil).SignUp("fastapi@example.com", "fastapi password 1234", "Fast")
	other := testkit.NewClient(t, lk.base, nil).SignUp("other@example.com", "other password 5678", "")
	c := testkit.NewClient(t, base, nil)
	c.FailOnServerError = true
	tasks := "/api/" + g.User.ID + "/tasks"

	fastapiTaskRoutes(t, c, tasks, g.AccessToken, other)
	fastapiTokenRules(t, c, tasks, newForger(t, dbPath, g.AccessToken), g)
	fastapiKeyRotation(t, c, lk, dbPath, tasks, g.AccessToken)

	// Stateless: with Latchkey stopped, a token naming an unknown key is
	// refused (not a 5xx), and the failed fetch it caused leaves the cached
	// keys as they were: the owner's token still works.
	lk.stop(t, syscall.SIGTERM, 10*time.Second)
	stranger := &forger{t: t, kid: "not-a-latchkey-key", key: newEd25519(t), claims: testkit.JSONPart(t, g.AccessToken, 1)}
	p := c.Call("GET", tasks, stranger.sign(nil, nil), nil).Labeled("unknown kid, Latchkey stopped").Problem(t, http.StatusUnauthorized, "invalid_token")
	if p["detail"] != "signing key unavailable" {
		t.Errorf("unknown kid with Latchkey stopped: detail %q, want the set could not be checked", p["detail"])
	}
	c.Call("GET", tasks, g.AccessToken, nil).Labeled("Latchkey stopped").WantStatus(t, http.StatusOK)
	testkit.AssertNoSecrets(t, log.String(), g.AccessToken, g.RefreshToken, other.AccessToken)
}

// TestFastAPIExampleShortTTL: a real token of a Latchkey whose access TTL
// is 6 s, unforged, works at once and is token_expired a second after its
// exp: its leeway is a tenth of its lifetime (0.6 s), not 30 s. (6 s, not
// less, so that a loaded machine still gets the fresh token there in time.)
func TestFastAPIExampleShortTTL(t *testing.T) {
	t.Parallel()
	needFastAPI(t)
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	lk := serveForFastAPI(t, dbPath, "--access-ttl", "6s")
	base, _ := startFastAPI(t, "LATCHKEY_ISSUER="+lk.base, "LATCHKEY_AUDIENCE="+fastapiAudience)
	g := testkit.NewClient(t, lk.base, nil).SignUp("short@example.com", "short ttl password 1234", "")
	c := testkit.NewClient(t, base, nil)
	tasks := "/api/" + g.User.ID + "/tasks"
	claims := testkit.JSONPart(t, g.AccessToken, 1)
	exp, iat := int64(claims["exp"].(float64)), int64(claims["iat"].(float64))
	if exp-iat != 6 {
		t.Fatalf("exp - iat = %d, want the 6 s TTL", exp-iat)
	}
	c.Call("GET", tasks, g.AccessToken, nil).Labeled("fresh 6 s token").WantStatus(t, http.StatusOK)
	time.Sleep(time.Until(time.Unix(exp, 0).Add(time.Second)))
	c.Call("GET", tasks, g.AccessToken, nil).Labeled("a second past exp").Problem(t, http.StatusUnauthorized, "token_expired")
	// The refresh at Latchkey gives a token that works again.
	r := testkit.NewClient(t, lk.base, nil).Refresh(g.RefreshToken)
	r.WantStatus(t, http.StatusOK)
	c.Call("GET", tasks, r.JSON(t)["access_token"].(string), nil).Labeled("refreshed token").WantStatus(t, http.StatusOK)
}

// fastapiTaskRoutes walks the task routes with the owner's token, and
// checks that another user gets 403 on the owner's path and 404 for the
// owner's task on their own.
func fastapiTaskRoutes(t *testing.T, c *testkit.Client, tasks, tok string, other testkit.Grant) {
	t.Helper()
	r := c.Call("POST", tasks, tok, map[string]string{"title": "  walk the dog ", "description": "twice"})
	r.WantStatus(t, http.StatusCreated)
	var tk testkit.Task
	r.Decode(t, &tk)
	if tk.Title != "walk the dog" || tk.Description != "twice" || tk.Completed || tk.UserID != testkit.JSONPart(t, tok, 1)["sub"] {
		t.Errorf("created task = %+v", tk)
	}
	if loc := r.Header.Get("Location"); loc != tasks+"/"+tk.ID {
		t.Errorf("Location %q, want %q", loc, tasks+"/"+tk.ID)
	}
	one := tasks + "/" + tk.ID
	var list struct {
		Tasks      []testkit.Task `json:"tasks"`
		NextCursor *string        `json:"next_cursor"`
	}
	c.Call("GET", tasks, tok, nil).Decode(t, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].ID != tk.ID || list.NextCursor != nil {
		t.Errorf("list = %+v", list)
	}
	c.Call("GET", one, tok, nil).WantStatus(t, http.StatusOK)
	c.Call("PUT", one, tok, map[string]any{"title": "walk the cat", "description": "", "completed": true}).Decode(t, &tk)
	if tk.Title != "walk the cat" || !tk.Completed {
		t.Errorf("after PUT: %+v", tk)
	}
	c.Call("PATCH", one, tok, map[string]any{"description": "once"}).Decode(t, &tk)
	if tk.Title != "walk the cat" || tk.Description != "once" {
		t.Errorf("after PATCH: %+v", tk)
	}
	c.Call("PATCH", one+"/complete", tok, nil).Decode(t, &tk)
	if tk.Completed {
		t.Error("PATCH /complete did not toggle completed back to false")
	}
	c.Call("GET", tasks+"?status=completed", tok, nil).Decode(t, &list)
	if len(list.Tasks) != 0 {
		t.Errorf("status=completed lists %d tasks, want 0", len(list.Tasks))
	}
	c.Call("POST", tasks, tok, map[string]string{"title": " "}).Problem(t, http.StatusBadRequest, "validation_failed")
	c.Call("POST", tasks, tok, map[string]any{"title": "x", "owner": "y"}).Problem(t, http.StatusBadRequest, "invalid_request")
	c.Call("GET", tasks+"?limit=0", tok, nil).Problem(t, http.StatusBadRequest, "validation_failed")

	// Path user_id must be the token's sub: 403 for the owner's path with
	// the other user's valid token, and for any other path with the owner's.
	for _, x := range []struct{ path, tok string }{
		{tasks, other.AccessToken}, {one, other.AccessToken},
		{"/api/" + other.User.ID + "/tasks", tok}, {"/api/someone-else/tasks/" + tk.ID, tok},
	} {
		c.Call("GET", x.path, x.tok, nil).Labeled("another user's path").Problem(t, http.StatusForbidden, "forbidden")
	}
	c.Call("GET", "/api/"+other.User.ID+"/tasks/"+tk.ID, other.AccessToken, nil).Problem(t, http.StatusNotFound, "not_found")
	c.Call("DELETE", one, tok, nil).WantStatus(t, http.StatusNoContent)
	c.Call("GET", one, tok, nil).Problem(t, http.StatusNotFound, "not_found")
}

// fastapiTokenRules: every token rule of docs/api.md's Tokens section, each
// refusal beside a forged token that keeps the rule and passes.
func fastapiTokenRules(t *testing.T, c *testkit.Client, tasks string, f *forger, g testkit.Grant) {
	t.Helper()
	now := time.Now().Unix()
	set := func(kv ...any) func(map[string]any) {
		return func(m map[string]any) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(m, kv[i].(string))
				} else {
					m[kv[i].(string)] = kv[i+1]
				}
			}
		}
	}
	stranger := newEd25519(t)
	otherKey := &forger{t: t, kid: f.kid, key: stranger, claims: f.claims}
	unknownKid := &forger{t: t, kid: "not-a-latchkey-key", key: stranger, claims: f.claims}
	parts := strings.Split(g.AccessToken, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(mustJSON(t, func() map[string]any {
		m := maps.Clone(f.claims)
		m["role"] = "admin"
		return m
	}())) + "." + parts[2]
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(f.claims))
	hs.Header["typ"], hs.Header["kid"] = "at+jwt", f.kid
	hsTok, err := hs.SignedString([]byte(f.key.Public().(ed25519.PublicKey))) // the public key as an HMAC secret
	if err != nil {
		t.Fatal(err)
	}
	none := rawJWS(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": f.kid}, f.claims, nil)
	noneSigned := strings.TrimSuffix(none, ".") + "." + parts[2]

	for _, x := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"Latchkey's token", g.AccessToken, 200, ""},
		{"forged with the store's key, nothing changed", f.sign(nil, nil), 200, ""},
		{"typ application/at+jwt", f.sign(map[string]any{"typ": "application/at+jwt"}, nil), 200, ""},
		{"typ AT+JWT", f.sign(map[string]any{"typ": "AT+JWT"}, nil), 200, ""},
		{"aud a list holding ours", f.sign(nil, set("aud", []string{"another-api", fastapiAudience})), 200, ""},
		{"exp 10 s ago, inside the 30 s leeway", f.sign(nil, set("iat", now-910, "exp", now-10)), 200, ""},
		{"2-minute token, exp 6 s ago, inside its 12 s leeway", f.sign(nil, set("iat", now-126, "exp", now-6)), 200, ""},

		{"tampered claims", tampered, 401, "invalid_token"},
		{"signed by another key under Latchkey's kid", otherKey.sign(nil, nil), 401, "invalid_token"},
		{"signed by another key, unknown kid", unknownKid.sign(nil, nil), 401, "invalid_token"},
		{"no kid", f.sign(map[string]any{"kid": nil}, nil), 401, "invalid_token"},
		{"HS256 keyed with Latchkey's public key", hsTok, 401, "invalid_token"},
		{"alg none", none, 401, "invalid_token"},
		{"alg none with a real signature", noneSigned, 401, "invalid_token"},
		{"another aud", f.sign(nil, set("aud", "another-api")), 401, "invalid_token"},
		{"no aud", f.sign(nil, set("aud", nil)), 401, "invalid_token"},
		{"another iss", f.sign(nil, set("iss", "http://127.0.0.1:1")), 401, "invalid_token"},
		{"no iss", f.sign(nil, set("iss", nil)), 401, "invalid_token"},
		{"typ JWT (an ID token's)", f.sign(map[string]any{"typ": "JWT"}, nil), 401, "invalid_token"},
		{"typ secevent+jwt (a SET's)", f.sign(map[string]any{"typ": "secevent+jwt"}, nil), 401, "invalid_token"},
		{"no typ", f.sign(map[string]any{"typ": nil}, nil), 401, "invalid_token"},
		{"the refresh token", g.RefreshToken, 401, "invalid_token"},
		{"crit [exp]", f.sign(map[string]any{"crit": []string{"exp"}}, nil), 401, "invalid_token"},
		{"crit [b64], which PyJWT knows", f.sign(map[string]any{"crit": []string{"b64"}, "b64": true}, nil), 401, "invalid_token"},
		{"no exp", f.sign(nil, set("exp", nil)), 401, "invalid_token"},
		{"no sub", f.sign(nil, set("sub", nil)), 401, "invalid_token"},
		{"no sid", f.sign(nil, set("sid", nil)), 401, "invalid_token"},
		{"empty jti", f.sign(nil, set("jti", "")), 401, "invalid_token"},
		{"nbf in 2 minutes", f.sign(nil, set("nbf", now+120)), 401, "invalid_token"},
		{"over 8192 bytes", f.sign(nil, set("pad", strings.Repeat("x", 8192))), 401, "invalid_token"},
		{"expired and another aud", f.sign(nil, set("aud", "another-api", "exp", now-3600)), 401, "invalid_token"},

		{"exp 40 s ago", f.sign(nil, set("iat", now-940, "exp", now-40)), 401, "token_expired"},
		{"2-minute token, exp 18 s ago, past its 12 s leeway", f.sign(nil, set("iat", now-138, "exp", now-18)), 401, "token_expired"},
	} {
		r := c.Call("GET", tasks, x.token, nil).Labeled(x.name)
		if x.status == 200 {
			r.WantStatus(t, http.StatusOK)
			continue
		}
		p := r.Problem(t, x.status, x.code)
		if secret := x.token[strings.Index(x.token, ".")+1:]; strings.Contains(r.Header.Get("WWW-Authenticate")+p["detail"].(string), secret[:min(len(secret), 16)]) {
			t.Errorf("%s: the answer echoes the token", x.name)
		}
	}
	// Latchkey answered: the kid is unknown, not the set unavailable.
	if p := c.Call("GET", tasks, unknownKid.sign(nil, nil), nil).JSON(t); p["detail"] != "unknown signing key" {
		t.Errorf("unknown kid: detail %q, want unknown signing key", p["detail"])
	}
	fastapiBearerRules(t, c, tasks, g.AccessToken)
}

// fastapiBearerRules: where a token may come from.
func fastapiBearerRules(t *testing.T, c *testkit.Client, tasks, tok string) {
	t.Helper()
	r := c.Call("GET", tasks, "", nil).Labeled("no Authorization")
	r.Problem(t, http.StatusUnauthorized, "missing_token")
	if wa := r.Header.Get("WWW-Authenticate"); wa != `Bearer realm="latchkey"` {
		t.Errorf("missing token: WWW-Authenticate %q, want the bare challenge", wa)
	}
	c.Call("GET", tasks, "", nil, "Authorization", "Basic "+tok).Labeled("Basic scheme").Problem(t, http.StatusUnauthorized, "missing_token")
	c.Call("GET", tasks+"?access_token="+tok, "", nil).Labeled("token in the query").Problem(t, http.StatusUnauthorized, "missing_token")
	c.Call("GET", tasks+"?a=1;ACCESS%5FTOKEN="+tok, tok, nil).Labeled("token in the query beside the header").Problem(t, http.StatusUnauthorized, "invalid_token")
	c.Call("GET", tasks, "", nil, "Authorization", "Bearer ").Labeled("Bearer without a token").Problem(t, http.StatusUnauthorized, "invalid_token")
	c.Call("GET", tasks, "", nil, "Authorization", "bearer "+tok).Labeled("scheme in lower case").WantStatus(t, http.StatusOK)

	req, _ := http.NewRequest("GET", c.Base+tasks, nil)
	req.Header["Authorization"] = []string{"Bearer " + tok, "Bearer " + tok}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("two Authorization headers: %d %q, want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// fastapiKeyRotation: after `latchkey keys rotate`, a token with the new kid
// works at its first try, without restarting the service.
func fastapiKeyRotation(t *testing.T, c *testkit.Client, lk *proc, dbPath, tasks, tok string) {
	t.Helper()
	if code, _, stderr := runCLI(t, nil, "", "keys", "rotate", "--database-url", "sqlite:"+dbPath); code != 0 {
		t.Fatalf("keys rotate: exit %d, %q", code, stderr)
	}
	kek, err := os.ReadFile(dbPath + ".key")
	if err != nil {
		t.Fatal(err)
	}
	old := testkit.JSONPart(t, tok, 0)["kid"]
	f := &forger{t: t, claims: testkit.JSONPart(t, tok, 1)}
	for kid, key := range openedKeys(t, dbPath, kek) {
		if kid != old {
			f.kid, f.key = kid, key
		}
	}
	if f.kid == "" {
		t.Fatal("keys rotate made no new key")
	}
	lc := testkit.NewClient(t, lk.base, nil)
	if _, ok := testkit.Poll(5*time.Second, 50*time.Millisecond, func() bool {
		return strings.Contains(string(lc.Call("GET", "/.well-known/jwks.json", "", nil).Body), f.kid)
	}); !ok {
		t.Fatal("Latchkey's JWKS did not publish the new key within 5 s")
	}
	start := time.Now()
	c.Call("GET", tasks, f.sign(nil, nil), nil).Labeled("the rotated key's token").WantStatus(t, http.StatusOK)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the rotated key took %v to be accepted, want about a second at most", d)
	}
}

// TestFastAPIExampleConfig: the example refuses to start without an issuer
// or an audience, or with an issuer that is plain http to another host than
// a loopback one (RemoteJWKS's rule); https to any host starts.
func TestFastAPIExampleConfig(t *testing.T) {
	t.Parallel()
	needFastAPI(t)
	for _, x := range []struct{ name, issuer, audience, want string }{
		{"no issuer", "", "a", "LATCHKEY_ISSUER is required"},
		{"no audience", "https://auth.example.com", "", "LATCHKEY_AUDIENCE is required"},
		{"plain http to another host", "http://auth.example.com", "a", "must use https"},
		{"plain http to a private address", "http://10.0.0.1:8080", "a", "must use https"},
	} {
		t.Run(x.name, func(t *testing.T) {
			t.Parallel()
			fastapiRefused(t, x.issuer, x.audience, x.want)
		})
	}
	t.Run("https to any host", func(t *testing.T) {
		t.Parallel()
		startFastAPI(t, "LATCHKEY_ISSUER=https://auth.example.com", "LATCHKEY_AUDIENCE=a")
	})
}

// fastapiRefused starts the example with issuer and audience and wants it
// to exit at once with a message containing want.
func fastapiRefused(t *testing.T, issuer, audience, want string) {
	t.Helper()
	cmd, log := fastapiCmd(freeAddr(t), "LATCHKEY_ISSUER="+issuer, "LATCHKEY_AUDIENCE="+audience)
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(log.String(), want) {
			t.Errorf("exit %v, log %q; want a failure saying %q", err, log.String(), want)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Errorf("the example started, want a failure saying %q", want)
	}
}

// TestFastAPIExampleUnit runs the example's Python unit tests
// (examples/fastapi/tests): the JWKS cache's timing on a fake clock, the
// leeway rule and the bearer rules, which the end-to-end test cannot reach
// in seconds.
func TestFastAPIExampleUnit(t *testing.T) {
	t.Parallel()
	needFastAPI(t)
	cmd := exec.Command(fastapiPython, "-m", "unittest", "discover", "-s", "tests", "-t", ".")
	cmd.Dir, _ = filepath.Abs("../../examples/fastapi")
	cmd.Env = fastapiEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python unit tests: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "\nOK") {
		t.Fatalf("python unit tests did not say OK:\n%s", out)
	}
}

// startFastAPIFeed runs latchkey serve (auth rate limit off: the test signs
// in many times), registers a receiver with the real `latchkey receiver add`
// against the same store, and starts the example with its secret.
func startFastAPIFeed(t *testing.T, before func(lk *proc)) (lk *proc, dbPath, base, secret string, log *testkit.LogBuffer, cmd *exec.Cmd) {
	t.Helper()
	dbPath = filepath.Join(t.TempDir(), "lk.db")
	lk = serveForFastAPI(t, dbPath, "--auth-rate", "0")
	secret = addReceiver(t, map[string]string{"LATCHKEY_DATABASE_URL": "sqlite:" + dbPath}, "tasks-example", "https://tasks.example")
	if before != nil {
		before(lk)
	}
	base, log, cmd = startFastAPICmd(t, "LATCHKEY_ISSUER="+lk.base, "LATCHKEY_AUDIENCE="+fastapiAudience, "LATCHKEY_RECEIVER_SECRET="+secret)
	t.Cleanup(func() { testkit.AssertNoSecrets(t, log.String(), secret) })
	return lk, dbPath, base, secret, log, cmd
}

// fastapiStreams is how many streams the receiver of secret has.
func fastapiStreams(t *testing.T, lk *proc, secret string) int {
	t.Helper()
	var list []map[string]any
	testkit.NewClient(t, lk.base, nil).Call("GET", "/ssf/streams", secret, nil).Decode(t, &list)
	return len(list)
}

// fastapiAnswer is the status and problem code of GET path with tok.
func fastapiAnswer(t *testing.T, hc *http.Client, url, tok string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var p struct{ Code, Detail string }
	if resp.StatusCode != http.StatusOK {
		json.NewDecoder(resp.Body).Decode(&p)
	}
	return resp.StatusCode, p.Code, p.Detail
}

// TestFastAPIExampleFeed: the example subscribed to Latchkey's revocation
// feed. A token revoked before the service started is refused from its
// first request (the new stream is seeded); then, over 200 sign-outs of
// sessions of 5 users, the time from the sign-out's 204 until the service
// answers 401 token_revoked is measured: p50 and p99 are printed, and p99
// over 1.5 s (issue 15's bound) fails. At shutdown the stream is deleted.
func TestFastAPIExampleFeed(t *testing.T) {
	t.Parallel()
	needFastAPI(t)
	const pw = "feed password 1234"
	var early testkit.Grant
	lk, _, base, secret, log, cmd := startFastAPIFeed(t, func(lk *proc) {
		lc := testkit.NewClient(t, lk.base, nil)
		early = lc.SignUp("early@example.com", pw, "")
		lc.Call("POST", "/api/auth/signout", early.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	})
	lc := testkit.NewClient(t, lk.base, nil)
	hc := &http.Client{Timeout: 5 * time.Second}
	url := func(g testkit.Grant) string { return base + "/api/" + g.User.ID + "/tasks" }
	if st, code, _ := fastapiAnswer(t, hc, url(early), early.AccessToken); st != 401 || code != "token_revoked" {
		t.Errorf("a token revoked before the service started: %d %s at its first request, want 401 token_revoked", st, code)
	}
	again := lc.SignIn("early@example.com", pw)
	if st, _, _ := fastapiAnswer(t, hc, url(again), again.AccessToken); st != 200 {
		t.Errorf("the same user's new session: %d, want 200", st)
	}

	emails := []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"}
	for _, e := range emails {
		lc.SignUp(e, pw, "")
	}
	const n = 200 // as the issue measures the Go service
	var took []time.Duration
	for i := range n {
		g := lc.SignIn(emails[i%len(emails)], pw)
		if st, code, _ := fastapiAnswer(t, hc, url(g), g.AccessToken); st != 200 {
			t.Fatalf("sign-out %d: the fresh token got %d %s, want 200", i, st, code)
		}
		lc.Call("POST", "/api/auth/signout", g.AccessToken, nil).WantStatus(t, http.StatusNoContent)
		start := time.Now()
		for {
			st, code, _ := fastapiAnswer(t, hc, url(g), g.AccessToken)
			if st == 401 && code == "token_revoked" {
				took = append(took, time.Since(start))
				break
			}
			if st != 200 {
				t.Fatalf("sign-out %d: %d %s while waiting for token_revoked", i, st, code)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("sign-out %d: still accepted 5 s after the sign-out", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	slices.Sort(took)
	p50, p99 := took[len(took)/2], took[(len(took)*99+99)/100-1]
	t.Logf("FastAPI example, sign-out to 401 token_revoked over %d sign-outs: p50 %v, p99 %v, max %v", n, p50, p99, took[len(took)-1])
	if p99 > 1500*time.Millisecond {
		t.Errorf("p99 %v over issue 15's 1.5 s", p99)
	}
	if !strings.Contains(log.String(), "token refused: token_revoked (revoked)") {
		t.Error("the example did not log the refusals by code and reason")
	}
	testkit.AssertNoSecrets(t, log.String(), early.AccessToken, again.AccessToken, again.RefreshToken)

	// One stream per process, deleted when it shuts down (SIGTERM).
	if got := fastapiStreams(t, lk, secret); got != 1 {
		t.Errorf("the receiver has %d streams while the example runs, want 1", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := testkit.Poll(10*time.Second, 50*time.Millisecond, func() bool { return fastapiStreams(t, lk, secret) == 0 }); !ok {
		t.Error("the example's stream outlived its shutdown by 10 s")
	}
}

// TestFastAPIExampleFeedStale: stale mode, as in verify. A token 2 minutes
// old (forged with the store's key, else unchanged) passes while the feed is
// current; with Latchkey killed (SIGKILL), no poll answer comes, and at
// most 15 s after the last one it is 401 token_expired (revocations_stale)
// while a fresh token still passes; the outage is logged once. Latchkey
// restarted on the same address and store, the example's retries (at most
// 5 s apart, the first poll after an error returning at once) find the
// feed again by themselves and the old token passes again.
func TestFastAPIExampleFeedStale(t *testing.T) {
	t.Parallel()
	needFastAPI(t)
	lk, dbPath, base, _, log, _ := startFastAPIFeed(t, nil)
	g := testkit.NewClient(t, lk.base, nil).SignUp("stale@example.com", "stale password 1234", "")
	now := time.Now().Unix()
	old := newForger(t, dbPath, g.AccessToken).sign(nil, func(c map[string]any) { c["iat"], c["exp"] = now-120, now+780 })
	hc := &http.Client{Timeout: 5 * time.Second}
	url := base + "/api/" + g.User.ID + "/tasks"
	for name, tok := range map[string]string{"2-minute-old token": old, "fresh token": g.AccessToken} {
		if st, code, _ := fastapiAnswer(t, hc, url, tok); st != 200 {
			t.Fatalf("%s with the feed current: %d %s, want 200", name, st, code)
		}
	}
	args := lk.cmd.Args[1:]
	lk.stop(t, syscall.SIGKILL, 10*time.Second)
	var detail string
	took, ok := testkit.Poll(25*time.Second, 100*time.Millisecond, func() bool {
		st, code, d := fastapiAnswer(t, hc, url, old)
		detail = d
		return st == 401 && code == "token_expired"
	})
	if !ok {
		t.Fatal("the 2-minute-old token still passes 25 s after Latchkey was killed")
	}
	t.Logf("stale mode %v after Latchkey was killed", took.Round(time.Millisecond))
	if took > 16*time.Second || !strings.Contains(detail, "revocations_stale") {
		t.Errorf("stale %v after the kill (want at most 15 s after the last poll answer), detail %q", took, detail)
	}
	if st, code, _ := fastapiAnswer(t, hc, url, g.AccessToken); st != 200 {
		t.Errorf("a token younger than 60 s while stale: %d %s, want 200", st, code)
	}
	if n := strings.Count(log.String(), "revocation feed "+lk.base); n != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", n, log.String())
	}
	spawn(t, filepath.Dir(dbPath), childEnv(), args...).waitReady(t)
	if took, ok := testkit.Poll(8*time.Second, 100*time.Millisecond, func() bool {
		st, _, _ := fastapiAnswer(t, hc, url, old)
		return st == 200
	}); !ok {
		t.Error("the example did not recover within 8 s of Latchkey's restart")
	} else {
		t.Logf("recovered %v after Latchkey's restart", took.Round(time.Millisecond))
	}
	if !strings.Contains(log.String(), "revocation feed: works again") {
		t.Error("the recovery was not logged")
	}
}

// TestFastAPIExampleFeedWorkers: under uvicorn --workers 2 each worker
// process keeps its own stream (two streams), a sign-out is refused by
// both, and both streams are deleted at shutdown.
func TestFastAPIExampleFeedWorkers(t *testing.T) {
	t.Parallel()
	needFastAPI(t)
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	lk := serveForFastAPI(t, dbPath, "--auth-rate", "0")
	secret := addReceiver(t, map[string]string{"LATCHKEY_DATABASE_URL": "sqlite:" + dbPath}, "tasks-example", "https://tasks.example")
	addr := freeAddr(t)
	cmd, log := fastapiCmd(addr, "LATCHKEY_ISSUER="+lk.base, "LATCHKEY_AUDIENCE="+fastapiAudience, "LATCHKEY_RECEIVER_SECRET="+secret)
	cmd.Args = append(cmd.Args, "--workers", "2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("log of the FastAPI example:\n%s", log.String())
		}
	})
	if _, ok := testkit.Poll(20*time.Second, 100*time.Millisecond, func() bool { return fastapiStreams(t, lk, secret) == 2 }); !ok {
		t.Fatalf("want 2 streams for 2 workers, have %d", fastapiStreams(t, lk, secret))
	}
	g := testkit.NewClient(t, lk.base, nil).SignUp("workers@example.com", "workers password 1234", "")
	url := "http://" + addr + "/api/" + g.User.ID + "/tasks"
	hc := &http.Client{Timeout: 5 * time.Second}
	if _, ok := testkit.Poll(10*time.Second, 50*time.Millisecond, func() bool {
		st, _, _ := fastapiAnswer(t, hc, url, g.AccessToken)
		return st == 200
	}); !ok {
		t.Fatal("the workers do not accept a fresh token")
	}
	testkit.NewClient(t, lk.base, nil).Call("POST", "/api/auth/signout", g.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	time.Sleep(500 * time.Millisecond)
	for i := range 20 { // new connections, spread over both workers
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		if st, code, _ := fastapiAnswer(t, c, url, g.AccessToken); st != 401 || code != "token_revoked" {
			t.Fatalf("request %d half a second after the sign-out: %d %s, want 401 token_revoked", i, st, code)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := testkit.Poll(15*time.Second, 100*time.Millisecond, func() bool { return fastapiStreams(t, lk, secret) == 0 }); !ok {
		t.Errorf("%d streams left 15 s after the workers' shutdown", fastapiStreams(t, lk, secret))
	}
}
