package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// vuser is one provisioned user. Its tokens change as refreshes rotate them:
// refreshMu is held for the whole of a refresh so that no two workers ever
// present the same refresh token (that would be reuse, which revokes the
// session); mu guards the fields.
type vuser struct {
	id, email string

	refreshMu sync.Mutex
	mu        sync.RWMutex
	access    string
	refresh   string
}

func (u *vuser) tokens() (access, refresh string) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.access, u.refresh
}

func (u *vuser) setTokens(access, refresh string) {
	u.mu.Lock()
	u.access, u.refresh = access, refresh
	u.mu.Unlock()
}

// loader talks to one server.
type loader struct {
	base     string // scheme://host:port
	hc       *http.Client
	password string
	users    []*vuser
	next     atomic.Uint64 // round-robin over users
	seq      atomic.Uint64 // task titles
	mix      atomic.Uint64 // mixed-scenario choice
}

func newLoader(base string, concurrency int, timeout time.Duration) *loader {
	tr := &http.Transport{
		Proxy:               nil, // never send a loopback target through a proxy
		DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   true,
	}
	return &loader{base: base, hc: &http.Client{Transport: tr, Timeout: timeout}}
}

func (l *loader) close() { l.hc.CloseIdleConnections() }

// outcome is what one request came to: a status, or a transport error
// (timeout or other). cancelled means the run was interrupted; such a
// request is not counted.
type outcome struct {
	status     int
	code       string // the problem's code when status is not the wanted one
	retryAfter bool   // the answer carried Retry-After
	timeout    bool
	transport  bool
	cancelled  bool
}

