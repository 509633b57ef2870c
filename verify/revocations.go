package verify

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for RevocationSetOptions.
const (
	// DefaultRevocationRetain is how long a revocation is held: at least
	// Latchkey's access-token lifetime (15 min) plus the leeway (30 s), so
	// that every token a revocation concerns has expired before it goes.
	DefaultRevocationRetain = 16 * time.Minute
	// DefaultRevocationMaxStale is how long the set counts as current after
	// the feed's last answer: more than a long poll's hold (10 s) plus a
	// round trip.
	DefaultRevocationMaxStale = 15 * time.Second
	// DefaultStaleTokenAge is the age (now − iat) above which a token is
	// refused while the set is not current.
	DefaultStaleTokenAge = time.Minute
	// DefaultRevocationMaxEntries caps the sessions and users held, about
	// 130 MB at a million.
	DefaultRevocationMaxEntries = 1_000_000
)

// RevocationSetOptions tunes NewRevocationSet. Zero values pick the
// defaults.
type RevocationSetOptions struct {
	// Retain is how long after its time a revocation is held; then it is
	// dropped. It must cover a token's whole life: a token whose exp − iat
	// plus the Verifier's leeway exceeds Retain is refused with
	// token_expired/revocations_stale, since it could outlive its
	// revocation record. Default DefaultRevocationRetain; for Latchkey,
	// its discovery document's latchkey_revocation_retention.
	Retain time.Duration
	// MaxStale is how long the set stays current after the last
	// MarkCurrent. Default DefaultRevocationMaxStale. With
	// RemoteRevocations it must exceed the transmitter's hold of an idle
	// poll (Latchkey's: 8 s) plus a round trip, or the set goes stale
	// between two idle answers.
	MaxStale time.Duration
	// StaleTokenAge: while the set is not current, a token older than
	// this (now − iat) is refused with token_expired/revocations_stale, so
	// that the client refreshes at the issuer, which knows every
	// revocation. Default DefaultStaleTokenAge; negative turns the rule
	// off (fail open: while the feed is down, revoked tokens live until
	// their exp).
	StaleTokenAge time.Duration
	// MaxEntries caps the sessions and users held together. A revocation
	// arriving at the cap, when pruning frees no room, is not held; the set
	// is then not current until that revocation's own retention would have
	// ended, so the stale rule bounds what the loss can let through.
	// Default DefaultRevocationMaxEntries.
	MaxEntries int
	// Now replaces time.Now for the set's own bookkeeping (MarkCurrent,
	// pruning), for tests. Tokens are judged on the Verifier's clock.
	Now func() time.Time
}

// RevocationSet holds the revoked sessions (sid) and users (sub, with a
// time before which their tokens are revoked) of one issuer, fed by its
// revocation feed, and whether that feed is current. A Verifier consults it
// through Config.Revocations on every verification, cache hits included.
// It is safe for concurrent use.
//
// It is filled by RevokeSession and RevokeUser, and kept current by
// MarkCurrent after every answer of the feed, an empty one included: an
// answer proves that nothing else was pending. It counts as not current
// before the first MarkCurrent, more than MaxStale after the last one,
// after MarkStale, and while a revocation dropped at MaxEntries could still
// matter.
type RevocationSet struct {
	retain     time.Duration
	maxStale   time.Duration
	staleAge   time.Duration // negative: never refuse for staleness
	maxEntries int
	now        func() time.Time

	// Read on every verification without the lock. gen counts the
	// revocations taken (bumped under mu after the map changed), so that a
	// cached token found unrevoked at one generation is known unrevoked
	// while it lasts; the times are Unix nanoseconds, 0 for none.
	gen      atomic.Uint64
	lastSync atomic.Int64  // the last MarkCurrent; 0 before it and after MarkStale
	overflow atomic.Int64  // not current before this: a revocation was dropped at the cap
	rejected atomic.Uint64 // SETs RemoteRevocations refused

	mu        sync.RWMutex
	sessions  map[string]time.Time // sid → revoked at
	users     map[string]time.Time // sub → tokens issued at or before are revoked
	synced    bool                 // MarkCurrent was called at least once
	dropped   uint64               // revocations dropped at the cap
	lastPrune time.Time
}

// pruneEvery is how often RevokeSession, RevokeUser and MarkCurrent walk
// the set for entries past Retain; pruneFullEvery is the same when a new
// revocation finds the set full.
const (
	pruneEvery     = time.Minute
	pruneFullEvery = time.Second
)

