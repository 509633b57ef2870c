package httpapi_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testkit"
)

// flood sends n requests made by mk from k goroutines and returns how many
// got each status. It uses the harness's connections but not its client's
// Fatalf, which only the test goroutine may call.
func (h *harness) flood(n, k int, mk func() *http.Request) map[int]int {
	h.t.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				status := -1
				if resp, err := h.HTTP.Do(mk()); err == nil {
					resp.Body.Close()
					status = resp.StatusCode
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return statuses
}

// auditLines counts the log's audit lines of type typ.
func (h *harness) auditLines(typ string) int {
	return strings.Count(h.Logs.String(), "msg=audit type="+typ+" ")
}

// metric reads one sample of /metrics, 0 when absent.
func (h *harness) metric(sample string) int {
	h.t.Helper()
	body := string(h.Do(req{Method: "GET", Path: "/metrics"}).Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\d+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// counted sums the counts of the stored events of type typ.
func (h *harness) counted(typ string) (rows int, total int64) {
	h.t.Helper()
	evs := h.auditOf(typ)
	for _, ev := range evs {
		total += ev.Count
	}
	return len(evs), total
}

// TestTokenRejectionFloodAggregated: 10,000 requests with a garbage token
// from one address (GET routes have no rate limit) add two audit rows and
// two log lines, not 10,000: the first at once, the count of the others
// when the minute ends. The metric still counts every one.
func TestTokenRejectionFloodAggregated(t *testing.T) {
	h := newHarness(t, options{})
	const n = 10_000
	got := h.flood(n, 8, func() *http.Request {
		r, _ := http.NewRequest("GET", h.URL+"/api/auth/me", nil)
		r.Header.Set("Authorization", "Bearer garbage.token.value")
		r.Header.Set("User-Agent", strings.Repeat("flood ", 100))
		return r
	})
	if got[http.StatusUnauthorized] != n {
		t.Fatalf("answers %v, want %d × 401", got, n)
	}
	if c := h.metric(`latchkey_token_rejections_total{reason="malformed"}`); c != n {
		t.Errorf("latchkey_token_rejections_total{reason=\"malformed\"} = %d, want %d", c, n)
	}

	// The first is written at once: an operator sees the attack start.
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		rows, _ := h.counted(latchkey.AuditTokenRejected)
		return rows > 0
	}); !ok {
		t.Fatal("no token_rejected event within 5 s of the flood")
	}
	time.Sleep(2 * flushEvery) // whatever else the writer would write now
	if rows, total := h.counted(latchkey.AuditTokenRejected); rows != 1 || total != 1 {
		t.Fatalf("%d token_rejected rows counting %d within the flood's minute, want 1 counting 1", rows, total)
	}
	if lines := h.auditLines(latchkey.AuditTokenRejected); lines != 1 {
		t.Fatalf("%d token_rejected log lines within the flood's minute, want 1", lines)
	}

	// When the minute ends, one more row and line count the rest.
	h.clock.Advance(time.Minute)
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		_, total := h.counted(latchkey.AuditTokenRejected)
		return total == n
	}); !ok {
		rows, total := h.counted(latchkey.AuditTokenRejected)
		t.Fatalf("after the minute, %d token_rejected rows count %d, want %d", rows, total, n)
	}
	evs := h.auditOf(latchkey.AuditTokenRejected)
	if len(evs) != 2 || evs[0].Count != n-1 || evs[0].IP != "127.0.0.1" || evs[0].Reason != "malformed" ||
		len(evs[0].UserAgent) != 256 {
		t.Fatalf("events %+v %+v, want the second from 127.0.0.1 for malformed counting %d", *evs[0], *evs[1], n-1)
	}
	if lines := h.auditLines(latchkey.AuditTokenRejected); lines != 2 {
		t.Fatalf("%d token_rejected log lines, want 2", lines)
	}
	if !strings.Contains(h.Logs.String(), "count="+strconv.Itoa(n-1)) {
		t.Fatal("the second log line does not carry the count")
	}
}

// flushEvery is how often the audit writer writes the counts whose minute
// has passed (auth's, which tests cannot reach).
const flushEvery = time.Second

// TestRateLimitFloodAggregated: the per-IP 429s of one address are one
// rate_limited event at once and their count when the server stops, even
// within the minute; another address gets its own.
func TestRateLimitFloodAggregated(t *testing.T) {
	h := newHarness(t, options{rate: 1, proxy: true})
	const n = 500
	signin := func(from string) *http.Request {
		r, _ := http.NewRequest("POST", h.URL+"/api/auth/signin",
			strings.NewReader(`{"email":"nobody@example.com","password":"wrong password"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", from)
		return r
	}
	for _, from := range []string{"192.0.2.1", "198.51.100.7"} {
		got := h.flood(n, 4, func() *http.Request { return signin(from) })
		if got[http.StatusTooManyRequests] != n-1 {
			t.Fatalf("answers from %s %v, want %d × 429", from, got, n-1)
		}
	}
	if _, ok := testkit.Poll(5*time.Second, 20*time.Millisecond, func() bool {
		rows, _ := h.counted(latchkey.AuditRateLimited)
		return rows == 2
	}); !ok {
		rows, total := h.counted(latchkey.AuditRateLimited)
		t.Fatalf("%d rate_limited rows counting %d, want one per address at once", rows, total)
	}
	if lines := h.auditLines(latchkey.AuditRateLimited); lines != 2 {
		t.Fatalf("%d rate_limited log lines, want 2", lines)
	}

	// Stopping writes the counts, long before the minute ends.
	if err := h.App.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := testkit.Config(t)
	path := h.sqliteFile()
	cfg.DatabaseURL, cfg.SQLitePath, cfg.MustExist = "sqlite:"+path, path, true
	db, err := app.OpenStore(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	evs, _, err := db.ListAudit(context.Background(), latchkey.AuditFilter{Type: latchkey.AuditRateLimited})
	if err != nil {
		t.Fatal(err)
	}
	total := map[string]int64{}
	for _, ev := range evs {
		if ev.Reason != "ip" {
			t.Errorf("rate_limited event %+v, want reason ip", *ev)
		}
		total[ev.IP] += ev.Count
	}
	if len(evs) != 4 || total["192.0.2.1"] != n-1 || total["198.51.100.7"] != n-1 {
		t.Fatalf("stored %d rate_limited events counting %v, want 4 counting %d per address", len(evs), total, n-1)
	}
}
