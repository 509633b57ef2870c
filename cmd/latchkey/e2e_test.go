package main

// End-to-end tests of the real binary: built once in TestMain, run as child
// processes with a clean environment on 127.0.0.1:0 and a temporary SQLite
// file, driven over HTTP.

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testkit"
)

// binPath is the latchkey binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "latchkey-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "latchkey")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.StopShared()
	os.RemoveAll(dir)
	os.Exit(code)
}

// childEnv is the test's environment without any LATCHKEY_ setting, plus
// extra ("KEY=value").
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// proc is one running latchkey process.
type proc struct {
	cmd     *exec.Cmd
	log     *testkit.LogBuffer // stdout and stderr
	base    string             // http://127.0.0.1:PORT once ready
	started time.Time
	ready   time.Duration // from start to the listening line
	exited  chan struct{}
	waitErr error // valid once exited is closed
}

// spawn starts the binary in dir with env and returns at once. The process
// is killed, if still running, in t.Cleanup.
func spawn(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	return spawnExe(t, binPath, dir, env, args...)
}

// spawnExe is spawn for any executable.
func spawnExe(t *testing.T, exe, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{log: &testkit.LogBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Dir, p.cmd.Env = dir, env
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start latchkey: %v", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
		}
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("latchkey pid %d did not exit within 10 s of SIGKILL", p.cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("log of %s %q:\n%s", filepath.Base(exe), args, p.log.String())
		}
	})
	return p
}

// waitReady waits for the listening line and records the time it took.
func (p *proc) waitReady(t *testing.T) *proc {
	t.Helper()
	p.base = waitListening(t, p.log, p.exited, 10*time.Second)
	p.ready = time.Since(p.started)
	return p
}

// serveBin runs `latchkey serve` on 127.0.0.1:0 with the database at
// dbPath and waits until it is ready.
func serveBin(t *testing.T, dbPath string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + dbPath}, extra...)
	return spawn(t, filepath.Dir(dbPath), childEnv(), args...).waitReady(t)
}

// stop signals the process and waits up to timeout for it to exit.
func (p *proc) stop(t *testing.T, sig os.Signal, timeout time.Duration) (exitCode int, took time.Duration) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("latchkey did not exit within %v of %v", timeout, sig)
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

// cookie returns the latchkey_refresh cookie a response sets, or nil.
func refreshCookieOf(r testkit.Response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "latchkey_refresh" {
			return c
		}
	}
	return nil
}

func wantRefreshCookie(t *testing.T, what string, r testkit.Response, value string) {
	t.Helper()
	c := refreshCookieOf(r)
	switch {
	case c == nil:
		t.Errorf("%s: no latchkey_refresh cookie set", what)
	case c.Value != value:
		t.Errorf("%s: cookie value is not the body's refresh token", what)
	case !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/api/auth" || c.Secure:
		t.Errorf("%s: cookie attributes %q, want HttpOnly; SameSite=Strict; Path=/api/auth and no Secure over HTTP", what, r.Header.Values("Set-Cookie"))
	}
}

