package sqldb_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// sessionAt is a live session of userID created at created, last used at
// used, expiring a day after it was created; not yet stored.
func sessionAt(tb testing.TB, userID string, created, used time.Time) *latchkey.Session {
	return &latchkey.Session{
		UserID: userID, CreatedAt: created, LastUsedAt: used, ExpiresAt: created.Add(24 * time.Hour),
		UserAgent: "cap-test/1.0", IP: "192.0.2.7",
		RefreshKey: randBytes(tb, 32), RefreshHash: randBytes(tb, 32), RotatedAt: used,
	}
}

// TestCreateSessionCap: with a cap, creating a session revokes the least
// recently used live sessions of the user beyond it, in the same
// transaction, with reason session_limit and one session_revoked event
// each. Expired and revoked sessions do not count, and nobody else's
// sessions are touched.
func TestCreateSessionCap(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u, other := newUser(t, db), newUser(t, db)
		now := t0.Add(48 * time.Hour)
		add := func(created, used time.Time) *latchkey.Session {
			s := sessionAt(t, u.ID, created, used)
			must(t, insertSession(ctx, db, s))
			return s
		}
		// Created oldest first, but the oldest was refreshed last: the
		// least recently used is the second.
		oldest := add(now.Add(-5*time.Hour), now.Add(-time.Minute))
		lru := add(now.Add(-4*time.Hour), now.Add(-4*time.Hour))
		mid := add(now.Add(-3*time.Hour), now.Add(-2*time.Hour))
		expired := add(now.Add(-30*time.Hour), now.Add(-30*time.Hour))
		revoked := add(now.Add(-6*time.Hour), now.Add(-6*time.Hour))
		must(t, db.RevokeSessionByID(ctx, revoked.ID, latchkey.ReasonSignout, now.Add(-time.Hour)))
		theirs := sessionAt(t, other.ID, now.Add(-7*time.Hour), now.Add(-7*time.Hour))
		must(t, insertSession(ctx, db, theirs))

		// Three live and a cap of 3: the new one displaces one.
		ev := &latchkey.AuditEvent{Type: latchkey.AuditSignin, IP: "192.0.2.7"}
		s := sessionAt(t, u.ID, now, now)
		got, err := db.CreateSession(latchkey.WithAudit(ctx, ev), s, 3)
		must(t, err)
		if !slices.Equal(got, []string{lru.ID}) {
			t.Fatalf("revoked %v, want only the least recently used %s", got, lru.ID)
		}
		stored, err := db.FindSession(ctx, lru.ID)
		must(t, err)
		if !stored.Revoked() || stored.RevokeReason != latchkey.ReasonSessionLimit {
			t.Fatalf("displaced session: revoked at %v, reason %q", stored.RevokedAt, stored.RevokeReason)
		}
		if ev.ID == "" || ev.SessionID != s.ID || ev.UserID != u.ID {
			t.Fatalf("the sign-in's event was not recorded as given: %+v", ev)
		}
		for _, keep := range []*latchkey.Session{oldest, mid, expired, theirs} {
			if k, err := db.FindSession(ctx, keep.ID); err != nil || k.Revoked() {
				t.Fatalf("session %s revoked (%v)", keep.ID, err)
			}
		}
		if r, _ := db.FindSession(ctx, revoked.ID); r.RevokeReason != latchkey.ReasonSignout {
			t.Fatalf("an already revoked session got reason %q", r.RevokeReason)
		}
		wantLimitEvents(t, db, u.ID, lru.ID)

		// Under the cap nothing is revoked.
		s2 := sessionAt(t, other.ID, now, now)
		if got, err := db.CreateSession(ctx, s2, 3); err != nil || len(got) != 0 {
			t.Fatalf("under the cap: revoked %v (%v)", got, err)
		}
		// A cap of 1 leaves only the new session; a failed insert (a
		// duplicate refresh hash) revokes nothing.
		dup := sessionAt(t, u.ID, now.Add(time.Second), now.Add(time.Second))
		dup.RefreshHash = s.RefreshHash
		if _, err := db.CreateSession(ctx, dup, 1); err == nil {
			t.Fatal("duplicate refresh hash accepted")
		}
		if live := mustLive(t, db, u.ID, now); len(live) != 3 {
			t.Fatalf("a failed create changed the live sessions: %v", sessionIDs(live))
		}
		last := sessionAt(t, u.ID, now.Add(time.Second), now.Add(time.Second))
		got, err = db.CreateSession(ctx, last, 1)
		must(t, err)
		slices.Sort(got)
		want := []string{oldest.ID, mid.ID, s.ID}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("cap 1 revoked %v, want %v", got, want)
		}
		if live := mustLive(t, db, u.ID, now.Add(time.Second)); len(live) != 1 || live[0].ID != last.ID {
			t.Fatalf("live after cap 1: %v, want only %s", sessionIDs(live), last.ID)
		}
		wantLimitEvents(t, db, u.ID, append(want, lru.ID)...)
	})
}

func mustLive(t *testing.T, db *sqldb.DB, userID string, now time.Time) []*latchkey.Session {
	t.Helper()
	live, err := liveSessions(db, userID, now)
	must(t, err)
	return live
}

// wantLimitEvents checks that the audit log holds exactly one
// session_revoked event with reason session_limit for each of ids, and no
// other such event of the user.
func wantLimitEvents(t *testing.T, db *sqldb.DB, userID string, ids ...string) {
	t.Helper()
	evs, _, err := db.ListAudit(ctx, latchkey.AuditFilter{Type: latchkey.AuditSessionRevoked, UserID: userID, Limit: latchkey.MaxPageSize})
	must(t, err)
	var got []string
	for _, ev := range evs {
		if ev.Reason != latchkey.ReasonSessionLimit || ev.IP != "192.0.2.7" || ev.UserAgent != "cap-test/1.0" {
			t.Errorf("event %+v", *ev)
		}
		got = append(got, ev.SessionID)
	}
	slices.Sort(got)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("session_limit events for %v, want %v", got, want)
	}
}

// TestCreateSessionCapConcurrent: sign-ins racing for one user never leave
// more live sessions than the cap, whichever engine serializes them.
func TestCreateSessionCapConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		const n, limit = 20, 3
		var wg sync.WaitGroup
		var mu sync.Mutex
		revoked := map[string]bool{}
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				at := t0.Add(time.Duration(i) * time.Millisecond)
				got, err := db.CreateSession(ctx, sessionAt(t, u.ID, at, at), limit)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, id := range got {
					if revoked[id] {
						t.Errorf("session %s revoked twice", id)
					}
					revoked[id] = true
				}
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		live := mustLive(t, db, u.ID, t0.Add(time.Second))
		if len(live) != limit || len(revoked) != n-limit {
			t.Fatalf("%d live sessions and %d revoked after %d concurrent creations with a cap of %d", len(live), len(revoked), n, limit)
		}
		for _, s := range live {
			if revoked[s.ID] {
				t.Fatalf("live session %s was reported revoked", s.ID)
			}
		}
	})
}
