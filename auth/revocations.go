package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// Revocations is the in-memory set of revoked session ids that every access
// token is checked against. Verification stays stateless: the request path
// reads a map, never the database.
//
// An entry is kept for Retain after the revocation, the longest an access
// token issued before it can live; then the token has expired anyway.
type Revocations struct {
	Retain time.Duration
	now    func() time.Time

	mu      sync.RWMutex
	revoked map[string]time.Time // session id -> revoked at
	// changed is closed, and replaced, when a revocation new to the set
	// arrives: the broadcast that held SSF polls wait on (Changed).
	changed chan struct{}
}

// NewRevocations returns an empty set keeping entries for retain.
func NewRevocations(retain time.Duration) *Revocations {
	return &Revocations{Retain: retain, now: time.Now, revoked: make(map[string]time.Time), changed: make(chan struct{})}
}

// Changed returns a channel that is closed when a revocation new to the
// set arrives, made here (Add) or read from the store (Watch): every
// instance's set learns of every revocation, so a waiter on any instance
// wakes. Take the channel before reading what is pending, so that a
// revocation between the two is not missed.
func (r *Revocations) Changed() <-chan struct{} {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.changed
}

// insert adds id at, under the write lock, and reports whether it is new.
func (r *Revocations) insert(id string, at time.Time) bool {
	if _, ok := r.revoked[id]; ok {
		return false
	}
	r.revoked[id] = at
	return true
}

// announce wakes the waiters of Changed, under the write lock.
func (r *Revocations) announce() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Add marks sessions as revoked at. An empty id is never added: it would
// revoke every token that names no session.
func (r *Revocations) Add(at time.Time, ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	added := false
	for _, id := range ids {
		if id != "" && r.insert(id, at) {
			added = true
		}
	}
	if added {
		r.announce()
	}
}

// Revoked reports whether the session was revoked.
func (r *Revocations) Revoked(sid string) bool {
	r.mu.RLock()
	_, ok := r.revoked[sid]
	r.mu.RUnlock()
	return ok
}

// Len is the number of sessions held.
func (r *Revocations) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.revoked)
}

func (r *Revocations) prune(now time.Time) {
	r.mu.Lock()
	for id, at := range r.revoked {
		if now.Sub(at) > r.Retain {
			delete(r.revoked, id)
		}
	}
	r.mu.Unlock()
}

// pollOverlap re-reads a little of the past at each poll. A revocation is
// stamped before the revoking process waits, up to its busy timeout (5 s),
// for the write lock, so a row can commit with a time older than rows
// already seen.
const pollOverlap = 10 * time.Second

// Load reads the revocations still relevant and returns the time to poll from.
func (r *Revocations) Load(ctx context.Context, store latchkey.SessionService) (time.Time, error) {
	start := r.now()
	if err := r.pull(ctx, store, start.Add(-r.Retain)); err != nil {
		return time.Time{}, err
	}
	return start, nil
}

// readTimeout bounds one read of the watchers: a read stuck on a
// connection the network dropped silently must not stop every later one.
const readTimeout = 5 * time.Second

func (r *Revocations) pullWithin(ctx context.Context, store latchkey.SessionService, since time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	return r.pull(ctx, store, since)
}

func (r *Revocations) pull(ctx context.Context, store latchkey.SessionService, since time.Time) error {
	rs, err := store.RevokedSince(ctx, since)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	added := false
	for _, s := range rs {
		if r.insert(s.ID, s.RevokedAt) {
			added = true
		}
	}
	if added {
		r.announce()
	}
	return nil
}

// Watch polls the store every interval until ctx ends, so revocations made
// by another process sharing the store take effect here within interval.
// A receive on wake polls at once: the store's notification that another
// instance revoked something (PostgreSQL's NOTIFY), which brings that
// delay down to a round trip. wake may be nil. since is what Load
// returned.
func (r *Revocations) Watch(ctx context.Context, store latchkey.SessionService, since time.Time, interval time.Duration, wake <-chan struct{}, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var pruned time.Time
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		start := r.now()
		if err := r.pullWithin(ctx, store, since.Add(-pollOverlap)); err != nil {
			if ctx.Err() == nil && !failing {
				// Once per outage, not at every poll.
				log.Warn("poll revocations: failing; retrying", "err", err)
				failing = true
			}
			continue
		}
		if failing {
			log.Info("poll revocations: recovered")
			failing = false
		}
		since = start
		// Pruning walks the set under the write lock every verification
		// waits on; once a minute (or once per Retain, if shorter) is plenty.
		if start.Sub(pruned) >= min(time.Minute, r.Retain) {
			r.prune(start)
			pruned = start
		}
	}
}
