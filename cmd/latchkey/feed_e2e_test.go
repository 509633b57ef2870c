package main

// End-to-end tests of the revocation feed (issue 15) with two kinds of
// process: `latchkey serve` and examples/notes, a Go service that verifies
// Latchkey's access tokens with verify.RemoteJWKS and follows the feed with
// verify.RemoteRevocations. They measure how long a sign-out takes to reach
// the service, stage outages of either side, and measure what idle long
// polls cost Latchkey.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testkit"
	"github.com/latchkey/latchkey/verify"
)

// feedAudience is the audience the tests' receivers are registered with.
const feedAudience = "https://notes.example"

var notesBuild struct {
	once sync.Once
	path string
	err  error
}

// notesBin builds examples/notes once, beside the latchkey binary.
func notesBin(t *testing.T) string {
	t.Helper()
	notesBuild.once.Do(func() {
		notesBuild.path = filepath.Join(filepath.Dir(binPath), "notes")
		out, err := exec.Command("go", "build", "-o", notesBuild.path, "../../examples/notes").CombinedOutput()
		if err != nil {
			notesBuild.err = fmt.Errorf("go build examples/notes: %v: %s", err, out)
		}
	})
	if notesBuild.err != nil {
		t.Fatal(notesBuild.err)
	}
	return notesBuild.path
}

// feedLK is one Latchkey deployment: a database, and the fixed address of
// the instance whose URL is the issuer (so that it can be restarted where
// the notes service looks for it).
type feedLK struct {
	addr, issuer, dbURL, dir string
	env                      []string
}

func newFeedSQLite(t *testing.T) *feedLK {
	addr := freeAddr(t)
	dir := t.TempDir()
	return &feedLK{addr: addr, issuer: "http://" + addr, dbURL: "sqlite:" + filepath.Join(dir, "lk.db"), dir: dir, env: childEnv()}
}

func newFeedPG(t *testing.T) *feedLK {
	addr := freeAddr(t)
	return &feedLK{addr: addr, issuer: "http://" + addr, dbURL: pgtest.Shared(t).URL(t), dir: t.TempDir(),
		env: childEnv("LATCHKEY_SECRET_KEY=" + pgSecret)}
}

// serve starts an instance on addr (empty: the issuer's address) and
// waits until it is ready. The sign-in rate limit is off: the tests sign
// in hundreds of sessions from one address.
func (f *feedLK) serve(t *testing.T, addr string) *proc {
	t.Helper()
	if addr == "" {
		addr = f.addr
	}
	return spawn(t, f.dir, f.env, "serve", "--addr", addr, "--issuer", f.issuer, "--auth-rate", "0",
		"--database-url", f.dbURL).waitReady(t)
}

// receiver runs `latchkey receiver add` and returns the secret, the last
// line of its stdout.
func (f *feedLK) receiver(t *testing.T, name string) string {
	t.Helper()
	cmd := exec.Command(binPath, "receiver", "add", "--name", name, "--audience", feedAudience)
	cmd.Dir, cmd.Env = f.dir, append(slices.Clone(f.env), "LATCHKEY_DATABASE_URL="+f.dbURL)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	secret := lastLine(string(out))
	if err != nil || !strings.HasPrefix(secret, "lkr_") {
		t.Fatalf("receiver add: %v, stderr %q", err, stderr.String())
	}
	return secret
}

// startNotes runs examples/notes against issuer with the receiver secret
// and env (NOTES_MAX_STALE=…), waits until it listens (RemoteRevocations
// has then taken the backlog) and returns it with a client.
func startNotes(t *testing.T, issuer, secret string, env ...string) (*proc, *testkit.Client) {
	t.Helper()
	env = append([]string{"LATCHKEY_ISSUER=" + issuer, "LATCHKEY_RECEIVER_SECRET=" + secret, "ADDR=127.0.0.1:0"}, env...)
	p := spawnExe(t, notesBin(t), t.TempDir(), childEnv(env...)).waitReady(t)
	c := testkit.NewClient(t, p.base, nil)
	c.FailOnServerError = true
	return p, c
}

