package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// serverBin is the latchkey binary built from ./cmd/latchkey by TestMain.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "latchkey-load-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "latchkey")
	build := exec.Command("go", "build", "-o", serverBin, "../latchkey")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build ../latchkey:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var listenRE = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:[0-9]+)`)

// startServer runs the real server on a fresh SQLite file and returns its
// base URL. Strict refresh (no grace window) makes any reuse of a rotated
// refresh token fail loudly.
func startServer(t *testing.T, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + filepath.Join(dir, "db"),
		"--refresh-grace", "0"}, extra...)
	cmd := exec.Command(serverBin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	var log bytes.Buffer
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if m := listenRE.FindStringSubmatch(line); m != nil && !sent {
				found <- "http://" + m[1]
				sent = true
			}
			if !sent {
				log.WriteString(line + "\n")
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("server exited before it listened; log:\n%s", log.String())
		}
		return base
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not log msg=listening within 20s")
	}
	return ""
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Millisecond
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	ten := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		// The nearest-rank example: 15, 20, 35, 40, 50.
		{ms(15, 20, 35, 40, 50), 5, 15 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 30, 20 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 40, 20 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 50, 35 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 100, 50 * time.Millisecond},
		{ms(ten...), 90, 9 * time.Millisecond}, // 0.9*10 must not round up to rank 10
		{ms(ten...), 91, 10 * time.Millisecond},
		{ms(ten...), 50, 5 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 99.5, 100 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 0, 1 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := percentile(tc.in, tc.p); got != tc.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(tc.in), tc.p, got, tc.want)
		}
	}
	// sortDurations then percentile on shuffled input.
	d := ms(50, 15, 40, 20, 35)
	sortDurations(d)
	if got := percentile(d, 50); got != 35*time.Millisecond {
		t.Errorf("p50 of sorted shuffled input = %v, want 35ms", got)
	}
}

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		url    string
		remote bool
		ok     bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://127.0.0.1:8080/", false, true},
		{"http://127.9.9.9:1", false, true},
		{"http://localhost:8080", false, true},
		{"http://LOCALHOST.:8080", false, true},
		{"http://[::1]:8080", false, true},
		{"https://127.0.0.1", false, true},
		{"http://example.com", false, false},
		{"http://10.0.0.1:8080", false, false},
		{"http://0.0.0.0:8080", false, false},
		{"http://[::]:8080", false, false},
		{"http://localhost.example.com", false, false},
		{"http://127.0.0.1.nip.io", false, false},
		{"http://example.com", true, true},
		{"ftp://127.0.0.1", false, false},
		{"127.0.0.1:8080", false, false},
		{"http://", false, false},
		{"http://127.0.0.1:8080/api", false, false},
		{"http://user:pw@127.0.0.1:8080", false, false},
	}
	for _, tc := range tests {
		_, err := checkTarget(tc.url, tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("checkTarget(%q, allowRemote=%v) error = %v, want ok=%v", tc.url, tc.remote, err, tc.ok)
		}
	}
}

func TestParseMetric(t *testing.T) {
	text := "# HELP process_resident_memory_bytes Resident memory size in bytes.\n" +
		"# TYPE process_resident_memory_bytes gauge\n" +
		"process_resident_memory_bytes_other 5\n" +
		"process_resident_memory_bytes 2.1504e+07\n"
	if got := parseMetric(text, "process_resident_memory_bytes"); got != 21504000 {
		t.Errorf("parseMetric = %v, want 21504000", got)
	}
	if got := parseMetric("go_goroutines 7\n", "process_resident_memory_bytes"); got != -1 {
		t.Errorf("parseMetric without the metric = %v, want -1", got)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://192.0.2.1:8080"},
		{"-d", "16m"},
		{"-d", "8m", "-scenarios", "list,healthz"},
		{"-users", "0"},
		{"-users", "1001"},
		{"-c", "0"},
		{"-scenarios", "list,bogus"},
		{"-rate", "-1"},
		{"extra"},
		{"-soak", "-scenarios", "list"},
		{"-soak", "-d", "16m"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr: %s", args, code, errOut.String())
		}
	}
}

// TestScenarios runs every scenario against the real server and checks that
// it did work, without a single error, and read the server's RSS.
func TestScenarios(t *testing.T) {
	base := startServer(t, "--auth-rate", "0")
	for _, name := range knownScenarios {
		t.Run(name, func(t *testing.T) {
			cfg := &config{url: base, users: 3, tasks: 5, concurrency: 4, duration: 1500 * time.Millisecond,
				timeout: 10 * time.Second, scenarios: []string{name, name}}
			var out bytes.Buffer
			results, err := execute(context.Background(), cfg, &out)
			if err != nil {
				t.Fatalf("execute: %v\n%s", err, out.String())
			}
			if len(results) != 2 {
				t.Fatalf("got %d results, want 2", len(results))
			}
			for _, r := range results {
				if r.requests == 0 {
					t.Errorf("%s: 0 requests", name)
				}
				if r.errors != 0 {
					t.Errorf("%s: %d errors (by status %v, transport %d, timeouts %d)", name, r.errors, r.byStatus, r.transport, r.timeouts)
				}
				if r.rssStart <= 0 || r.rssEnd <= 0 {
					t.Errorf("%s: RSS %d -> %d, want both read", name, r.rssStart, r.rssEnd)
				}
				if p50, p99 := percentile(r.latencies, 50), percentile(r.latencies, 99); p50 <= 0 || p99 < p50 {
					t.Errorf("%s: p50 %v, p99 %v", name, p50, p99)
				}
			}
			t.Logf("\n%s", out.String())
		})
	}
}

// TestRate checks the open loop sends about rate*duration requests.
func TestRate(t *testing.T) {
	base := startServer(t, "--auth-rate", "0")
	cfg := &config{url: base, users: 2, tasks: 2, concurrency: 4, duration: time.Second, rate: 200,
		timeout: 10 * time.Second, scenarios: []string{"list"}}
	results, err := execute(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if r.requests+r.missed != 200 || r.requests < 150 || r.errors != 0 {
		t.Errorf("rate 200/s for 1s: %d requests, %d missed, %d errors; want 200 scheduled, most sent, 0 errors",
			r.requests, r.missed, r.errors)
	}
}

// TestRunListHealthz runs the command as a user would and checks the report.
func TestRunListHealthz(t *testing.T) {
	base := startServer(t, "--auth-rate", "0")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-url", base, "-users", "2", "-tasks", "20", "-c", "4", "-d", "1s",
		"-scenarios", "list,healthz"}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d; stderr: %s\nstdout: %s", code, errOut.String(), out.String())
	}
	for _, want := range []string{"list/healthz throughput:", "server RSS: ", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "n/a") {
		t.Errorf("report has an unknown RSS:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())

	// -json: the same run as one JSON object on stdout.
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"-url", base, "-users", "2", "-tasks", "20", "-d", "500ms",
		"-scenarios", "list,healthz", "-json"}, func(string) string { return "" }, &out, &errOut)
	var got struct {
		Results []struct {
			Scenario string  `json:"scenario"`
			Requests int     `json:"requests"`
			Errors   int     `json:"errors"`
			P99      float64 `json:"p99_ms"`
			RSSEnd   int64   `json:"rss_end_bytes"`
			RSSPeak  int64   `json:"rss_peak_bytes"`
			Hashes   float64 `json:"hashes_per_s"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || code != 0 {
		t.Fatalf("-json: exit %d, %v; stdout:\n%s", code, err, out.String())
	}
	if len(got.Results) != 2 || got.Results[1].Scenario != "healthz" {
		t.Fatalf("-json results: %+v", got.Results)
	}
	for _, r := range got.Results {
		// No argon2id run during list or healthz: the rate is known and 0.
		if r.Requests == 0 || r.Errors != 0 || r.P99 <= 0 || r.RSSEnd <= 0 || r.RSSPeak < r.RSSEnd || r.Hashes != 0 {
			t.Errorf("-json %s: %+v", r.Scenario, r)
		}
	}
	if !strings.Contains(errOut.String(), "list/healthz throughput:") {
		t.Errorf("-json: the text report is not on stderr:\n%s", errOut.String())
	}
}