func TestE2EWalk(t *testing.T) {
	t.Parallel()
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	c := testkit.NewClient(t, p.base, nil)
	const pw, otherPW = "walk-password-1234", "other-password-5678"

	r := c.Call("POST", "/api/auth/signup", "", map[string]string{"email": "walker@example.com", "password": pw, "name": "Walker"})
	g := r.Grant(t, http.StatusCreated)
	wantRefreshCookie(t, "sign-up", r, g.RefreshToken)
	if g.User.Email != "walker@example.com" || g.User.Name != "Walker" || g.User.Role != "user" {
		t.Errorf("sign-up user = %+v", g.User)
	}
	for k := range testkit.JSONPart(t, g.AccessToken, 1) {
		switch k {
		case "iss", "aud", "sub", "sid", "role", "iat", "exp", "jti", "amr":
		default:
			t.Errorf("access token carries claim %q, which the contract does not allow", k)
		}
	}
	uid, tasks := g.User.ID, "/api/"+g.User.ID+"/tasks"

	// Create three tasks.
	var created []testkit.Task
	for i, title := range []string{"first", "second", "third"} {
		r := c.Call("POST", tasks, g.AccessToken, map[string]string{"title": title, "description": fmt.Sprint("desc ", i)})
		r.WantStatus(t, http.StatusCreated)
		var tk testkit.Task
		r.Decode(t, &tk)
		if tk.ID == "" || tk.Title != title || tk.UserID != uid || tk.Completed {
			t.Errorf("created task = %+v", tk)
		}
		if loc := r.Header.Get("Location"); loc != tasks+"/"+tk.ID {
			t.Errorf("Location %q, want %q", loc, tasks+"/"+tk.ID)
		}
		created = append(created, tk)
	}
	first, second, third := created[0], created[1], created[2]

	// List, newest first.
	var list struct {
		Tasks      []testkit.Task `json:"tasks"`
		NextCursor *string        `json:"next_cursor"`
	}
	c.Call("GET", tasks, g.AccessToken, nil).Decode(t, &list)
	if got := titles(list.Tasks); got != "third,second,first" || list.NextCursor != nil {
		t.Errorf("list = %s (next_cursor %v), want third,second,first and no cursor", got, list.NextCursor)
	}

	// Get, replace, patch, toggle.
	var tk testkit.Task
	r = c.Call("GET", tasks+"/"+first.ID, g.AccessToken, nil)
	r.WantStatus(t, http.StatusOK)
	r.Decode(t, &tk)
	if tk.ID != first.ID || tk.Title != "first" || tk.Description != "desc 0" {
		t.Errorf("get = %+v", tk)
	}
	r = c.Call("PUT", tasks+"/"+first.ID, g.AccessToken, map[string]any{"title": "first, replaced", "description": "new", "completed": true})
	r.WantStatus(t, http.StatusOK)
	r.Decode(t, &tk)
	if tk.Title != "first, replaced" || tk.Description != "new" || !tk.Completed {
		t.Errorf("after PUT = %+v", tk)
	}
	r = c.Call("PATCH", tasks+"/"+first.ID, g.AccessToken, map[string]any{"title": "  first, patched  "})
	r.WantStatus(t, http.StatusOK)
	r.Decode(t, &tk)
	if tk.Title != "first, patched" || tk.Description != "new" || !tk.Completed {
		t.Errorf("after PATCH of the title = %+v (description and completed must stay)", tk)
	}
	for i, want := range []bool{false, true} {
		r = c.Call("PATCH", tasks+"/"+first.ID+"/complete", g.AccessToken, nil)
		r.WantStatus(t, http.StatusOK)
		r.Decode(t, &tk)
		if tk.Completed != want {
			t.Errorf("toggle #%d: completed %v, want %v", i+1, tk.Completed, want)
		}
	}
	c.Call("GET", tasks+"?status=completed", g.AccessToken, nil).Decode(t, &list)
	if got := titles(list.Tasks); got != "first, patched" {
		t.Errorf("completed tasks = %s, want only the first", got)
	}

	// Delete.
	c.Call("DELETE", tasks+"/"+second.ID, g.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	c.Call("GET", tasks+"/"+second.ID, g.AccessToken, nil).Problem(t, http.StatusNotFound, "not_found")
	c.Call("DELETE", tasks+"/"+second.ID, g.AccessToken, nil).Problem(t, http.StatusNotFound, "not_found")

	// Another user sees none of it.
	o := c.SignUp("other@example.com", otherPW, "")
	c.Call("GET", tasks+"/"+third.ID, o.AccessToken, nil).Problem(t, http.StatusForbidden, "forbidden")
	c.Call("GET", "/api/"+o.User.ID+"/tasks/"+third.ID, o.AccessToken, nil).Problem(t, http.StatusNotFound, "not_found")

	// Refresh with the body token: a new refresh token; the old access
	// token stays valid until it expires.
	r = c.Refresh(g.RefreshToken)
	g2 := r.Grant(t, http.StatusOK)
	wantRefreshCookie(t, "refresh", r, g2.RefreshToken)
	if g2.RefreshToken == g.RefreshToken || g2.SessionID != g.SessionID || g2.User.ID != uid {
		t.Errorf("refresh: same refresh token %v, session %s (want %s), user %s", g2.RefreshToken == g.RefreshToken, g2.SessionID, g.SessionID, g2.User.ID)
	}
	c.Call("GET", "/api/auth/me", g.AccessToken, nil).WantStatus(t, http.StatusOK)

	// Two tabs refresh the same token back to back: both succeed with the
	// same new token.
	tabA := c.Refresh(g2.RefreshToken).Grant(t, http.StatusOK)
	tabB := c.Refresh(g2.RefreshToken).Grant(t, http.StatusOK)
	if tabA.RefreshToken != tabB.RefreshToken || tabA.RefreshToken == g2.RefreshToken {
		t.Errorf("two-tab refresh: tokens equal %v, rotated %v; want the same new token for both", tabA.RefreshToken == tabB.RefreshToken, tabA.RefreshToken != g2.RefreshToken)
	}
	c.Call("GET", tasks, tabB.AccessToken, nil).WantStatus(t, http.StatusOK)

	// Sign out: the cookie is cleared, every access token of the session is
	// refused as revoked, and so is its refresh token.
	r = c.Call("POST", "/api/auth/signout", g.AccessToken, nil)
	r.WantStatus(t, http.StatusNoContent)
	if ck := refreshCookieOf(r); ck == nil || ck.Value != "" || ck.MaxAge >= 0 {
		t.Errorf("sign-out Set-Cookie %q, want latchkey_refresh cleared", r.Header.Values("Set-Cookie"))
	}
	for name, at := range map[string]string{"sign-up": g.AccessToken, "refreshed": g2.AccessToken, "tab A": tabA.AccessToken} {
		c.Call("GET", tasks, at, nil).Labeled(name+" access token after sign-out").Problem(t, http.StatusUnauthorized, "token_revoked")
	}
	c.Refresh(tabA.RefreshToken).Problem(t, http.StatusUnauthorized, "token_revoked")

	// The other user's session is untouched.
	c.Call("GET", "/api/"+o.User.ID+"/tasks", o.AccessToken, nil).WantStatus(t, http.StatusOK)

	testkit.AssertNoSecrets(t, p.log.String(), pw, otherPW,
		g.AccessToken, g.RefreshToken, g2.AccessToken, g2.RefreshToken,
		tabA.AccessToken, tabA.RefreshToken, tabB.AccessToken, o.AccessToken, o.RefreshToken)
}

func titles(ts []testkit.Task) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Title)
	}
	return strings.Join(s, ",")
}