func notesGet(c *testkit.Client, g testkit.Grant) testkit.Response {
	c.T.Helper()
	return c.Call("GET", "/api/"+g.User.ID+"/notes", g.AccessToken, nil)
}

// untilNotes asks the notes service with g's token until it answers
// status (with the problem code, if any), for at most limit from since,
// and returns the time from since to that answer.
func untilNotes(t *testing.T, c *testkit.Client, g testkit.Grant, since time.Time, limit time.Duration, status int, code string) time.Duration {
	t.Helper()
	var r testkit.Response
	for {
		r = notesGet(c, g)
		if r.Status == status {
			break
		}
		if time.Since(since) > limit {
			t.Fatalf("the notes service still answers %d (%s) after %v, want %d %s", r.Status, strings.TrimSpace(string(r.Body)), limit, status, code)
		}
		time.Sleep(500 * time.Microsecond)
	}
	took := time.Since(since)
	if code != "" {
		r.Problem(t, status, code)
	}
	return took
}

// quantiles returns p50, p99 and the maximum of d (sorted in place).
func quantiles(d []time.Duration) (p50, p99, most time.Duration) {
	slices.Sort(d)
	n := len(d)
	return d[n/2], d[(n*99+99)/100-1], d[n-1]
}

// feedPropagation signs in n sessions of a few users at signer, checks
// each is accepted by the notes service nc, then signs each out and
// measures the time from the sign-out's 204 to the service's first 401
// token_revoked. It fails when p99 exceeds 1 s.
func feedPropagation(t *testing.T, signer, nc *testkit.Client, n int, what string) {
	t.Helper()
	const users, pw = 5, "feed propagation password"
	email := func(i int) string { return fmt.Sprintf("feed%d@example.com", i%users) }
	for i := range users {
		signer.SignUp(email(i), pw, "")
	}
	start := time.Now()
	grants := make([]testkit.Grant, n)
	for i := range grants {
		grants[i] = signer.SignIn(email(i), pw)
	}
	t.Logf("%s: %d sign-ins took %v", what, n, time.Since(start))
	for _, g := range grants {
		notesGet(nc, g).WantStatus(t, http.StatusOK)
	}
	took := make([]time.Duration, 0, n)
	for _, g := range grants {
		signer.Call("POST", "/api/auth/signout", g.AccessToken, nil).WantStatus(t, http.StatusNoContent)
		took = append(took, untilNotes(t, nc, g, time.Now(), 2*time.Second, http.StatusUnauthorized, "token_revoked"))
	}
	p50, p99, most := quantiles(took)
	t.Logf("%s: sign-out 204 → notes service's 401 token_revoked over %d sign-outs: p50 %v, p99 %v, max %v",
		what, n, p50, p99, most)
	if p99 > time.Second {
		t.Errorf("%s: p99 %v, want ≤ 1 s", what, p99)
	}
}

// TestFeedPropagationSQLite: 200 sign-outs at `latchkey serve` (SQLite),
// each refused by the notes service, another process, within 1 s (p99).
func TestFeedPropagationSQLite(t *testing.T) {
	t.Parallel()
	lk := newFeedSQLite(t)
	lk.serve(t, "")
	_, nc := startNotes(t, lk.issuer, lk.receiver(t, "notes"))
	c := testkit.NewClient(t, lk.issuer, nil)
	c.FailOnServerError = true
	feedPropagation(t, c, nc, 200, "SQLite")
}

// TestFeedPropagationPostgres: two instances on one PostgreSQL; the notes
// service polls A, the sign-outs happen on B (the NOTIFY hop between them
// is part of what is measured).
func TestFeedPropagationPostgres(t *testing.T) {
	t.Parallel()
	lk := newFeedPG(t)
	lk.serve(t, "")
	b := lk.serve(t, "127.0.0.1:0")
	_, nc := startNotes(t, lk.issuer, lk.receiver(t, "notes"))
	c := testkit.NewClient(t, b.base, nil)
	c.FailOnServerError = true
	feedPropagation(t, c, nc, 100, "PostgreSQL, sign-out on B, notes polls A")
}

