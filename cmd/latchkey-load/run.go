package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Hard caps: the tool is bounded in time and in what it creates whatever
// its flags say.
const (
	maxDuration    = 15 * time.Minute
	maxUsers       = 1000
	maxTasks       = 100000 // per user
	maxConcurrency = 1000
	maxRate        = 100000
)

// renewEvery is how often every user's tokens are refreshed in the
// background during a run (a variable for the tests).
var renewEvery = 4 * time.Minute

var knownScenarios = []string{"signin", "refresh", "list", "create", "mixed", "healthz"}

// config is the parsed command line.
type config struct {
	url         string
	allowRemote bool
	users       int
	tasks       int
	concurrency int
	duration    time.Duration
	rate        float64
	timeout     time.Duration
	scenarios   []string
	json        bool
	soak        bool
}

// soakDuration is how long -soak runs unless -d says otherwise.
const soakDuration = 10 * time.Minute

// usageError is bad usage: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errFailed means some requests failed: exit status 1 after the report.
var errFailed = errors.New("some requests failed")

// run is the whole program; main only wires it to the process. It returns
// 0 when every request succeeded, 1 when some failed or the server could
// not be loaded, 2 for bad usage.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		err = load(ctx, cfg, stdout, stderr)
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, errRateLimited) {
		fmt.Fprintln(stderr, rateHint)
	}
	fmt.Fprintln(stderr, "latchkey-load: "+strings.ReplaceAll(err.Error(), "\n", " "))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

const rateHint = "hint: the server answered 429: it limits auth POSTs per client IP (LATCHKEY_AUTH_RATE, default 60/min), " +
	"so start it with --auth-rate 0 for load runs; it also throttles an account with 10 sign-in attempts counted in 15 minutes " +
	"(in flight or failed), so give a sign-in storm at least as many -users as -c"

// limited reports whether r saw a 429.
func (r *result) limited() bool {
	for k := range r.byStatus {
		if strings.HasPrefix(k, "429") {
			return true
		}
	}
	return false
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("latchkey-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	defURL := getenv("LATCHKEY_LOAD_URL")
	if defURL == "" {
		defURL = "http://127.0.0.1:8080"
	}
	var scen string
	fs.StringVar(&cfg.url, "url", defURL, "base URL of the server (env LATCHKEY_LOAD_URL); loopback only unless -allow-remote")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow a target host that is not loopback")
	fs.IntVar(&cfg.users, "users", 20, fmt.Sprintf("users to sign up (at most %d)", maxUsers))
	fs.IntVar(&cfg.tasks, "tasks", 20, fmt.Sprintf("tasks to create per user (at most %d)", maxTasks))
	fs.IntVar(&cfg.concurrency, "c", 4, fmt.Sprintf("concurrent workers (at most %d)", maxConcurrency))
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, fmt.Sprintf("duration of each scenario (all of them together at most %v)", maxDuration))
	fs.Float64Var(&cfg.rate, "rate", 0, "fixed rate in requests/s (open loop, through -c workers); 0 = as fast as -c workers go")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of each request")
	fs.BoolVar(&cfg.json, "json", false, "also write the results as one JSON object on stdout, after the report (which then goes to stderr)")
	fs.StringVar(&scen, "scenarios", "list", "comma-separated scenarios run one after the other: "+strings.Join(knownScenarios, ", "))
	fs.BoolVar(&cfg.soak, "soak", false, fmt.Sprintf("soak test: the mixed scenario for %v (or -d), printing the server's RSS every minute; fails on any error", soakDuration))
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: latchkey-load [flags]\n\nStart the server with --auth-rate 0 first. Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	if cfg.soak {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if given["scenarios"] {
			return nil, usagef("-soak runs the mixed scenario; leave out -scenarios")
		}
		scen = "mixed"
		if !given["d"] {
			cfg.duration = soakDuration
		}
	}
	switch {
	case cfg.users < 1 || cfg.users > maxUsers:
		return nil, usagef("-users must be 1 to %d", maxUsers)
	case cfg.tasks < 0 || cfg.tasks > maxTasks:
		return nil, usagef("-tasks must be 0 to %d", maxTasks)
	case cfg.concurrency < 1 || cfg.concurrency > maxConcurrency:
		return nil, usagef("-c must be 1 to %d", maxConcurrency)
	case cfg.duration <= 0 || cfg.duration > maxDuration:
		return nil, usagef("-d must be above 0 and at most %v", maxDuration)
	case cfg.rate < 0 || cfg.rate > maxRate:
		return nil, usagef("-rate must be 0 to %d", maxRate)
	case cfg.timeout <= 0 || cfg.timeout > 5*time.Minute:
		return nil, usagef("-timeout must be above 0 and at most 5m")
	}
	for s := range strings.SplitSeq(scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(knownScenarios, s) {
			return nil, usagef("unknown scenario %q (known: %s)", s, strings.Join(knownScenarios, ", "))
		}
		cfg.scenarios = append(cfg.scenarios, s)
	}
	if len(cfg.scenarios) == 0 {
		return nil, usagef("-scenarios: none given")
	}
	if total := cfg.duration * time.Duration(len(cfg.scenarios)); total > maxDuration {
		return nil, usagef("-d %v times %d scenarios is %v, over the cap of %v", cfg.duration, len(cfg.scenarios), total, maxDuration)
	}
	u, err := checkTarget(cfg.url, cfg.allowRemote)
	if err != nil {
		return nil, usageError{err}
	}
	cfg.url = u.String()
	return cfg, nil
}

