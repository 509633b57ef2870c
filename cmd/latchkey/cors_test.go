package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/testkit"
)

// TestE2ECORSOrigins: --cors-origins (and LATCHKEY_CORS_ORIGINS) take
// effect in the binary: the configured origin gets its preflight answered
// and may read and change, another origin gets no CORS header and its
// state changes are refused, and serve no longer warns the setting is
// not enforced.
func TestE2ECORSOrigins(t *testing.T) {
	const app = "https://app.example"
	for _, how := range []string{"flag", "env"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			dbPath := filepath.Join(t.TempDir(), "lk.db")
			var p *proc
			if how == "flag" {
				p = serveBin(t, dbPath, "--cors-origins", app+", https://other.example")
			} else {
				args := []string{"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + dbPath}
				p = spawn(t, filepath.Dir(dbPath), childEnv("LATCHKEY_CORS_ORIGINS="+app), args...).waitReady(t)
			}
			c := testkit.NewClient(t, p.base, nil)
			g := c.SignUp("ada@example.com", "correct horse battery", "")

			pre := c.Call("OPTIONS", "/api/"+g.User.ID+"/tasks", "", nil,
				"Origin", app, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
			pre.WantStatus(t, 204)
			for k, want := range map[string]string{
				"Access-Control-Allow-Origin":  app,
				"Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
				"Access-Control-Allow-Headers": "Authorization, Content-Type",
				"Access-Control-Max-Age":       "600",
			} {
				if got := pre.Header.Get(k); got != want {
					t.Errorf("preflight %s = %q, want %q", k, got, want)
				}
			}

			post := c.Call("POST", "/api/"+g.User.ID+"/tasks", g.AccessToken, map[string]string{"title": "from app"},
				"Origin", app, "Sec-Fetch-Site", "cross-site")
			post.WantStatus(t, 201)
			me := c.Call("GET", "/api/auth/me", g.AccessToken, nil, "Origin", app)
			me.WantStatus(t, 200)
			for _, r := range []testkit.Response{post, me} {
				if r.Header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
					t.Errorf("answer to the CORS origin: ACAO %q, Vary %q", r.Header.Get("Access-Control-Allow-Origin"), r.Header.Values("Vary"))
				}
				if v := r.Header.Get("Access-Control-Allow-Credentials"); v != "" {
					t.Errorf("Access-Control-Allow-Credentials %q", v)
				}
			}

			evil := c.Call("POST", "/api/"+g.User.ID+"/tasks", g.AccessToken, map[string]string{"title": "x"}, "Origin", "https://evil.example")
			evil.Problem(t, 403, "forbidden")
			other := c.Call("OPTIONS", "/api/auth/me", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
			for _, r := range []testkit.Response{evil, other} {
				for k := range r.Header {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("answer to another origin has %s", k)
					}
				}
			}

			log := p.log.String()
			if strings.Contains(log, "LATCHKEY_CORS_ORIGINS") && strings.Contains(log, "not enforced") {
				t.Errorf("serve still warns that LATCHKEY_CORS_ORIGINS is not enforced:\n%s", log)
			}
			if !strings.Contains(log, "origins="+app) {
				t.Errorf("serve does not log the CORS origins:\n%s", log)
			}
		})
	}
}

// TestCORSOriginsRefused: what is not an origin stops serve with exit 2
// and names the setting; "*" above all.
func TestCORSOriginsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"*", "app.example", "https://app.example/", "https://app.example/x",
		"https://app.example?x=1", "https://app.example#f", "https://user@app.example", "null", "https://"} {
		code, _, stderr := runCLI(t, nil, "", "serve", "--addr", "127.0.0.1:0",
			"--database-url", "sqlite:"+filepath.Join(dir, "lk.db"), "--cors-origins", "https://ok.example,"+bad)
		if code != 2 || !strings.Contains(stderr, "LATCHKEY_CORS_ORIGINS") {
			t.Errorf("--cors-origins %q: exit %d, stderr %q", bad, code, stderr)
		}
	}
}