// TestRateLimitHint: against a server keeping its per-IP limit, the tool
// fails and says how to start the server.
func TestRateLimitHint(t *testing.T) {
	base := startServer(t, "--auth-rate", "1")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-url", base, "-users", "3", "-tasks", "0", "-d", "1s"},
		func(string) string { return "" }, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "--auth-rate 0") {
		t.Errorf("exit %d, stderr %q; want 1 and the --auth-rate 0 hint", code, errOut.String())
	}
}

// TestRenewDuringRun: the background renewal of every user's tokens runs
// beside refreshing workers without ever presenting a rotated token (the
// server is strict, so a reuse would be a 401).
func TestRenewDuringRun(t *testing.T) {
	defer func(d time.Duration) { renewEvery = d }(renewEvery)
	renewEvery = 100 * time.Millisecond
	base := startServer(t, "--auth-rate", "0")
	cfg := &config{url: base, users: 2, tasks: 2, concurrency: 4, duration: 1500 * time.Millisecond,
		timeout: 10 * time.Second, scenarios: []string{"refresh", "mixed"}}
	results, err := execute(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.requests == 0 || r.errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%v)", r.name, r.requests, r.errors, r.byStatus)
		}
	}
}

// TestSigninKeepsTheUsersSession: the server caps each user's live
// sessions (here at 2) and revokes the least recently used past it. The
// user's tokens follow its latest sign-in, so the task calls and the
// background renewal never meet a displaced session.
func TestSigninKeepsTheUsersSession(t *testing.T) {
	defer func(d time.Duration) { renewEvery = d }(renewEvery)
	renewEvery = 200 * time.Millisecond
	base := startServer(t, "--auth-rate", "0", "--max-sessions", "2")
	cfg := &config{url: base, users: 1, tasks: 1, concurrency: 2, duration: time.Second,
		timeout: 10 * time.Second, scenarios: []string{"signin", "list"}}
	results, err := execute(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.requests == 0 || r.errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%v)", r.name, r.requests, r.errors, r.byStatus)
		}
	}
}