// With no grace window, presenting a rotated refresh token again revokes
// the whole session.
func TestE2ERefreshReuse(t *testing.T) {
	t.Parallel()
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"), "--refresh-grace", "0")
	c := testkit.NewClient(t, p.base, nil)
	a := c.SignUp("reuse@example.com", "reuse-password-1234", "")
	tasks := "/api/" + a.User.ID + "/tasks"

	b := c.Refresh(a.RefreshToken).Grant(t, http.StatusOK)
	c.Call("GET", tasks, b.AccessToken, nil).WantStatus(t, http.StatusOK)

	c.Refresh(a.RefreshToken).Problem(t, http.StatusUnauthorized, "token_revoked")
	c.Refresh(b.RefreshToken).Problem(t, http.StatusUnauthorized, "token_revoked")
	c.Call("GET", tasks, b.AccessToken, nil).Problem(t, http.StatusUnauthorized, "token_revoked")
	c.Call("GET", tasks, a.AccessToken, nil).Problem(t, http.StatusUnauthorized, "token_revoked")
}

// Two processes on one SQLite file: a sign-out on one reaches the other
// within 2 s.
func TestE2ETwoProcessesOneFile(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	pa := serveBin(t, dbPath)
	pb := serveBin(t, dbPath)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	const pw = "shared-password-1234"

	up := cb.SignUp("two@example.com", pw, "") // the user is made on B...
	g := ca.SignIn("two@example.com", pw)      // ...and signs in on A
	tasks := "/api/" + g.User.ID + "/tasks"
	cb.Call("GET", tasks, g.AccessToken, nil).WantStatus(t, http.StatusOK)
	ca.Call("GET", tasks, up.AccessToken, nil).WantStatus(t, http.StatusOK)

	ca.Call("POST", "/api/auth/signout", g.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	signedOut := time.Now()
	ca.Call("GET", tasks, g.AccessToken, nil).Problem(t, http.StatusUnauthorized, "token_revoked")

	var last testkit.Response
	_, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		last = cb.Call("GET", tasks, g.AccessToken, nil)
		return last.Status != http.StatusOK
	})
	latency := time.Since(signedOut)
	if !ok {
		t.Fatalf("B still accepts the signed-out token 5 s after the sign-out on A")
	}
	t.Logf("revocation reached the other process after %v", latency)
	last.Problem(t, http.StatusUnauthorized, "token_revoked")
	if latency > 2*time.Second {
		t.Errorf("revocation took %v to reach the other process, want at most 2 s", latency)
	}
	cb.Refresh(g.RefreshToken).Problem(t, http.StatusUnauthorized, "token_revoked")
	// Only that session: the sign-up session still works on both.
	cb.Call("GET", tasks, up.AccessToken, nil).WantStatus(t, http.StatusOK)
	ca.Call("GET", tasks, up.AccessToken, nil).WantStatus(t, http.StatusOK)
}