// load provisions, runs every scenario and prints the report.
func load(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	text := stdout
	if cfg.json {
		text = stderr
	}
	results, err := execute(ctx, cfg, text)
	if err != nil {
		return err
	}
	if cfg.json {
		if err := writeJSON(stdout, cfg, results); err != nil {
			return err
		}
	}
	failed := false
	for _, r := range results {
		if r.limited() {
			fmt.Fprintln(stderr, rateHint)
			break
		}
	}
	for _, r := range results {
		failed = failed || r.errors > 0
	}
	if failed {
		return errFailed
	}
	return nil
}

// execute does the work of load and returns the results (the tests read
// them).
func execute(ctx context.Context, cfg *config, stdout io.Writer) ([]*result, error) {
	l := newLoader(cfg.url, cfg.concurrency, cfg.timeout)
	defer l.close()
	mode := fmt.Sprintf("concurrency %d, %v each", cfg.concurrency, cfg.duration)
	if cfg.rate > 0 {
		mode = fmt.Sprintf("rate %g/s through %d workers, %v each", cfg.rate, cfg.concurrency, cfg.duration)
	}
	fmt.Fprintf(stdout, "target %s: %d users x %d tasks, %s, scenarios %s\n",
		cfg.url, cfg.users, cfg.tasks, mode, strings.Join(cfg.scenarios, ","))
	rssFirst := l.rss(ctx)
	fmt.Fprintf(stdout, "server RSS at start: %s\n", mib(rssFirst))

	t0 := time.Now()
	if err := l.provision(ctx, cfg.users, cfg.tasks, cfg.concurrency); err != nil {
		return nil, fmt.Errorf("provisioning: %w", err)
	}
	fmt.Fprintf(stdout, "provisioned %d users and %d tasks in %v\n",
		cfg.users, cfg.users*cfg.tasks, time.Since(t0).Round(time.Millisecond))

	// Access tokens live 15 minutes by default, as long as the longest run:
	// renew every user's pair in the background every renewEvery. These
	// refreshes are not counted.
	renewCtx, stopRenew := context.WithCancel(ctx)
	renewErr := make(chan error, 1)
	go func() {
		defer close(renewErr)
		tick := time.NewTicker(renewEvery)
		defer tick.Stop()
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-tick.C:
				if err := l.refreshAll(renewCtx, cfg.concurrency); err != nil && renewCtx.Err() == nil {
					renewErr <- fmt.Errorf("renewing access tokens: %w", err)
					return
				}
			}
		}
	}()
	defer stopRenew()

	var results []*result
	for _, name := range cfg.scenarios {
		rs, hashes := l.rss(ctx), l.metric(ctx, hashesMetric)
		peak := l.samplePeakRSS(ctx, rs)
		if cfg.soak {
			stop := l.progress(ctx, stdout, time.Minute)
			defer stop()
		}
		r := drive(ctx, name, l.scenario(name), cfg.concurrency, cfg.duration, cfg.rate)
		r.rssStart, r.rssEnd, r.rssPeak = rs, l.rss(ctx), peak()
		r.rssPeak = max(r.rssPeak, r.rssEnd)
		r.hashes = -1
		if after := l.metric(ctx, hashesMetric); hashes >= 0 && after >= 0 {
			r.hashes = after - hashes
		}
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	stopRenew()
	report(stdout, results, cfg.rate > 0)
	fmt.Fprintf(stdout, "server RSS: %s at start, %s at end\n", mib(rssFirst), mib(l.rss(ctx)))
	if err := <-renewErr; err != nil {
		return results, err
	}
	return results, ctx.Err()
}

// progress prints the elapsed time and the server's RSS every interval
// until the returned function is called.
func (l *loader) progress(ctx context.Context, w io.Writer, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				rss := l.rss(ctx)
				if ctx.Err() != nil {
					return // stopped while reading: no half-made line
				}
				fmt.Fprintf(w, "soak %v: server RSS %s\n", time.Since(start).Round(time.Second), mib(rss))
			}
		}
	}()
	return func() { cancel(); <-done }
}

// hashesMetric counts the server's argon2id runs.
const hashesMetric = "latchkey_password_hashes_total"

// samplePeakRSS reads the server's RSS every 200 ms until the returned
// function is called, which returns the highest reading (at least first).
// Sampled, so a peak between two readings can be missed.
func (l *loader) samplePeakRSS(ctx context.Context, first int64) func() int64 {
	ctx, cancel := context.WithCancel(ctx)
	peak := make(chan int64, 1)
	go func() {
		p := first
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				peak <- p
				return
			case <-t.C:
				p = max(p, l.rss(ctx))
			}
		}
	}()
	return func() int64 { cancel(); return <-peak }
}

