package auth

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/latchkey/latchkey"
)

// event starts an audit event of type typ about the client's request.
func event(typ string, c Client) *latchkey.AuditEvent {
	return &latchkey.AuditEvent{Type: typ, IP: c.IP, UserAgent: cleanUserAgent(c.UserAgent)}
}

// logEvent emits the structured slog line of an event the store recorded.
// It carries ids, the client and the count, never a secret.
func logEvent(log *slog.Logger, ev *latchkey.AuditEvent) {
	level := slog.LevelInfo
	switch ev.Type {
	case latchkey.AuditSigninFailed, latchkey.AuditTokenRejected, latchkey.AuditRefreshReuse, latchkey.AuditRateLimited:
		level = slog.LevelWarn
	}
	log.LogAttrs(context.Background(), level, "audit",
		slog.String("type", ev.Type), slog.String("user_id", ev.UserID), slog.String("actor_id", ev.ActorID),
		slog.String("session_id", ev.SessionID), slog.String("ip", ev.IP), slog.String("user_agent", ev.UserAgent),
		slog.String("reason", ev.Reason), slog.Int64("count", max(ev.Count, 1)))
}

// Recorder writes the audit events that go with no change (failed
// sign-ins, rejected tokens, throttled requests) off the request path.
//
// The rejections of unauthenticated requests (token_rejected,
// rate_limited), which anyone can cause in any number, are counted rather
// than written one by one: per client address (an IPv6 address's /64),
// type, reason and user, the first is written at once with count 1 (at
// most firstWrites such first events a minute, over every key) and the
// others are counted, then written as one event with their count when a
// minute has passed since the last one written, or when the recorder stops.
// So a flood from one address costs a map update under a lock, and at most
// one row and one log line a minute per reason. At most maxTallies keys
// are counted at once; past that, the rejections of new addresses are
// counted together per type and reason, in events without an ip: a flood
// from any number of addresses writes at most maxTallies rows a minute
// and a few more.
//
// The other events go through a bounded queue, written by Run. When it is
// full they are dropped and counted (Dropped); the slog line is still
// written.
type Recorder struct {
	// Now replaces time.Now for the events' times and the counting
	// windows; nil is time.Now. Set it before Run.
	Now func() time.Time

	store   latchkey.AuditService
	log     *slog.Logger
	queue   chan *latchkey.AuditEvent
	dropped atomic.Int64

	mu      sync.Mutex
	tallies map[tallyKey]*tally
	firsts  *rate.Limiter // the budget of first events written at once
}

// flushEvery is how often Run writes the counts whose minute has passed:
// such an event is written at most this late.
const flushEvery = time.Second

// NewRecorder returns a recorder with room for size waiting events.
func NewRecorder(store latchkey.AuditService, log *slog.Logger, size int) *Recorder {
	return &Recorder{store: store, log: log, queue: make(chan *latchkey.AuditEvent, size),
		tallies: make(map[tallyKey]*tally),
		firsts:  rate.NewLimiter(rate.Every(tallyWindow/firstWrites), firstWrites)}
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Record queues ev and logs it, or counts it with the others of its burst.
func (r *Recorder) Record(ev *latchkey.AuditEvent) {
	now := r.now()
	if ev.At.IsZero() {
		ev.At = now.UTC()
	}
	if aggregated(ev.Type) {
		r.count(ev, now)
		return
	}
	logEvent(r.log, ev)
	select {
	case r.queue <- ev:
	default:
		r.dropped.Add(1)
	}
}

// Dropped is how many events the full queue turned away.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Run writes queued events and the counts whose minute has passed until
// ctx ends, then what is left: the queue, and every count not yet written.
func (r *Recorder) Run(ctx context.Context) {
	store := context.WithoutCancel(ctx)
	write := func(ev *latchkey.AuditEvent) {
		if err := r.store.AppendAudit(store, ev); err != nil {
			r.log.Warn("write audit event", "type", ev.Type, "err", err)
		}
	}
	flush := func(all bool) {
		for _, ev := range r.flush(r.now(), all) {
			logEvent(r.log, ev)
			write(ev)
		}
	}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case ev := <-r.queue:
			write(ev)
		case <-tick.C:
			flush(false)
		case <-ctx.Done():
			for {
				select {
				case ev := <-r.queue:
					write(ev)
				default:
					flush(true)
					return
				}
			}
		}
	}
}
