package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// renewEvery is how often every user's tokens are refreshed in the
// background during a run (a variable for the tests).
var renewEvery = 4 * time.Minute

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