// Two processes starting at the same moment on a fresh file both migrate
// and come up, and each accepts the other's tokens within 2 s.
func TestE2EConcurrentFirstStart(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	args := []string{"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + dbPath}
	pa := spawn(t, filepath.Dir(dbPath), childEnv(), args...)
	pb := spawn(t, filepath.Dir(dbPath), childEnv(), args...)
	pa.waitReady(t)
	pb.waitReady(t)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	ga := ca.SignUp("a@example.com", "concurrent-password-a", "")
	gb := cb.SignUp("b@example.com", "concurrent-password-b", "")
	for _, x := range []struct {
		name string
		c    *testkit.Client
		g    testkit.Grant
	}{{"A's token on B", cb, ga}, {"B's token on A", ca, gb}} {
		var last testkit.Response
		took, ok := testkit.Poll(2*time.Second, 20*time.Millisecond, func() bool {
			last = x.c.Call("GET", "/api/"+x.g.User.ID+"/tasks", x.g.AccessToken, nil)
			return last.Status == http.StatusOK
		})
		if !ok {
			t.Errorf("%s: still %d after 2 s: %s", x.name, last.Status, last.Body)
		} else {
			t.Logf("%s accepted after %v", x.name, took)
		}
	}
}

func TestE2EGracefulShutdown(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dbPath := filepath.Join(t.TempDir(), "lk.db")
			p := serveBin(t, dbPath)
			c := testkit.NewClient(t, p.base, nil)
			c.Call("GET", "/readyz", "", nil).WantStatus(t, http.StatusOK)
			code, took := p.stop(t, sig, 5*time.Second)
			t.Logf("exited %d after %v", code, took)
			if code != 0 {
				t.Errorf("exit status %d after %v, want 0", code, sig)
			}
			log := p.log.String()
			if !strings.Contains(log, "msg=stopped") || !strings.Contains(log, `msg="shutting down"`) {
				t.Errorf("log does not say the server shut down and stopped:\n%s", log)
			}
			// The store is closed cleanly: latchkey opens it again.
			mig := spawn(t, filepath.Dir(dbPath), childEnv(), "migrate", "--database-url", "sqlite:"+dbPath)
			select {
			case <-mig.exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("migrate after shutdown did not finish in 10 s")
			}
			if mig.waitErr != nil {
				t.Errorf("migrate after shutdown: %v\n%s", mig.waitErr, mig.log.String())
			}
		})
	}
}

