package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// memAudit is an audit store in memory.
type memAudit struct {
	latchkey.AuditService
	mu     sync.Mutex
	events []*latchkey.AuditEvent
}

func (m *memAudit) AppendAudit(_ context.Context, ev *latchkey.AuditEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, ev)
	return nil
}

func (m *memAudit) all() []*latchkey.AuditEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*latchkey.AuditEvent(nil), m.events...)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testRecorder is a recorder on a settable clock whose queue the test
// reads itself (no Run), and its log.
func testRecorder(queue int) (*Recorder, *time.Time, *strings.Builder) {
	var log strings.Builder
	r := NewRecorder(&memAudit{}, slog.New(slog.NewTextHandler(&log, nil)), queue)
	now := t0
	r.Now = func() time.Time { return now }
	return r, &now, &log
}

func rejected(ip, reason string) *latchkey.AuditEvent {
	return &latchkey.AuditEvent{Type: latchkey.AuditTokenRejected, IP: ip, UserAgent: "flood/1", Reason: reason}
}

// queued takes what the recorder queued.
func queued(r *Recorder) []*latchkey.AuditEvent {
	var out []*latchkey.AuditEvent
	for {
		select {
		case ev := <-r.queue:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func wantEvent(t *testing.T, evs []*latchkey.AuditEvent, ip string, count int64, at time.Time) {
	t.Helper()
	if len(evs) != 1 || evs[0].IP != ip || evs[0].Count != count || !evs[0].At.Equal(at) {
		t.Fatalf("events %s, want one from %q with count %d at %v", fmtEvents(evs), ip, count, at)
	}
}

func fmtEvents(evs []*latchkey.AuditEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "\n  %+v", *ev)
	}
	return "[" + b.String() + "]"
}

// TestRecorderCountsRejections: one address's rejections with one reason
// give the first event at once, then at most one event a minute with the
// count of the others; the counts add up to every rejection.
func TestRecorderCountsRejections(t *testing.T) {
	r, now, log := testRecorder(16)
	for range 1000 {
		r.Record(rejected("192.0.2.1", "malformed"))
	}
	wantEvent(t, queued(r), "192.0.2.1", 1, t0)
	if n := strings.Count(log.String(), "msg=audit"); n != 1 {
		t.Fatalf("%d log lines for the first minute's rejections, want 1", n)
	}
	if evs := r.flush(t0.Add(tallyWindow-time.Nanosecond), false); len(evs) != 0 {
		t.Fatalf("flushed before the minute passed: %s", fmtEvents(evs))
	}
	*now = t0.Add(time.Second)
	r.Record(rejected("192.0.2.1", "malformed")) // the latest time is the event's
	evs := r.flush(t0.Add(tallyWindow), false)
	wantEvent(t, evs, "192.0.2.1", 1000, t0.Add(time.Second))
	if evs[0].Type != latchkey.AuditTokenRejected || evs[0].Reason != "malformed" || evs[0].UserAgent != "flood/1" {
		t.Fatalf("flushed %+v", *evs[0])
	}

	// Still going: counted against the minute that the flush began.
	*now = t0.Add(tallyWindow + time.Second)
	for range 5 {
		r.Record(rejected("192.0.2.1", "malformed"))
	}
	if q := queued(r); len(q) != 0 {
		t.Fatalf("written within a minute of the last event: %s", fmtEvents(q))
	}
	if evs := r.flush(t0.Add(2*tallyWindow-time.Nanosecond), false); len(evs) != 0 {
		t.Fatalf("flushed before the minute passed: %s", fmtEvents(evs))
	}
	wantEvent(t, r.flush(t0.Add(2*tallyWindow), false), "192.0.2.1", 5, *now)

	// A quiet minute forgets the address; the next burst starts at once.
	if evs := r.flush(t0.Add(3*tallyWindow), false); len(evs) != 0 || len(r.tallies) != 0 {
		t.Fatalf("a quiet minute flushed %s and kept %d keys", fmtEvents(evs), len(r.tallies))
	}
	*now = t0.Add(3*tallyWindow + time.Second)
	r.Record(rejected("192.0.2.1", "malformed"))
	wantEvent(t, queued(r), "192.0.2.1", 1, *now)
}

// TestRecorderKeys: each address, reason, type and throttled account is
// counted on its own; an IPv6 /64 is one address; failed sign-ins are
// never counted together.
func TestRecorderKeys(t *testing.T) {
	r, _, _ := testRecorder(64)
	r.Record(rejected("192.0.2.1", "malformed"))
	r.Record(rejected("192.0.2.1", "expired"))
	r.Record(rejected("192.0.2.2", "malformed"))
	r.Record(rejected("::ffff:192.0.2.2", "malformed")) // the same address
	r.Record(&latchkey.AuditEvent{Type: latchkey.AuditRateLimited, IP: "192.0.2.1", Reason: "ip"})
	r.Record(&latchkey.AuditEvent{Type: latchkey.AuditRateLimited, IP: "192.0.2.1", Reason: "account", UserID: "u1"})
	r.Record(&latchkey.AuditEvent{Type: latchkey.AuditRateLimited, IP: "192.0.2.1", Reason: "account", UserID: "u2"})
	r.Record(&latchkey.AuditEvent{Type: latchkey.AuditRateLimited, IP: "192.0.2.1", Reason: "account", UserID: "u2"})
	r.Record(rejected("2001:db8:1:2::1", "malformed"))
	r.Record(rejected("2001:db8:1:2::1", "malformed"))
	r.Record(rejected("2001:db8:1:3::1", "malformed"))
	r.Record(rejected("2001:db8:1:3::1", "malformed"))
	r.Record(rejected("2001:db8:1:3::2", "malformed"))
	for range 3 {
		r.Record(&latchkey.AuditEvent{Type: latchkey.AuditSigninFailed, IP: "192.0.2.1", Reason: "wrong_password"})
	}
	if q := queued(r); len(q) != 11 { // 8 keys, 3 failed sign-ins
		t.Fatalf("written at once: %s, want 11", fmtEvents(q))
	}
	byIP := map[string]int64{}
	for _, ev := range r.flush(t0.Add(tallyWindow), false) {
		byIP[ev.IP+" "+ev.Reason+" "+ev.UserID] += ev.Count
	}
	want := map[string]int64{
		"::ffff:192.0.2.2 malformed ":  1,
		"192.0.2.1 account u2":         1,
		"2001:db8:1:2::1 malformed ":   1, // one address: its own
		"2001:db8:1:3::/64 malformed ": 2, // several: the /64
	}
	if fmt.Sprint(byIP) != fmt.Sprint(want) {
		t.Fatalf("flushed %v, want %v", byIP, want)
	}
}

// TestRecorderBounded: past maxTallies keys, the rejections of new
// addresses are counted together per type and reason, in events without
// an ip; at most firstWrites first events are written at once; and
// nothing is lost.
func TestRecorderBounded(t *testing.T) {
	r, _, _ := testRecorder(maxTallies + 100)
	ip := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	for i := range maxTallies {
		r.Record(rejected(ip(i), "malformed"))
	}
	for i := maxTallies; i < maxTallies+500; i++ {
		r.Record(rejected(ip(i), "malformed"))
		r.Record(rejected(ip(i), "expired"))
	}
	r.Record(rejected(ip(0), "malformed")) // a known address keeps its key
	if len(r.tallies) != maxTallies+2 {
		t.Fatalf("%d keys, want %d and two overflow keys", len(r.tallies), maxTallies)
	}
	q := queued(r)
	if len(q) != firstWrites || q[0].IP != ip(0) || q[firstWrites-1].IP != ip(firstWrites-1) {
		t.Fatalf("%d written at once, want the first %d addresses'", len(q), firstWrites)
	}
	perAddress, overflow := 0, map[string]int64{}
	for _, ev := range r.flush(t0.Add(tallyWindow), false) {
		switch {
		case ev.IP == "":
			overflow[ev.Reason] += ev.Count
		case ev.Count != 1:
			t.Fatalf("flushed %+v", *ev)
		default:
			perAddress++
		}
	}
	// ip(0)'s second, and the first of every address past the budget.
	if want := 1 + maxTallies - firstWrites; perAddress != want {
		t.Fatalf("%d addresses flushed, want %d", perAddress, want)
	}
	if overflow["malformed"] != 500 || overflow["expired"] != 500 {
		t.Fatalf("overflow counts %v, want 500 each", overflow)
	}
}

// TestRecorderFloodFromManyAddresses: 20,000 rejections from 20,000 /64s
// of one /48 write at most firstWrites rows at once and maxTallies and the
// overflow's a minute later, and the counts add up to 20,000.
func TestRecorderFloodFromManyAddresses(t *testing.T) {
	r, _, _ := testRecorder(4096)
	const n = 20_000
	for i := range n {
		r.Record(rejected(fmt.Sprintf("2001:db8:1:%x::1", i), "malformed"))
	}
	q := queued(r)
	if len(q) > firstWrites {
		t.Fatalf("%d rows written at once, want at most %d", len(q), firstWrites)
	}
	flushed := r.flush(t0.Add(tallyWindow), false)
	if len(flushed) > maxTallies+1 {
		t.Fatalf("%d rows after a minute, want at most %d", len(flushed), maxTallies+1)
	}
	var total int64
	for _, ev := range append(q, flushed...) {
		total += ev.Count
	}
	if total != n {
		t.Fatalf("counts add up to %d, want %d", total, n)
	}
}

// TestRecorderQueueFull: the first event of a burst that finds the queue
// full is counted and written by the next flush, not dropped.
func TestRecorderQueueFull(t *testing.T) {
	r, _, _ := testRecorder(1)
	r.Record(rejected("192.0.2.1", "malformed"))
	r.Record(rejected("192.0.2.2", "malformed"))
	wantEvent(t, queued(r), "192.0.2.1", 1, t0)
	wantEvent(t, r.flush(t0.Add(tallyWindow), false), "192.0.2.2", 1, t0)
	if r.Dropped() != 0 {
		t.Fatalf("%d dropped", r.Dropped())
	}
}

// TestRecorderRunFlushesAtStop: stopping Run writes what is queued and
// every count not yet written, however recent.
func TestRecorderRunFlushesAtStop(t *testing.T) {
	store := &memAudit{}
	var log strings.Builder
	r := NewRecorder(store, slog.New(slog.NewTextHandler(&log, nil)), 16)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	for range 100 {
		r.Record(rejected("192.0.2.1", "malformed"))
	}
	r.Record(&latchkey.AuditEvent{Type: latchkey.AuditSigninFailed, IP: "192.0.2.1", Reason: "wrong_password"})
	stop()
	<-done
	var total int64
	evs := store.all()
	for _, ev := range evs {
		if ev.Type == latchkey.AuditTokenRejected {
			total += ev.Count
		}
	}
	if len(evs) != 3 || total != 100 {
		t.Fatalf("stored %s, want 3 events, token_rejected counting 100", fmtEvents(evs))
	}
	if !strings.Contains(log.String(), "count=99") {
		t.Fatalf("no log line with the count:\n%s", log.String())
	}
}

// BenchmarkRecordRejection: what a rejected token from an address already
// counted costs the request path.
func BenchmarkRecordRejection(b *testing.B) {
	r, _, _ := testRecorder(16)
	b.ReportAllocs()
	for b.Loop() {
		r.Record(rejected("2001:db8::1", "malformed"))
	}
	if n := len(queued(r)); n != 1 {
		b.Fatalf("%d events written, want 1", n)
	}
}