// TestMixedShares counts what 1,000 mixed operations send to a stub
// server: 80% list, 12% create, 6% refresh, 2% sign-in.
func TestMixedShares(t *testing.T) {
	counts := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		counts[key]++ // one worker: no concurrent handlers
		switch key {
		case "POST /api/u1/tasks":
			w.WriteHeader(http.StatusCreated)
		case "POST /api/auth/refresh":
			json.NewEncoder(w).Encode(map[string]string{"access_token": "a2", "refresh_token": "r2"})
		case "POST /api/auth/signin":
			json.NewEncoder(w).Encode(map[string]string{"access_token": "a3", "refresh_token": "r3"})
		}
	}))
	defer srv.Close()
	l := newLoader(srv.URL, 1, 5*time.Second)
	defer l.close()
	u := &vuser{id: "u1", email: "a@example.com"}
	u.setTokens("a1", "r1")
	l.users = []*vuser{u}
	for range 1000 {
		if o, want := l.opMixed(context.Background()); o.status != want {
			t.Fatalf("status %d, want %d", o.status, want)
		}
	}
	want := map[string]int{"GET /api/u1/tasks": 800, "POST /api/u1/tasks": 120, "POST /api/auth/refresh": 60, "POST /api/auth/signin": 20}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d of 1000, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
	// The last operation (the 100th of each hundred) is a sign-in, whose
	// session the user goes on with.
	if a, r := u.tokens(); a != "a3" || r != "r3" {
		t.Errorf("tokens after the last sign-in = %q, %q; want its pair", a, r)
	}
}

// TestTallyShed: a 503 with Retry-After is load shed as designed and
// counted apart; any other failure is an error.
func TestTallyShed(t *testing.T) {
	tl := &tally{byStatus: map[string]int{}}
	tl.add(outcome{status: 200}, 200, time.Millisecond)
	tl.add(outcome{status: 503, code: "unavailable", retryAfter: true}, 200, time.Millisecond)
	tl.add(outcome{status: 503, code: "unavailable"}, 200, time.Millisecond)
	tl.add(outcome{status: 500, retryAfter: true}, 200, time.Millisecond)
	tl.add(outcome{timeout: true}, 200, time.Millisecond)
	if tl.shed != 1 || tl.errors != 3 || tl.byStatus["503 unavailable"] != 2 {
		t.Errorf("shed %d, errors %d, by status %v; want 1, 3 and 2 503s", tl.shed, tl.errors, tl.byStatus)
	}
}

// TestSoakFlags: -soak is the mixed scenario for 10 minutes, or -d.
func TestSoakFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		d    time.Duration
	}{
		{[]string{"-soak"}, 10 * time.Minute},
		{[]string{"-soak", "-d", "90s"}, 90 * time.Second},
	} {
		cfg, err := parseFlags(tc.args, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if !slices.Equal(cfg.scenarios, []string{"mixed"}) || cfg.duration != tc.d {
			t.Errorf("%q: scenarios %v for %v, want mixed for %v", tc.args, cfg.scenarios, cfg.duration, tc.d)
		}
	}
}

// TestProgress: the soak's progress lines carry the server's RSS.
func TestProgress(t *testing.T) {
	base := startServer(t, "--auth-rate", "0")
	l := newLoader(base, 1, 5*time.Second)
	defer l.close()
	// stop waits for the printing goroutine, so out is read after its
	// last write.
	var out bytes.Buffer
	stop := l.progress(context.Background(), &out, 50*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	stop()
	if n := strings.Count(out.String(), "server RSS "); n < 2 || strings.Contains(out.String(), "n/a") {
		t.Errorf("progress printed %d lines with a known RSS:\n%s", n, out.String())
	}
}