// report prints one line per scenario, then errors, RSS and the list to
// healthz ratio when both ran.
func report(w io.Writer, results []*result, rated bool) {
	fmt.Fprintf(w, "%-8s %9s %10s %10s %10s %10s %10s %7s %7s\n",
		"scenario", "requests", "req/s", "p50", "p90", "p99", "max", "errors", "shed")
	for _, r := range results {
		var mx time.Duration
		if len(r.latencies) > 0 {
			mx = r.latencies[len(r.latencies)-1]
		}
		fmt.Fprintf(w, "%-8s %9d %10.1f %10s %10s %10s %10s %7d %7d\n", r.name, r.requests, r.rps(),
			ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 90)),
			ms(percentile(r.latencies, 99)), ms(mx), r.errors, r.shed)
	}
	for _, r := range results {
		fmt.Fprintf(w, "%s: server RSS %s -> %s, peak %s (sampled)", r.name, mib(r.rssStart), mib(r.rssEnd), mib(r.rssPeak))
		if rated {
			fmt.Fprintf(w, "; missed (all workers busy) %d", r.missed)
		}
		fmt.Fprintln(w)
		if r.hashes > 0 {
			fmt.Fprintf(w, "%s: server argon2id runs %.1f/s beside successful requests %.1f/s\n",
				r.name, r.hashes/r.elapsed.Seconds(), r.okRPS())
		}
		if r.errors > 0 || r.shed > 0 {
			var parts []string
			codes := make([]string, 0, len(r.byStatus))
			for s := range r.byStatus {
				codes = append(codes, s)
			}
			slices.Sort(codes)
			for _, s := range codes {
				parts = append(parts, fmt.Sprintf("%s=%d", strings.ReplaceAll(s, " ", ":"), r.byStatus[s]))
			}
			parts = append(parts, fmt.Sprintf("transport=%d", r.transport), fmt.Sprintf("timeouts=%d", r.timeouts))
			fmt.Fprintf(w, "%s: failures by status (shed = 503 with Retry-After: %d): %s\n", r.name, r.shed, strings.Join(parts, " "))
		}
	}
	var list, health *result
	for _, r := range results {
		switch r.name {
		case "list":
			list = r
		case "healthz":
			health = r
		}
	}
	if list != nil && health != nil && health.rps() > 0 {
		fmt.Fprintf(w, "list/healthz throughput: %.1f / %.1f req/s = %.3f\n", list.rps(), health.rps(), list.rps()/health.rps())
	}
}

// jsonResult is one scenario in -json output; latencies in milliseconds,
// RSS in bytes (-1 when /metrics did not give it).
type jsonResult struct {
	Scenario       string         `json:"scenario"`
	Requests       int            `json:"requests"`
	Errors         int            `json:"errors"`
	Shed           int            `json:"shed"`
	ErrorsByStatus map[string]int `json:"errors_by_status"`
	Transport      int            `json:"transport_errors"`
	Timeouts       int            `json:"timeouts"`
	Missed         int            `json:"missed"`
	Seconds        float64        `json:"seconds"`
	RPS            float64        `json:"rps"`
	P50            float64        `json:"p50_ms"`
	P90            float64        `json:"p90_ms"`
	P99            float64        `json:"p99_ms"`
	Max            float64        `json:"max_ms"`
	RSSStart       int64          `json:"rss_start_bytes"`
	RSSEnd         int64          `json:"rss_end_bytes"`
	RSSPeak        int64          `json:"rss_peak_bytes"`
	OKRPS          float64        `json:"ok_rps"`
	HashesPerS     float64        `json:"hashes_per_s"` // -1: unknown
}

func writeJSON(w io.Writer, cfg *config, results []*result) error {
	toMS := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	out := struct {
		Users       int          `json:"users"`
		Tasks       int          `json:"tasks_per_user"`
		Concurrency int          `json:"concurrency"`
		Rate        float64      `json:"rate"`
		Seconds     float64      `json:"seconds_each"`
		Results     []jsonResult `json:"results"`
	}{cfg.users, cfg.tasks, cfg.concurrency, cfg.rate, cfg.duration.Seconds(), []jsonResult{}}
	for _, r := range results {
		var mx time.Duration
		if len(r.latencies) > 0 {
			mx = r.latencies[len(r.latencies)-1]
		}
		out.Results = append(out.Results, jsonResult{
			Scenario: r.name, Requests: r.requests, Errors: r.errors, ErrorsByStatus: r.byStatus,
			Transport: r.transport, Timeouts: r.timeouts, Missed: r.missed,
			Seconds: r.elapsed.Seconds(), RPS: r.rps(),
			P50: toMS(percentile(r.latencies, 50)), P90: toMS(percentile(r.latencies, 90)),
			P99: toMS(percentile(r.latencies, 99)), Max: toMS(mx),
			RSSStart: r.rssStart, RSSEnd: r.rssEnd, RSSPeak: r.rssPeak,
			Shed: r.shed, OKRPS: r.okRPS(), HashesPerS: hashRate(r),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func hashRate(r *result) float64 {
	if r.hashes < 0 || r.elapsed <= 0 {
		return -1
	}
	return r.hashes / r.elapsed.Seconds()
}
