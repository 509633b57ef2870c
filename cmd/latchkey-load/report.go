package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

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