// NewRevocationSet returns an empty set, not current until its first
// MarkCurrent. Negative durations other than StaleTokenAge, and a
// negative MaxEntries, are errors.
func NewRevocationSet(opts RevocationSetOptions) (*RevocationSet, error) {
	for _, d := range []time.Duration{opts.Retain, opts.MaxStale} {
		if d < 0 {
			return nil, fmt.Errorf("verify: RevocationSetOptions has a negative duration %v", d)
		}
	}
	if opts.MaxEntries < 0 {
		return nil, fmt.Errorf("verify: RevocationSetOptions.MaxEntries %d is negative", opts.MaxEntries)
	}
	s := &RevocationSet{
		retain:     orDefault(opts.Retain, DefaultRevocationRetain),
		maxStale:   orDefault(opts.MaxStale, DefaultRevocationMaxStale),
		staleAge:   orDefault(opts.StaleTokenAge, DefaultStaleTokenAge),
		maxEntries: opts.MaxEntries,
		now:        opts.Now,
		sessions:   make(map[string]time.Time),
		users:      make(map[string]time.Time),
	}
	if s.maxEntries == 0 {
		s.maxEntries = DefaultRevocationMaxEntries
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// errEmptyRevocation is what RevokeSession and RevokeUser answer for an
// empty id: it would revoke every token that names none.
var errEmptyRevocation = errors.New("verify: revocation names no session or user")

// ErrRevocationsFull is what RevokeSession and RevokeUser answer when the
// set is at MaxEntries: the revocation is not held, and the set is not
// current until its retention would have ended.
var ErrRevocationsFull = errors.New("verify: revocation set full")

// RevokeSession revokes every token whose sid is sid, from now until at +
// Retain. A revocation already past that is ignored. A session revoked
// again keeps the later time.
func (s *RevocationSet) RevokeSession(sid string, at time.Time) error {
	return s.add(s.sessions, sid, at)
}

// RevokeUser revokes every token whose sub is sub and whose iat is at or
// before before (a user's sign-out everywhere, a password change): the
// issuer's tokens carry iat in whole seconds, so pass before in the
// issuer's precision. It is held until before + Retain, when every such
// token has expired. A later time for the same user replaces an earlier.
func (s *RevocationSet) RevokeUser(sub string, before time.Time) error {
	return s.add(s.users, sub, before)
}

// add holds id in m (s.sessions or s.users, never reassigned) until at +
// Retain.
func (s *RevocationSet) add(m map[string]time.Time, id string, at time.Time) error {
	if id == "" {
		return errEmptyRevocation
	}
	now := s.now()
	if !now.Before(at.Add(s.retain)) {
		return nil // every token it concerns has expired
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := m[id]; ok {
		if at.After(prev) {
			m[id] = at
			s.gen.Add(1)
		}
		return nil
	}
	if now.Sub(s.lastPrune) >= pruneEvery ||
		s.fullLocked() && now.Sub(s.lastPrune) >= pruneFullEvery {
		s.pruneLocked(now)
	}
	if s.fullLocked() {
		s.dropped++
		if end := at.Add(s.retain).UnixNano(); end > s.overflow.Load() {
			s.overflow.Store(end)
		}
		return ErrRevocationsFull
	}
	m[id] = at
	s.gen.Add(1)
	return nil
}

func (s *RevocationSet) fullLocked() bool {
	return len(s.sessions)+len(s.users) >= s.maxEntries
}

// pruneLocked drops the revocations whose retention has ended.
func (s *RevocationSet) pruneLocked(now time.Time) {
	for _, m := range []map[string]time.Time{s.sessions, s.users} {
		for id, at := range m {
			if !now.Before(at.Add(s.retain)) {
				delete(m, id)
			}
		}
	}
	s.lastPrune = now
}

// MarkCurrent records an answer of the feed: the set holds every
// revocation the issuer had sent until now, and is current for MaxStale.
// It prunes the set at most once a minute.
func (s *RevocationSet) MarkCurrent() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSync.Store(now.UnixNano())
	s.synced = true
	if now.Sub(s.lastPrune) >= pruneEvery {
		s.pruneLocked(now)
	}
}

// MarkStale makes the set not current at once, until the next
// MarkCurrent: for a feed that says it is paused or disabled, or that
// has stopped.
func (s *RevocationSet) MarkStale() {
	s.lastSync.Store(0)
}

// Current reports whether the set is current at its own clock's now.
func (s *RevocationSet) Current() bool {
	return s.currentAt(s.now())
}

func (s *RevocationSet) currentAt(now time.Time) bool {
	last, n := s.lastSync.Load(), now.UnixNano()
	return last != 0 && n-last <= int64(s.maxStale) && n >= s.overflow.Load()
}

// RevocationStats describes a RevocationSet at one moment.
type RevocationStats struct {
	Sessions int       // sessions held
	Users    int       // users held
	Dropped  uint64    // revocations refused at MaxEntries since the start
	Synced   bool      // MarkCurrent was called at least once
	LastSync time.Time // the last MarkCurrent; zero before it and after MarkStale
	Current  bool      // as Current
	Rejected uint64    // SETs RemoteRevocations refused (reported in setErrs, never applied)
}

// Stats returns the set's sizes and freshness, for metrics and health
// checks.
func (s *RevocationSet) Stats() RevocationStats {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := RevocationStats{
		Sessions: len(s.sessions),
		Users:    len(s.users),
		Dropped:  s.dropped,
		Synced:   s.synced,
		Current:  s.currentAt(now),
		Rejected: s.rejected.Load(),
	}
	if last := s.lastSync.Load(); last != 0 {
		st.LastSync = time.Unix(0, last)
	}
	return st
}

// generation is the count of revocations taken so far; read it before
// holds, so that a revocation taken meanwhile changes it.
func (s *RevocationSet) generation() uint64 { return s.gen.Load() }

// holds reports whether the set revokes the verified token c: its sid is
// held, or its user is held with a time at or after its iat.
func (s *RevocationSet) holds(c *Claims) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.sessions[c.SessionID]; ok { // "" is never held
		return true
	}
	if len(s.users) > 0 {
		if t, ok := s.users[c.Subject]; ok && !c.IssuedAt.After(t) {
			return true
		}
	}
	return false
}

// outlives reports whether the verified token c could outlive its
// revocation record: it has no iat, or its exp − iat + leeway exceeds
// Retain. It depends on the token alone.
func (s *RevocationSet) outlives(c *Claims, leeway time.Duration) bool {
	return c.IssuedAt.IsZero() || c.ExpiresAt.Sub(c.IssuedAt)+leeway > s.retain
}

// stale reports whether the verified token c must be refused at now
// because the set is not current and the token is older than
// StaleTokenAge. It takes no lock.
func (s *RevocationSet) stale(c *Claims, now time.Time) bool {
	return s.staleAge >= 0 && !s.currentAt(now) && now.Sub(c.IssuedAt) > s.staleAge
}
