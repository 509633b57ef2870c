package auth

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

// event starts an audit event of type typ about the client's request.
func event(typ string, c Client) *latchkey.AuditEvent {
	return &latchkey.AuditEvent{Type: typ, IP: c.IP, UserAgent: cleanUserAgent(c.UserAgent)}
}

// logEvent emits the structured slog line of an event the store recorded.
// It carries ids and the client, never a secret.
func logEvent(log *slog.Logger, ev *latchkey.AuditEvent) {
	level := slog.LevelInfo
	switch ev.Type {
	case latchkey.AuditSigninFailed, latchkey.AuditTokenRejected, latchkey.AuditRefreshReuse, latchkey.AuditRateLimited:
		level = slog.LevelWarn
	}
	log.LogAttrs(context.Background(), level, "audit",
		slog.String("type", ev.Type), slog.String("user_id", ev.UserID), slog.String("actor_id", ev.ActorID),
		slog.String("session_id", ev.SessionID), slog.String("ip", ev.IP), slog.String("user_agent", ev.UserAgent),
		slog.String("reason", ev.Reason))
}

// Recorder writes the audit events that go with no change (failed
// sign-ins, rejected tokens, throttled requests) from a bounded queue, so
// that a flood of garbage tokens costs a channel send, not a database write
// on the request path. When the queue is full, events are dropped and
// counted; the slog line is still written.
type Recorder struct {
	store   latchkey.AuditService
	log     *slog.Logger
	queue   chan *latchkey.AuditEvent
	dropped atomic.Int64
}

// NewRecorder returns a recorder with room for size waiting events.
func NewRecorder(store latchkey.AuditService, log *slog.Logger, size int) *Recorder {
	return &Recorder{store: store, log: log, queue: make(chan *latchkey.AuditEvent, size)}
}

// Record queues ev and logs it.
func (r *Recorder) Record(ev *latchkey.AuditEvent) {
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
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

// Run writes queued events until ctx ends, then what is left.
func (r *Recorder) Run(ctx context.Context) {
	write := func(ev *latchkey.AuditEvent) {
		if err := r.store.AppendAudit(context.WithoutCancel(ctx), ev); err != nil {
			r.log.Warn("write audit event", "type", ev.Type, "err", err)
		}
	}
	for {
		select {
		case ev := <-r.queue:
			write(ev)
		case <-ctx.Done():
			for {
				select {
				case ev := <-r.queue:
					write(ev)
				default:
					return
				}
			}
		}
	}
}
