package main

// End-to-end tests of several `latchkey serve` processes on one PostgreSQL:
// the scale-out deployment. Each test gets a schema of its own in the
// package's throwaway cluster (internal/pgtest), or a cluster of its own
// when it stops the server.

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testkit"
)

// pgSecret is the LATCHKEY_SECRET_KEY the instances of a test share.
const pgSecret = "e2e-secret-key-shared-by-every-instance"

// servePG runs `latchkey serve` on 127.0.0.1:0 against the PostgreSQL
// database at url, without waiting for it to be ready.
func servePG(t *testing.T, url string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", url}, extra...)
	return spawn(t, t.TempDir(), childEnv("LATCHKEY_SECRET_KEY="+pgSecret), args...)
}

// cliPG runs a latchkey command against url and returns its output.
func cliPG(t *testing.T, url string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = childEnv("LATCHKEY_SECRET_KEY="+pgSecret, "LATCHKEY_DATABASE_URL="+url)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("latchkey %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// refusedWithin polls c with tok until it answers 401 token_revoked, for
// at most 2 s (the contract), and returns how long that took.
func refusedWithin(t *testing.T, c *testkit.Client, what, tok string, since time.Time) time.Duration {
	t.Helper()
	var last testkit.Response
	_, ok := testkit.Poll(2*time.Second, time.Millisecond, func() bool {
		last = c.Call("GET", "/api/auth/me", tok, nil)
		return last.Status != http.StatusOK
	})
	took := time.Since(since)
	if !ok {
		t.Fatalf("%s: the other instance still accepts the token after %v", what, took)
	}
	last.Problem(t, http.StatusUnauthorized, "token_revoked")
	return took
}

// TestE2EPostgresTwoInstances: two instances on one PostgreSQL, started
// at the same moment (so they migrate concurrently), act as one server: a
// token from A works on B, B refreshes what A issued, and every kind of
// revocation made on one is refused by the other within 2 s (the fan-out
// latency is printed; the target is 100 ms). After `keys rotate` both
// publish the same JWKS and accept each other's tokens.
func TestE2EPostgresTwoInstances(t *testing.T) {
	t.Parallel()
	url := pgtest.Shared(t).URL(t)
	pa, pb := servePG(t, url, "--refresh-grace", "0"), servePG(t, url, "--refresh-grace", "0")
	pa.waitReady(t)
	pb.waitReady(t)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	for _, c := range []*testkit.Client{ca, cb} {
		c.Call("GET", "/readyz", "", nil).WantStatus(t, http.StatusOK)
	}
	// Each instance checks its clock against the database's.
	for _, p := range []*proc{pa, pb} {
		if _, ok := testkit.Poll(5*time.Second, 10*time.Millisecond, func() bool {
			return strings.Contains(p.log.String(), `msg="clock checked against PostgreSQL"`)
		}); !ok {
			t.Errorf("no clock check in the log:\n%s", p.log.String())
		}
	}

	const pw = "scale-out-password"
	me := ca.SignUp("pg@example.com", pw, "Pat")
	cb.Call("GET", "/api/auth/me", me.AccessToken, nil).WantStatus(t, http.StatusOK)
	me = cb.Refresh(me.RefreshToken).Grant(t, http.StatusOK)
	ca.Call("POST", "/api/"+me.User.ID+"/tasks", me.AccessToken, map[string]string{"title": "made on A"}).
		WantStatus(t, http.StatusCreated)
	var list struct{ Tasks []testkit.Task }
	cb.Call("GET", "/api/"+me.User.ID+"/tasks", me.AccessToken, nil).Decode(t, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].Title != "made on A" {
		t.Fatalf("B lists %+v, want the task made on A", list.Tasks)
	}

	// Sign-out on A, refused on B: measured over several sessions.
	var took []time.Duration
	for range 10 {
		s := ca.SignIn("pg@example.com", pw)
		cb.Call("GET", "/api/auth/me", s.AccessToken, nil).WantStatus(t, http.StatusOK)
		start := time.Now()
		ca.Call("POST", "/api/auth/signout", s.AccessToken, nil).WantStatus(t, http.StatusNoContent)
		took = append(took, refusedWithin(t, cb, "sign-out on A", s.AccessToken, start))
	}
	slices.Sort(took)
	t.Logf("sign-out on A refused on B after: median %v, max %v over %d (target 100 ms, limit 2 s)",
		took[len(took)/2], took[len(took)-1], len(took))

	// Session revoke, refresh reuse and password change on B, refused on A.
	victim := cb.SignIn("pg@example.com", pw)
	start := time.Now()
	cb.Call("DELETE", "/api/auth/sessions/"+victim.SessionID, me.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	t.Logf("session revoke on B refused on A after %v", refusedWithin(t, ca, "session revoke on B", victim.AccessToken, start))

	r := cb.SignIn("pg@example.com", pw)
	r2 := cb.Refresh(r.RefreshToken).Grant(t, http.StatusOK)
	start = time.Now()
	cb.Refresh(r.RefreshToken).Problem(t, http.StatusUnauthorized, "token_revoked")
	t.Logf("refresh reuse on B refused on A after %v", refusedWithin(t, ca, "refresh reuse on B", r2.AccessToken, start))

	other := ca.SignIn("pg@example.com", pw)
	start = time.Now()
	cb.Call("POST", "/api/auth/password", me.AccessToken, map[string]string{
		"current_password": pw, "new_password": "another scale-out password",
	}).WantStatus(t, http.StatusNoContent)
	t.Logf("password change on B refused on A after %v", refusedWithin(t, ca, "password change on B", other.AccessToken, start))

	// The CLI, a third process on the same database, disables the user.
	start = time.Now()
	cliPG(t, url, "", "user", "disable", "--email", "pg@example.com")
	t.Logf("user disable (CLI) refused on A after %v and on B after %v",
		refusedWithin(t, ca, "user disable on A", me.AccessToken, start),
		refusedWithin(t, cb, "user disable on B", me.AccessToken, start))

	// keys rotate: both instances publish the new key at once.
	before := jwksKids(t, ca)
	cliPG(t, url, "", "keys", "rotate")
	var ka, kb []string
	if _, ok := testkit.Poll(2*time.Second, 5*time.Millisecond, func() bool {
		ka, kb = jwksKids(t, ca), jwksKids(t, cb)
		return len(ka) == len(before)+1 && slices.Equal(ka, kb)
	}); !ok {
		t.Fatalf("after keys rotate: A publishes %v, B %v (before: %v)", ka, kb, before)
	}
	u := ca.SignUp("after-rotate@example.com", pw, "")
	cb.Call("GET", "/api/auth/me", u.AccessToken, nil).WantStatus(t, http.StatusOK)
	u = cb.Refresh(u.RefreshToken).Grant(t, http.StatusOK)
	ca.Call("GET", "/api/auth/me", u.AccessToken, nil).WantStatus(t, http.StatusOK)
}

func jwksKids(t *testing.T, c *testkit.Client) []string {
	t.Helper()
	var doc jwksDoc
	c.Call("GET", "/.well-known/jwks.json", "", nil).Decode(t, &doc)
	var kids []string
	for _, k := range doc.Keys {
		kids = append(kids, k["kid"].(string))
	}
	slices.Sort(kids)
	return kids
}

// storm sends n concurrent refreshes of rt, alternating between the
// bases, and returns the status and refresh token of each answer.
func storm(t *testing.T, bases []string, rt string, n int) (statuses []int, tokens []string) {
	t.Helper()
	statuses, tokens = make([]int, n), make([]string, n)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer hc.CloseIdleConnections()
	body, _ := json.Marshal(map[string]string{"refresh_token": rt})
	var wg sync.WaitGroup
	release := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			resp, err := hc.Post(bases[i%len(bases)]+"/api/auth/refresh", "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Errorf("refresh %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			statuses[i] = resp.StatusCode
			var g testkit.Grant
			if json.Unmarshal(b, &g) == nil {
				tokens[i] = g.RefreshToken
			}
		}()
	}
	close(release)
	wg.Wait()
	return statuses, tokens
}

// TestE2EPostgresRefreshStorm: one refresh token presented many times at
// once to two instances. Within the grace window every answer is 200 with
// the same new refresh token; without one exactly one wins and the session
// is revoked for reuse. Never a 5xx.
func TestE2EPostgresRefreshStorm(t *testing.T) {
	t.Parallel()
	const n = 40
	for _, grace := range []string{"10s", "0"} {
		t.Run("grace="+grace, func(t *testing.T) {
			t.Parallel()
			url := pgtest.Shared(t).URL(t)
			// The per-IP limit would answer part of the storm 429.
			pa, pb := servePG(t, url, "--refresh-grace", grace, "--auth-rate", "0"), servePG(t, url, "--refresh-grace", grace, "--auth-rate", "0")
			pa.waitReady(t)
			pb.waitReady(t)
			ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
			g := ca.SignUp("storm@example.com", "refresh-storm-password", "")
			for round := range 3 {
				statuses, tokens := storm(t, []string{pa.base, pb.base}, g.RefreshToken, n)
				var ok []string
				for i, s := range statuses {
					switch {
					case s >= 500:
						t.Fatalf("round %d: refresh %d answered %d", round, i, s)
					case s == http.StatusOK:
						ok = append(ok, tokens[i])
					case s != http.StatusUnauthorized:
						t.Fatalf("round %d: refresh %d answered %d", round, i, s)
					}
				}
				if grace == "0" {
					if len(ok) != 1 {
						t.Fatalf("strict: %d of %d concurrent refreshes won, want exactly 1 (statuses %v)", len(ok), n, statuses)
					}
					// The losers were reuse: the session is revoked, the
					// winner's tokens included, on both instances.
					ca.Refresh(ok[0]).Problem(t, http.StatusUnauthorized, "token_revoked")
					return
				}
				if len(ok) != n || slices.ContainsFunc(ok, func(s string) bool { return s != ok[0] }) {
					t.Fatalf("grace: %d of %d answered 200; tokens agree: %v", len(ok), n, !slices.ContainsFunc(ok, func(s string) bool { return s != ok[0] }))
				}
				g = cb.Refresh(ok[0]).Grant(t, http.StatusOK)
			}
		})
	}
}

// TestE2EPostgresOutage: PostgreSQL stops under two running instances.
// /readyz turns 503 and requests that need the database get a 503
// problem+json, quickly; tokens already issued still verify (no database
// read). When PostgreSQL comes back both recover without a restart, and
// revocations fan out again.
func TestE2EPostgresOutage(t *testing.T) {
	t.Parallel()
	cluster := pgtest.New(t)
	url := cluster.URL(t)
	pa, pb := servePG(t, url), servePG(t, url)
	pa.waitReady(t)
	pb.waitReady(t)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	const pw = "outage-password"
	g := ca.SignUp("down@example.com", pw, "")
	tasks := "/api/" + g.User.ID + "/tasks"

	if err := cluster.Kill(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*testkit.Client{"A": ca, "B": cb} {
		start := time.Now()
		c.Call("GET", "/readyz", "", nil).Problem(t, http.StatusServiceUnavailable, "unavailable")
		r := c.Call("GET", tasks, g.AccessToken, nil)
		r.Problem(t, http.StatusServiceUnavailable, "unavailable")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", name)
		}
		c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "down@example.com", "password": pw}).
			Problem(t, http.StatusServiceUnavailable, "unavailable")
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s: the outage answers took %v, want them well within the 10 s request timeout", name, took)
		}
		c.Call("GET", "/healthz", "", nil).WantStatus(t, http.StatusOK)
	}

	if err := cluster.Restart(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*testkit.Client{"A": ca, "B": cb} {
		if took, ok := testkit.Poll(15*time.Second, 50*time.Millisecond, func() bool {
			return c.Call("GET", "/readyz", "", nil).Status == http.StatusOK
		}); !ok {
			t.Fatalf("%s: /readyz not 200 within 15 s of PostgreSQL's return", name)
		} else {
			t.Logf("%s ready again %v after PostgreSQL's return", name, took)
		}
		c.Call("GET", tasks, g.AccessToken, nil).WantStatus(t, http.StatusOK)
	}
	s := ca.SignIn("down@example.com", pw)
	cb.Call("GET", "/api/auth/me", s.AccessToken, nil).WantStatus(t, http.StatusOK)
	start := time.Now()
	ca.Call("POST", "/api/auth/signout", s.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	t.Logf("after the outage, sign-out on A refused on B after %v", refusedWithin(t, cb, "sign-out after the outage", s.AccessToken, start))
}

// TestE2EPostgresThrottleAndAudit: the per-account sign-in throttle counts
// failures made on any instance, and each instance's audit log shows the
// events of all of them.
func TestE2EPostgresThrottleAndAudit(t *testing.T) {
	t.Parallel()
	url := pgtest.Shared(t).URL(t)
	// No per-IP limit: it is per instance, and would blur what is tested.
	pa, pb := servePG(t, url, "--auth-rate", "0"), servePG(t, url, "--auth-rate", "0")
	pa.waitReady(t)
	pb.waitReady(t)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	const pw = "throttle-and-audit-password"
	cliPG(t, url, pw+"\n", "user", "create", "--email", "admin@example.com", "--role", "admin", "--password-stdin")
	ca.SignUp("target@example.com", pw, "")

	wrong := map[string]string{"email": "target@example.com", "password": "not the password"}
	for i := range 10 { // the per-account limit, half on each instance
		c, ua := ca, "via-A"
		if i%2 == 1 {
			c, ua = cb, "via-B"
		}
		c.Call("POST", "/api/auth/signin", "", wrong, "User-Agent", ua).
			Problem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	for _, c := range map[string]*testkit.Client{"A": ca, "B": cb} {
		r := c.Call("POST", "/api/auth/signin", "", map[string]string{"email": "target@example.com", "password": pw})
		r.Problem(t, http.StatusTooManyRequests, "rate_limited")
	}

	admin := cb.SignIn("admin@example.com", pw)
	seen := map[string]int{}
	if _, ok := testkit.Poll(5*time.Second, 50*time.Millisecond, func() bool {
		var page struct {
			Events []struct {
				UserAgent string `json:"user_agent"`
			}
		}
		cb.Call("GET", "/api/admin/audit?type=signin_failed&limit=100", admin.AccessToken, nil).Decode(t, &page)
		clear(seen)
		for _, e := range page.Events {
			seen[e.UserAgent]++
		}
		return seen["via-A"] == 5 && seen["via-B"] == 5
	}); !ok {
		t.Fatalf("B's audit log shows failed sign-ins by user agent %v, want 5 via-A and 5 via-B", seen)
	}
}