// TestFeedLatchkeyKilled: SIGKILL Latchkey while the notes service runs
// with MaxStale 9 s (the shortest above the transmitter's 8 s hold) and
// StaleTokenAge 12 s. Until the feed is stale every token passes; once it
// is, a token older than 12 s gets 401 token_expired while a younger one
// still passes. Latchkey restarted on the same database and address, the
// service recovers by itself: the old token passes again, the token signed
// out before the kill stays refused, and a new sign-out is refused at once.
func TestFeedLatchkeyKilled(t *testing.T) {
	t.Parallel()
	lk := newFeedSQLite(t)
	p := lk.serve(t, "")
	notes, nc := startNotes(t, lk.issuer, lk.receiver(t, "notes"), "NOTES_MAX_STALE=9s", "NOTES_STALE_TOKEN_AGE=12s")
	c := testkit.NewClient(t, lk.issuer, nil)
	const pw = "feed outage password"
	old := c.SignUp("old@example.com", pw, "")
	gone := c.SignIn("old@example.com", pw)
	c.Call("POST", "/api/auth/signout", gone.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	untilNotes(t, nc, gone, time.Now(), time.Second, http.StatusUnauthorized, "token_revoked")
	time.Sleep(4 * time.Second)
	young := c.SignIn("old@example.com", pw)
	notesGet(nc, young).WantStatus(t, http.StatusOK)

	p.stop(t, syscall.SIGKILL, 5*time.Second)
	killed := time.Now()
	notesGet(nc, old).WantStatus(t, http.StatusOK) // current for 1 s at least
	took := untilNotes(t, nc, old, killed, 25*time.Second, http.StatusUnauthorized, "token_expired")
	notesGet(nc, young).WantStatus(t, http.StatusOK)
	notesGet(nc, gone).WantStatus(t, http.StatusUnauthorized)
	if !strings.Contains(notes.log.String(), "code=token_expired reason=revocations_stale") {
		t.Errorf("the notes service logged no token_expired/revocations_stale:\n%s", notes.log.String())
	}
	t.Logf("Latchkey killed: a token older than StaleTokenAge refused (token_expired) %v after the kill; a younger one passes", took)

	lk.serve(t, "")
	restarted := time.Now()
	took = untilNotes(t, nc, old, restarted, 20*time.Second, http.StatusOK, "")
	t.Logf("Latchkey restarted: the notes service current again %v after Latchkey was ready", took)
	notesGet(nc, gone).Problem(t, http.StatusUnauthorized, "token_revoked")
	c.Call("POST", "/api/auth/signout", young.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	untilNotes(t, nc, young, time.Now(), time.Second, http.StatusUnauthorized, "token_revoked")
}

// TestFeedLatchkeyHung: Latchkey stopped with SIGSTOP holds the notes
// service's poll open without answering (a hung feed, not a refused
// connection). The service still turns stale within MaxStale (9 s) of the
// last answer, refusing a token older than StaleTokenAge (2 s) with
// token_expired, and is current again soon after SIGCONT.
func TestFeedLatchkeyHung(t *testing.T) {
	t.Parallel()
	lk := newFeedSQLite(t)
	p := lk.serve(t, "")
	_, nc := startNotes(t, lk.issuer, lk.receiver(t, "notes"), "NOTES_MAX_STALE=9s", "NOTES_STALE_TOKEN_AGE=2s")
	c := testkit.NewClient(t, lk.issuer, nil)
	old := c.SignUp("hung@example.com", "feed hung password", "")
	time.Sleep(3500 * time.Millisecond)
	notesGet(nc, old).WantStatus(t, http.StatusOK) // older than 2 s, and the feed is current

	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	took := untilNotes(t, nc, old, stopped, 12*time.Second, http.StatusUnauthorized, "token_expired")
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	cont := time.Now()
	back := untilNotes(t, nc, old, cont, 15*time.Second, http.StatusOK, "")
	t.Logf("Latchkey SIGSTOPped: stale mode %v after SIGSTOP; current again %v after SIGCONT", took, back)
}

// TestFeedNotesStoppedAndRestarted: the notes service stopped (SIGSTOP)
// while 50 sessions are signed out refuses all 50 within 1 s of SIGCONT;
// killed and started again, it refuses from its first request a token
// signed out before the restart, and one signed out while it was down
// (the new stream is seeded with the retention window).
func TestFeedNotesStoppedAndRestarted(t *testing.T) {
	t.Parallel()
	lk := newFeedSQLite(t)
	lk.serve(t, "")
	secret := lk.receiver(t, "notes")
	notes, nc := startNotes(t, lk.issuer, secret)
	c := testkit.NewClient(t, lk.issuer, nil)
	c.FailOnServerError = true
	const pw = "feed stop password"
	kept := c.SignUp("stop@example.com", pw, "")
	grants := make([]testkit.Grant, 51)
	for i := range grants {
		grants[i] = c.SignIn("stop@example.com", pw)
		notesGet(nc, grants[i]).WantStatus(t, http.StatusOK)
	}
	batch, down := grants[:50], grants[50]

	if err := notes.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for _, g := range batch {
		c.Call("POST", "/api/auth/signout", g.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	}
	if err := notes.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	cont := time.Now()
	var most time.Duration
	for _, g := range batch {
		most = max(most, untilNotes(t, nc, g, cont, time.Second, http.StatusUnauthorized, "token_revoked"))
	}
	notesGet(nc, kept).WantStatus(t, http.StatusOK)
	t.Logf("SIGSTOP, 50 sign-outs, SIGCONT: all 50 refused %v after SIGCONT", most)

	notes.stop(t, syscall.SIGKILL, 5*time.Second)
	c.Call("POST", "/api/auth/signout", down.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	_, nc = startNotes(t, lk.issuer, secret)
	notesGet(nc, batch[0]).Problem(t, http.StatusUnauthorized, "token_revoked")
	notesGet(nc, down).Problem(t, http.StatusUnauthorized, "token_revoked")
	notesGet(nc, kept).WantStatus(t, http.StatusOK)
}

// TestFeedPostgresInstanceKilled: two instances on PostgreSQL, the notes
// service polling A. A is killed while the service's poll is held on it; a
// sign-out happens on B while A is down; A restarted on the same address,
// the service takes that revocation from the stream kept in the store.
// (The service knows one URL, the issuer's, so "its next poll lands on B"
// is a load balancer's job; here A comes back where it was.)
func TestFeedPostgresInstanceKilled(t *testing.T) {
	t.Parallel()
	lk := newFeedPG(t)
	a := lk.serve(t, "")
	b := lk.serve(t, "127.0.0.1:0")
	_, nc := startNotes(t, lk.issuer, lk.receiver(t, "notes"))
	c := testkit.NewClient(t, b.base, nil)
	c.FailOnServerError = true
	const pw = "feed pg kill password"
	kept := c.SignUp("pgkill@example.com", pw, "")
	first, second := c.SignIn("pgkill@example.com", pw), c.SignIn("pgkill@example.com", pw)
	c.Call("POST", "/api/auth/signout", first.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	untilNotes(t, nc, first, time.Now(), time.Second, http.StatusUnauthorized, "token_revoked")
	notesGet(nc, second).WantStatus(t, http.StatusOK)

	time.Sleep(time.Second) // the service's next poll is now held on A
	a.stop(t, syscall.SIGKILL, 5*time.Second)
	c.Call("POST", "/api/auth/signout", second.AccessToken, nil).WantStatus(t, http.StatusNoContent)
	time.Sleep(500 * time.Millisecond)
	notesGet(nc, second).WantStatus(t, http.StatusOK) // nobody tells it yet
	lk.serve(t, "")
	took := untilNotes(t, nc, second, time.Now(), 10*time.Second, http.StatusUnauthorized, "token_revoked")
	t.Logf("A killed during a held poll, sign-out on B meanwhile: refused %v after A was ready again", took)
	notesGet(nc, kept).WantStatus(t, http.StatusOK)
	notesGet(nc, first).Problem(t, http.StatusUnauthorized, "token_revoked")
}

// cpuTime is the user plus system CPU time of process pid so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // f[0] is field 3
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// TestFeedIdlePollingCPU measures what 100 idle streams cost Latchkey
// (SQLite, default settings): 100 verify.RemoteRevocations in this process, each with its
// own connection, long-poll for 30 s while nothing is revoked; the
// server's CPU time over that time is logged as a share of one core,
// beside the same measure over 10 s before any stream existed. The
// issue wants < 1 %; the test fails only above 5 % (a shared, noisy
// machine). Skipped with -short.
func TestFeedIdlePollingCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s of measuring; skipped with -short")
	}
	t.Parallel()
	lk := newFeedSQLite(t)
	p := lk.serve(t, "")
	secrets := []string{lk.receiver(t, "idle-a"), lk.receiver(t, "idle-b")} // 64 streams per receiver at most
	// The server's own idle cost, without streams, for comparison.
	base0, bwall0 := cpuTime(t, p.cmd.Process.Pid), time.Now()
	time.Sleep(10 * time.Second)
	base, bwall := cpuTime(t, p.cmd.Process.Pid)-base0, time.Since(bwall0)
	t.Logf("no stream: Latchkey used %v of CPU in %v: %.2f %% of one core", base, bwall.Round(time.Millisecond), 100*base.Seconds()/bwall.Seconds())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keys, stopKeys, err := verify.RemoteJWKS(ctx, lk.issuer+"/.well-known/jwks.json", verify.JWKSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stopKeys()
	sets := make([]*verify.RevocationSet, 100)
	for i := range sets {
		revs, stop, err := verify.RemoteRevocations(ctx, lk.issuer, verify.RevocationsOptions{
			Credential: secrets[i%2], Keys: keys, HTTPClient: &http.Client{Transport: &http.Transport{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		sets[i] = revs
	}
	time.Sleep(time.Second)
	const span = 30 * time.Second
	cpu0, wall0 := cpuTime(t, p.cmd.Process.Pid), time.Now()
	time.Sleep(span)
	cpu, wall := cpuTime(t, p.cmd.Process.Pid)-cpu0, time.Since(wall0)
	for i, s := range sets {
		if !s.Current() {
			t.Fatalf("stream %d is not current after %v of idle polling", i, span)
		}
	}
	pct := 100 * cpu.Seconds() / wall.Seconds()
	t.Logf("100 idle streams: Latchkey used %v of CPU in %v: %.2f %% of one core (target < 1 %%)", cpu, wall.Round(time.Millisecond), pct)
	if pct > 5 {
		t.Errorf("idle polling costs %.2f %% of a core, want < 1 %% (failing above 5 %%)", pct)
	}
}

// TestFeedShutdownAnswersHeldPolls: SIGTERM answers a held poll at once,
// empty, so that a graceful stop does not wait out the poll's 8 s hold
// (it did: the process exited 9.5 s after the signal).
func TestFeedShutdownAnswersHeldPolls(t *testing.T) {
	t.Parallel()
	f := newFeedSQLite(t)
	secret := f.receiver(t, "shutdown")
	p := f.serve(t, "")
	c := testkit.NewClient(t, p.base, nil)
	st := c.Call("POST", "/ssf/streams", secret, map[string]any{})
	st.WantStatus(t, http.StatusCreated)
	id := st.JSON(t)["stream_id"].(string)
	c.Call("POST", "/ssf/poll/"+id, secret, map[string]any{"returnImmediately": true}).WantStatus(t, http.StatusOK)
	answered := make(chan testkit.Response, 1)
	go func() { answered <- c.Call("POST", "/ssf/poll/"+id, secret, map[string]any{}) }()
	time.Sleep(300 * time.Millisecond) // held by now
	code, took := p.stop(t, syscall.SIGTERM, 5*time.Second)
	if code != 0 || took > 3*time.Second {
		t.Fatalf("SIGTERM with a held poll: exit %d after %v, want 0 well within the 8 s hold", code, took)
	}
	if r := <-answered; r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != `{"sets":{},"moreAvailable":false}` {
		t.Fatalf("the held poll was answered %d %s", r.Status, r.Body)
	}
}
