package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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

// rss reads process_resident_memory_bytes from the server's /metrics, or
// -1 when it cannot.
func (l *loader) rss(ctx context.Context) int64 {
	return int64(l.metric(ctx, "process_resident_memory_bytes"))
}

// metric reads one unlabelled sample from the server's /metrics, or -1
// when it cannot.
func (l *loader) metric(ctx context.Context, name string) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return -1
	}
	return parseMetric(string(b), name)
}

// parseMetric finds the unlabelled sample name in Prometheus text, or -1.
func parseMetric(text, name string) float64 {
	for line := range strings.Lines(text) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil || v < 0 {
			return -1
		}
		return v
	}
	return -1
}
