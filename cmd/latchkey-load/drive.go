package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// result is one scenario's measurements.
type result struct {
	name      string
	requests  int            // counted requests (successes and failures)
	errors    int            // failed requests: bad status, transport error, timeout
	shed      int            // 503 with Retry-After: load shed as designed, not an error
	byStatus  map[string]int // "429 rate_limited": count, shed included
	timeouts  int
	transport int
	missed    int // -rate only: requests not sent because every worker was busy
	elapsed   time.Duration
	latencies []time.Duration // sorted
	rssStart  int64
	rssEnd    int64
	rssPeak   int64   // highest RSS sampled during the scenario
	hashes    float64 // argon2id runs the server counted during it (-1: unknown)
}

// okRPS is the rate of requests that got the wanted answer.
func (r *result) okRPS() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests-r.errors-r.shed) / r.elapsed.Seconds()
}

func (r *result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// limited reports whether r saw a 429.
func (r *result) limited() bool {
	for k := range r.byStatus {
		if strings.HasPrefix(k, "429") {
			return true
		}
	}
	return false
}

// worker-local tallies, merged at the end so the hot path takes no lock.
type tally struct {
	lat       []time.Duration
	byStatus  map[string]int
	errors    int
	shed      int
	timeouts  int
	transport int
}

func (t *tally) add(o outcome, want int, d time.Duration) {
	t.lat = append(t.lat, d)
	switch {
	case o.timeout:
		t.timeouts++
		t.errors++
	case o.transport:
		t.transport++
		t.errors++
	case o.status != want:
		t.byStatus[strings.TrimSpace(strconv.Itoa(o.status)+" "+o.code)]++
		// A 503 with Retry-After is the server shedding load, as the
		// contract says it must when a queue forms: counted apart.
		if o.status == http.StatusServiceUnavailable && o.retryAfter {
			t.shed++
		} else {
			t.errors++
		}
	}
}

// drive runs f for d: closed loop with c workers when rate is 0, else an
// open loop sending rate requests per second through c workers, latency
// counted from each request's scheduled time.
func drive(ctx context.Context, name string, f op, c int, d time.Duration, rate float64) *result {
	tallies := make([]*tally, c)
	for i := range tallies {
		tallies[i] = &tally{byStatus: map[string]int{}}
	}
	start := time.Now()
	end := start.Add(d)
	var missed int
	if rate <= 0 {
		closedLoop(ctx, f, tallies, end)
	} else {
		missed = openLoop(ctx, f, tallies, start, end, rate)
	}
	r := &result{name: name, byStatus: map[string]int{}, missed: missed, elapsed: time.Since(start)}
	r.merge(tallies)
	return r
}

// closedLoop runs one worker per tally until end, each sending its next
// request as soon as the last is answered.
func closedLoop(ctx context.Context, f op, tallies []*tally, end time.Time) {
	var wg sync.WaitGroup
	for _, t := range tallies {
		wg.Add(1)
		go func(t *tally) {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(end) {
				s := time.Now()
				o, want := f(ctx)
				if o.cancelled {
					return
				}
				t.add(o, want, time.Since(s))
			}
		}(t)
	}
	wg.Wait()
}

// openLoop schedules rate requests per second from start until end through
// one worker per tally. A request due while every worker is busy is not
// sent but counted in missed, so that a slow server cannot slow the
// schedule down and hide its queue.
func openLoop(ctx context.Context, f op, tallies []*tally, start, end time.Time, rate float64) (missed int) {
	var wg sync.WaitGroup
	jobs := make(chan time.Time, len(tallies))
	for _, t := range tallies {
		wg.Add(1)
		go func(t *tally) {
			defer wg.Done()
			for s := range jobs {
				o, want := f(ctx)
				if o.cancelled {
					continue
				}
				t.add(o, want, time.Since(s))
			}
		}(t)
	}
	interval := time.Duration(float64(time.Second) / rate)
loop:
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(end) {
			break
		}
		if w := time.Until(at); w > 0 {
			select {
			case <-ctx.Done():
				break loop
			case <-time.After(w):
			}
		}
		select {
		case jobs <- at:
		default:
			missed++
		}
	}
	close(jobs)
	wg.Wait()
	return missed
}

// merge adds the workers' tallies into r and sorts its latencies.
func (r *result) merge(tallies []*tally) {
	n := 0
	for _, t := range tallies {
		n += len(t.lat)
	}
	r.latencies = make([]time.Duration, 0, n)
	for _, t := range tallies {
		r.latencies = append(r.latencies, t.lat...)
		for s, k := range t.byStatus {
			r.byStatus[s] += k
		}
		r.errors += t.errors
		r.shed += t.shed
		r.timeouts += t.timeouts
		r.transport += t.transport
	}
	r.requests = len(r.latencies)
	sortDurations(r.latencies)
}