// A request in flight when SIGTERM arrives is answered in full, its write
// is committed, and the process then exits 0.
func TestE2EGracefulShutdownInFlight(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p := serveBin(t, dbPath)
	const pw = "in-flight-password-1234"
	body := `{"email":"inflight@example.com","password":"` + pw + `"}`

	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	br := bufio.NewReader(conn)
	fmt.Fprintf(conn, "POST /api/auth/signup HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		strings.TrimPrefix(p.base, "http://"), len(body))
	// The server says 100 Continue once the handler reads the body: from
	// then on the request is in flight.
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("want 100 Continue, got %v, %v", cont, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, ok := testkit.Poll(5*time.Second, 5*time.Millisecond, func() bool {
		return strings.Contains(p.log.String(), `msg="shutting down"`)
	}); !ok {
		t.Fatalf("no \"shutting down\" in the log 5 s after SIGTERM")
	}
	if _, err := conn.Write([]byte(body)); err != nil {
		t.Fatalf("write body after SIGTERM: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight sign-up got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight sign-up answered %d, want 201", resp.StatusCode)
	}
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("latchkey did not exit within 5 s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	// The account was committed: a new server on the file signs it in.
	c := testkit.NewClient(t, serveBin(t, dbPath).base, nil)
	c.SignIn("inflight@example.com", pw)
}

// Failed sign-ins: a wrong password and an unknown email get the same 401
// body, again and again (more times than the hashing gate has slots, so a
// slot that is never given back shows as a 503), and the right password
// still works afterwards.
func TestE2ESignInFailures(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p := spawn(t, filepath.Dir(dbPath), childEnv("GOMAXPROCS=2"),
		"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:"+dbPath).waitReady(t)
	c := testkit.NewClient(t, p.base, nil)
	const pw = "right-password-1234"
	c.SignUp("fail@example.com", pw, "")
	var bodies []string
	for i := 0; i < 4; i++ {
		for _, cred := range [][2]string{{"fail@example.com", "wrong-password-1234"}, {"nobody@example.com", "wrong-password-1234"}} {
			r := c.Call("POST", "/api/auth/signin", "", map[string]string{"email": cred[0], "password": cred[1]})
			r.Problem(t, http.StatusUnauthorized, "invalid_credentials")
			bodies = append(bodies, string(r.Body))
		}
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("sign-in failures differ: %q vs %q", bodies[0], b)
			break
		}
	}
	c.SignIn("fail@example.com", pw)
}

// `latchkey serve` with no flag and no setting but the address creates
// latchkey.db in the working directory and becomes ready.
func TestE2EStartupDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := spawn(t, dir, childEnv("LATCHKEY_ADDR=127.0.0.1:0"), "serve").waitReady(t)
	t.Logf("ready %v after start", p.ready)
	if p.ready > 5*time.Second {
		t.Errorf("took %v to become ready, want under 5 s", p.ready)
	}
	if fi, err := os.Stat(filepath.Join(dir, "latchkey.db")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("latchkey.db in the working directory: %v", err)
	}
	c := testkit.NewClient(t, p.base, nil)
	c.Call("GET", "/healthz", "", nil).WantStatus(t, http.StatusOK)
	c.Call("GET", "/readyz", "", nil).WantStatus(t, http.StatusOK)
	r := c.Call("GET", "/.well-known/jwks.json", "", nil)
	r.WantStatus(t, http.StatusOK)
	if !strings.Contains(string(r.Body), `"kty":"OKP"`) {
		t.Errorf("default JWKS %s lacks an Ed25519 key", r.Body)
	}
}

// Bad input through the real server is answered 4xx problem+json, never
// 5xx, and the server's log never holds a secret.
func TestE2EBadInput(t *testing.T) {
	t.Parallel()
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	c := testkit.NewClient(t, p.base, nil)
	const pw, probePW = "bad-input-password-1234", "probe-password-5678"
	g := c.SignUp("bad@example.com", pw, "")
	tasks := "/api/" + g.User.ID + "/tasks"

	huge := `{"title":"` + strings.Repeat("a", 3<<19) + `"}` // 1.5 MiB
	bodies := []struct {
		name, body string
		status     int
	}{
		{"malformed", `{email: "bad@example.com", "password": "` + probePW + `"}`, http.StatusBadRequest},
		{"truncated", `{"email":"bad@example.com","password":"` + probePW, http.StatusBadRequest},
		{"invalid UTF-8", "{\"email\":\"bad\xff@example.com\",\"password\":\"" + probePW + "\"}", http.StatusBadRequest},
		{"trailing data", `{"email":"bad@example.com","password":"` + probePW + `"} {}`, http.StatusBadRequest},
		{"trailing garbage", `{"email":"bad@example.com","password":"` + probePW + `"}x`, http.StatusBadRequest},
		{"unknown field", `{"email":"bad@example.com","password":"` + probePW + `","role":"admin"}`, http.StatusBadRequest},
		{"wrong type", `{"email":"bad@example.com","password":12345678}`, http.StatusBadRequest},
		{"array", `[]`, http.StatusBadRequest},
		{"1.5 MiB", huge, http.StatusRequestEntityTooLarge},
	}
	taskBodies := []struct {
		name, body string
		status     int
	}{
		{"malformed", `{title: "x"}`, http.StatusBadRequest},
		{"truncated", `{"title":"x`, http.StatusBadRequest},
		{"invalid UTF-8", "{\"title\":\"a\xffb\"}", http.StatusBadRequest},
		{"trailing data", `{"title":"x"}{"title":"y"}`, http.StatusBadRequest},
		{"unknown field", `{"title":"x","user_id":"someone"}`, http.StatusBadRequest},
		{"wrong type", `{"title":42}`, http.StatusBadRequest},
		{"1.5 MiB", huge, http.StatusRequestEntityTooLarge},
	}
	for _, route := range []struct {
		method, path, bearer string
		cases                []struct {
			name, body string
			status     int
		}
	}{
		{"POST", "/api/auth/signin", "", bodies},
		{"POST", "/api/auth/signup", "", bodies},
		{"POST", tasks, g.AccessToken, taskBodies},
		{"PATCH", tasks + "/00000000-0000-0000-0000-000000000000", g.AccessToken, taskBodies},
	} {
		for _, tc := range route.cases {
			what := route.method + " " + route.path + ": " + tc.name
			r := c.Call(route.method, route.path, route.bearer, tc.body)
			r.Problem(t, tc.status, "invalid_request")
			if strings.Contains(string(r.Body), probePW) {
				t.Errorf("%s: the answer echoes the body: %s", what, r.Body)
			}
		}
	}

	garbage := "garbage-bearer-token-7f3a9c"
	big := strings.Repeat("A", 40<<10) + "." + strings.Repeat("B", 40<<10) + "." + strings.Repeat("C", 20<<10)
	for _, tc := range []struct{ name, token string }{
		{"garbage", garbage},
		{"100 KB", big},
		{"tampered", g.AccessToken[:len(g.AccessToken)-10] + "AAAAAAAAAA"},
	} {
		c.Call("GET", tasks, tc.token, nil).Problem(t, http.StatusUnauthorized, "invalid_token")
	}
	c.Call("GET", tasks, "", nil).Problem(t, http.StatusUnauthorized, "missing_token")

	// The server is still healthy, and its log holds none of the secrets.
	c.Call("GET", "/healthz", "", nil).WantStatus(t, http.StatusOK)
	testkit.AssertNoSecrets(t, p.log.String(), pw, probePW, g.AccessToken, g.RefreshToken, garbage, big)
}