// do sends one request and reads the answer in full (so the connection is
// reused). When into is not nil and the status is want, the body is decoded
// into it.
func (l *loader) do(ctx context.Context, method, path, bearer string, body any, want int, into any) (outcome, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return outcome{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return outcome{}, err
	}
	req.Header.Set("User-Agent", "latchkey-load")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{cancelled: true}, err
		}
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return outcome{timeout: true}, err
		}
		return outcome{transport: true}, err
	}
	defer resp.Body.Close()
	o := outcome{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After") != ""}
	if resp.StatusCode == want && into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return outcome{transport: true}, fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	} else if resp.StatusCode != want {
		var p struct {
			Code string `json:"code"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p) == nil {
			o.code = p.Code
		}
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		if ctx.Err() != nil {
			return outcome{cancelled: true}, err
		}
		return outcome{transport: true}, err
	}
	return o, nil
}

// grant is the part of a token response the tool keeps.
type grant struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// errRateLimited tells run to print the --auth-rate hint.
var errRateLimited = errors.New("server answered 429 rate_limited")

func statusErr(what string, o outcome, err error) error {
	switch {
	case o.status == http.StatusTooManyRequests:
		return fmt.Errorf("%s: %w", what, errRateLimited)
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	default:
		return fmt.Errorf("%s: status %d %s", what, o.status, o.code)
	}
}

// provision signs up n users (unique per run) and gives each tasks tasks,
// with at most workers requests in flight.
func (l *loader) provision(ctx context.Context, n, tasks, workers int) error {
	run := randHex(6)
	l.password = "load-" + randHex(12)
	l.users = make([]*vuser, n)
	// Sign-up is bounded by password hashing: a few at a time, and a 503
	// from a full hashing gate is retried after a pause.
	err := parallel(ctx, n, min(workers, 4), func(i int) error {
		email := fmt.Sprintf("load-%s-%d@example.com", run, i)
		var g grant
		body := map[string]string{"email": email, "password": l.password, "name": "load " + strconv.Itoa(i)}
		var o outcome
		var err error
		for try := 0; ; try++ {
			o, err = l.do(ctx, http.MethodPost, "/api/auth/signup", "", body, http.StatusCreated, &g)
			if err != nil || o.status != http.StatusServiceUnavailable || try == 20 {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(50*(try+1)) * time.Millisecond):
			}
		}
		if err != nil || o.status != http.StatusCreated {
			return statusErr("sign-up "+email, o, err)
		}
		u := &vuser{id: g.User.ID, email: email}
		u.setTokens(g.AccessToken, g.RefreshToken)
		l.users[i] = u
		return nil
	})
	if err != nil {
		return err
	}
	return parallel(ctx, n*tasks, min(workers, 64), func(i int) error {
		u := l.users[i%n]
		o, err := l.createTask(ctx, u)
		if err != nil || o.status != http.StatusCreated {
			return statusErr("create task for "+u.email, o, err)
		}
		return nil
	})
}

// parallel calls f(0..n-1) from at most workers goroutines and returns the
// first error; after one, no further calls start.
func parallel(ctx context.Context, n, workers int, f func(int) error) error {
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	for w := 0; w < max(1, min(workers, n)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (l *loader) pick() *vuser {
	return l.users[(l.next.Add(1)-1)%uint64(len(l.users))]
}

// The operations. Each returns the outcome and the status that counts as
// success.

func (l *loader) createTask(ctx context.Context, u *vuser) (outcome, error) {
	access, _ := u.tokens()
	title := "load task " + strconv.FormatUint(l.seq.Add(1), 10)
	return l.do(ctx, http.MethodPost, "/api/"+url.PathEscape(u.id)+"/tasks", access,
		map[string]string{"title": title}, http.StatusCreated, nil)
}

func (l *loader) opSignin(ctx context.Context) (outcome, int) {
	u := l.pick()
	o, _ := l.do(ctx, http.MethodPost, "/api/auth/signin", "",
		map[string]string{"email": u.email, "password": l.password}, http.StatusOK, nil)
	return o, http.StatusOK
}

func (l *loader) opList(ctx context.Context) (outcome, int) {
	u := l.pick()
	access, _ := u.tokens()
	o, _ := l.do(ctx, http.MethodGet, "/api/"+url.PathEscape(u.id)+"/tasks", access, nil, http.StatusOK, nil)
	return o, http.StatusOK
}

func (l *loader) opCreate(ctx context.Context) (outcome, int) {
	o, _ := l.createTask(ctx, l.pick())
	return o, http.StatusCreated
}

func (l *loader) opHealthz(ctx context.Context) (outcome, int) {
	o, _ := l.do(ctx, http.MethodGet, "/healthz", "", nil, http.StatusOK, nil)
	return o, http.StatusOK
}

// refreshUser rotates u's refresh token, keeping the new pair. The caller
// holds u.refreshMu, so the token presented is always the latest.
func (l *loader) refreshUser(ctx context.Context, u *vuser) (outcome, error) {
	_, refresh := u.tokens()
	var g grant
	o, err := l.do(ctx, http.MethodPost, "/api/auth/refresh", "",
		map[string]string{"refresh_token": refresh}, http.StatusOK, &g)
	if err == nil && o.status == http.StatusOK {
		u.setTokens(g.AccessToken, g.RefreshToken)
	}
	return o, err
}

// refreshAll renews every user's access token (used between scenarios so
// that a long run does not outlive the tokens).
func (l *loader) refreshAll(ctx context.Context, workers int) error {
	return parallel(ctx, len(l.users), min(workers, 16), func(i int) error {
		u := l.users[i]
		u.refreshMu.Lock()
		defer u.refreshMu.Unlock()
		o, err := l.refreshUser(ctx, u)
		if err != nil || o.status != http.StatusOK {
			return statusErr("refresh for "+u.email, o, err)
		}
		return nil
	})
}

// scenarios maps a name to its operation. start is when the request's
// latency is counted from: the scheduled time under -rate, else zero (now,
// after any wait for the user's refresh lock).
type op func(ctx context.Context) (outcome, int)

func (l *loader) scenario(name string) op {
	switch name {
	case "signin":
		return l.opSignin
	case "refresh":
		return l.opRefresh
	case "list":
		return l.opList
	case "create":
		return l.opCreate
	case "healthz":
		return l.opHealthz
	case "mixed":
		return l.opMixed
	}
	return nil
}

func (l *loader) opRefresh(ctx context.Context) (outcome, int) {
	u := l.pick()
	u.refreshMu.Lock()
	defer u.refreshMu.Unlock()
	o, _ := l.refreshUser(ctx, u)
	return o, http.StatusOK
}

// opMixed is, out of every 100 requests: 80 list, 12 create, 6 refresh,
// 2 sign-in (sign-in is bounded by password hashing, so a little goes a
// long way).
func (l *loader) opMixed(ctx context.Context) (outcome, int) {
	switch k := (l.mix.Add(1) - 1) % 100; {
	case k < 80:
		return l.opList(ctx)
	case k < 92:
		return l.opCreate(ctx)
	case k < 98:
		return l.opRefresh(ctx)
	default:
		return l.opSignin(ctx)
	}
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
	var wg sync.WaitGroup
	var missed int
	if rate <= 0 {
		for i := range c {
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
			}(tallies[i])
		}
	} else {
		jobs := make(chan time.Time, c)
		for i := range c {
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
			}(tallies[i])
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
	}
	wg.Wait()
	r := &result{name: name, byStatus: map[string]int{}, missed: missed, elapsed: time.Since(start)}
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
	return r
}
