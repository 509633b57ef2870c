package main

// Helpers of nextjs_test.go: the Next.js + Better Auth example
// (examples/nextjs-better-auth) built for production and started on a
// loopback port, and a record of the requests a tab sends to one origin.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/testkit"
)

// needNextApp returns the example's directory. Without Node or its
// installed packages the test skips locally and fails under CI=true, as
// the Better Auth integration test does.
func needNextApp(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("../../examples/nextjs-better-auth")
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "next", "dist", "bin", "next")); err != nil {
		missing = "examples/nextjs-better-auth has no node_modules (run npm ci there; scripts/test.sh does)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Next.js example test: %s", missing)
		}
		t.Skipf("Next.js example test skipped: %s", missing)
	}
	return dir
}

// freeLoopbackPort returns a port on 127.0.0.1 that was free a moment ago:
// the app's URL must be known before it starts, since Latchkey is told to
// trust it (issuer, JWKS URL, CORS origin) and the app is told where
// Latchkey is.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// nodeIn runs `node args...` in dir with env added, failing the test (with
// its output) on error, and returns how long it took.
func nodeIn(t *testing.T, dir string, env []string, args ...string) time.Duration {
	t.Helper()
	cmd := exec.Command("node", args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return time.Since(start)
}

// nextApp is `next start` of the example.
type nextApp struct {
	base string
	log  *testkit.LogBuffer
}

// startNextApp runs the example's production build (`next start`, after its
// migration script has made Better Auth's tables) on 127.0.0.1:port, in a
// process group of its own that the test kills at the end, and waits until
// it answers.
func startNextApp(t *testing.T, dir string, port int, env []string) *nextApp {
	t.Helper()
	nodeIn(t, dir, env, "scripts/migrate.mjs")
	app := &nextApp{base: "http://127.0.0.1:" + strconv.Itoa(port), log: &testkit.LogBuffer{}}
	cmd := exec.Command("node", "node_modules/next/dist/bin/next", "start", "--hostname", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = app.log, app.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("next start: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("next start (pid %d) did not exit within 10 s of SIGKILL", cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("log of next start:\n%s", app.log.String())
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	_, ok := testkit.Poll(30*time.Second, 100*time.Millisecond, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		resp, err := client.Get(app.base + "/sign-in")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	select {
	case <-exited:
		t.Fatalf("next start exited: %s", app.log.String())
	default:
	}
	if !ok {
		t.Fatalf("next start did not answer on %s within 30 s: %s", app.base, app.log.String())
	}
	return app
}

// sentRequest is one request the page sent, with the Bearer token it
// carried (kept for comparison, never printed).
type sentRequest struct {
	ID     network.RequestID
	Method string
	URL    string
	Bearer string
}

// originLog records the requests a tab sends to one origin (preflights
// included, when the browser reports them).
type originLog struct {
	mu   sync.Mutex
	reqs []sentRequest
}

// watchOrigin starts recording the requests tb sends to origin.
func watchOrigin(tb *tab, origin string) *originLog {
	tb.t.Helper()
	l := &originLog{}
	err := chromedp.Listen(tb.ctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok || !strings.HasPrefix(e.Request.URL, origin+"/") {
			return
		}
		r := sentRequest{ID: e.RequestID, Method: e.Request.Method, URL: e.Request.URL}
		for k, v := range e.Request.Headers {
			if s, ok := v.(string); ok && strings.EqualFold(k, "Authorization") {
				r.Bearer = strings.TrimPrefix(s, "Bearer ")
			}
		}
		l.mu.Lock()
		l.reqs = append(l.reqs, r)
		l.mu.Unlock()
	})
	if err != nil {
		tb.t.Fatalf("listen to %s's requests: %v", tb.name, err)
	}
	return l
}

func (l *originLog) all() []sentRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sentRequest(nil), l.reqs...)
}

func (l *originLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// byID returns the request with this id.
func (l *originLog) byID(id network.RequestID) (sentRequest, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.reqs {
		if r.ID == id {
			return r, true
		}
	}
	return sentRequest{}, false
}

// lastBearer is the token of the latest request that carried one.
func (l *originLog) lastBearer() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.reqs) - 1; i >= 0; i-- {
		if l.reqs[i].Bearer != "" {
			return l.reqs[i].Bearer
		}
	}
	return ""
}

// responseBody is the body of the answer the tab got for request id.
func (tb *tab) responseBody(id network.RequestID) []byte {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
	if err != nil {
		tb.fail("read the body of request %s: %v", id, err)
	}
	return res.Body
}

// navigate loads u and waits until the document has loaded.
func (tb *tab) navigate(u string) {
	tb.t.Helper()
	tb.step("navigate to "+u, chromedp.Navigate(u))
	tb.waitJS("the page to load", `document.readyState === 'complete'`)
}

// present reports whether such an element is there now, without waiting.
func (e *el) present() bool {
	ctx, cancel := context.WithTimeout(e.tb.ctx, waitTimeout)
	defer cancel()
	_, err := e.lookup(ctx)
	return err == nil
}
