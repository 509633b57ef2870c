package sqldb_test

import (
	"bytes"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

func TestCreateSession(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		in := &latchkey.Session{
			ID:          "01936f0e-0000-7000-8000-000000000001",
			UserID:      u.ID,
			CreatedAt:   t0,
			LastUsedAt:  t0.Add(time.Second),
			ExpiresAt:   t0.Add(720 * time.Hour),
			UserAgent:   "Mozilla/5.0",
			IP:          "2001:db8::1",
			RefreshKey:  randBytes(t, 32),
			RefreshHash: randBytes(t, 32),
			PrevHash:    randBytes(t, 32),
			Generation:  7,
			RotatedAt:   t0.Add(2 * time.Second),
		}
		want := *in
		must(t, insertSession(ctx, db, in))
		if in.ID != want.ID {
			t.Fatalf("CreateSession changed the given ID to %q", in.ID)
		}
		got, err := db.FindSession(ctx, in.ID)
		must(t, err)
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("FindSession =\n%+v\nwant\n%+v", *got, want)
		}
		got, err = db.FindSessionByRefreshHash(ctx, in.RefreshHash)
		must(t, err)
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("FindSessionByRefreshHash =\n%+v\nwant\n%+v", *got, want)
		}
		if got.Revoked() {
			t.Fatal("new session is revoked")
		}
	})
}

func TestCreateSessionFillsID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		if s.ID == "" {
			t.Fatal("no ID")
		}
		got, err := db.FindSession(ctx, s.ID)
		must(t, err)
		if got.PrevHash != nil {
			t.Fatalf("PrevHash = %x, want nil", got.PrevHash)
		}
	})
}

func TestCreateSessionErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := &latchkey.Session{UserID: "no-such-user", CreatedAt: t0, LastUsedAt: t0,
			ExpiresAt: t0.Add(time.Hour), RefreshHash: randBytes(t, 32)}
		wantCode(t, insertSession(ctx, db, s), latchkey.ENOTFOUND)

		first := newSession(t, db, u.ID, t0)
		dup := *first
		dup.RefreshHash = randBytes(t, 32)
		if err := insertSession(ctx, db, &dup); err == nil {
			t.Fatal("duplicate session id accepted")
		}
		dup = *first
		dup.ID = ""
		if err := insertSession(ctx, db, &dup); err == nil {
			t.Fatal("duplicate refresh hash accepted")
		}
	})
}

func TestFindSessionNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		_, err := db.FindSession(ctx, "nope")
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.FindSessionByRefreshHash(ctx, randBytes(t, 32))
		wantCode(t, err, latchkey.ENOTFOUND)
		_, err = db.FindSessionBySpentHash(ctx, randBytes(t, 32))
		wantCode(t, err, latchkey.ENOTFOUND)
		// The current token is not spent.
		_, err = db.FindSessionBySpentHash(ctx, s.RefreshHash)
		wantCode(t, err, latchkey.ENOTFOUND)
	})
}

func TestFindSessionByRefreshHashRevoked(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		must(t, db.RevokeSessionByID(ctx, s.ID, latchkey.ReasonRefreshReuse, t0.Add(time.Minute)))
		got, err := db.FindSessionByRefreshHash(ctx, s.RefreshHash)
		must(t, err)
		if !got.Revoked() || got.RevokeReason != latchkey.ReasonRefreshReuse {
			t.Fatalf("got %+v, want the revoked session", got)
		}
	})
}

func TestRotateSession(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		now := t0.Add(10 * time.Minute)
		r := latchkey.Rotation{
			SessionID:      s.ID,
			FromGeneration: 0,
			OldHash:        s.RefreshHash,
			NewHash:        randBytes(t, 32),
			Now:            now,
			ExpiresAt:      now.Add(720 * time.Hour),
		}
		ok, err := db.RotateSession(ctx, r)
		must(t, err)
		if !ok {
			t.Fatal("first rotation lost")
		}
		want := *s
		want.PrevHash = r.OldHash
		want.RefreshHash = r.NewHash
		want.Generation = 1
		want.RotatedAt = now
		want.LastUsedAt = now
		want.ExpiresAt = r.ExpiresAt
		got, err := db.FindSession(ctx, s.ID)
		must(t, err)
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("after rotation\n%+v\nwant\n%+v", *got, want)
		}
		got, err = db.FindSessionByRefreshHash(ctx, r.NewHash)
		must(t, err)
		if got.ID != s.ID {
			t.Fatalf("new hash finds %s", got.ID)
		}
		_, err = db.FindSessionByRefreshHash(ctx, r.OldHash)
		wantCode(t, err, latchkey.ENOTFOUND)
		got, err = db.FindSessionBySpentHash(ctx, r.OldHash)
		must(t, err)
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("FindSessionBySpentHash =\n%+v\nwant\n%+v", *got, want)
		}

		// A second rotation from the same generation loses and changes nothing.
		late := r
		late.NewHash = randBytes(t, 32)
		late.Now = now.Add(time.Second)
		ok, err = db.RotateSession(ctx, late)
		must(t, err)
		if ok {
			t.Fatal("stale rotation won")
		}
		got, err = db.FindSession(ctx, s.ID)
		must(t, err)
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("stale rotation changed the session:\n%+v\nwant\n%+v", *got, want)
		}
		_, err = db.FindSessionByRefreshHash(ctx, late.NewHash)
		wantCode(t, err, latchkey.ENOTFOUND)

		// The next generation rotates on; both spent tokens are found.
		next := latchkey.Rotation{SessionID: s.ID, FromGeneration: 1, OldHash: r.NewHash,
			NewHash: randBytes(t, 32), Now: now.Add(time.Hour), ExpiresAt: now.Add(721 * time.Hour)}
		ok, err = db.RotateSession(ctx, next)
		must(t, err)
		if !ok {
			t.Fatal("second-generation rotation lost")
		}
		for _, h := range [][]byte{r.OldHash, r.NewHash} {
			got, err := db.FindSessionBySpentHash(ctx, h)
			must(t, err)
			if got.Generation != 2 || !bytes.Equal(got.RefreshHash, next.NewHash) || !bytes.Equal(got.PrevHash, next.OldHash) {
				t.Fatalf("spent %x finds %+v", h, got)
			}
		}
	})
}

func TestRotateSessionRevoked(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		must(t, db.RevokeSessionByID(ctx, s.ID, latchkey.ReasonSignout, t0.Add(time.Minute)))
		ok, err := db.RotateSession(ctx, latchkey.Rotation{SessionID: s.ID, OldHash: s.RefreshHash,
			NewHash: randBytes(t, 32), Now: t0.Add(2 * time.Minute), ExpiresAt: t0.Add(time.Hour)})
		must(t, err)
		if ok {
			t.Fatal("rotated a revoked session")
		}
		got, err := db.FindSession(ctx, s.ID)
		must(t, err)
		if got.Generation != 0 || !bytes.Equal(got.RefreshHash, s.RefreshHash) {
			t.Fatalf("revoked session changed: %+v", got)
		}
		_, err = db.FindSessionBySpentHash(ctx, s.RefreshHash)
		wantCode(t, err, latchkey.ENOTFOUND)
	})
}

func TestRotateSessionUnknown(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ok, err := db.RotateSession(ctx, latchkey.Rotation{SessionID: "nope", OldHash: randBytes(t, 32),
			NewHash: randBytes(t, 32), Now: t0, ExpiresAt: t0.Add(time.Hour)})
		if ok || err != nil {
			t.Fatalf("RotateSession(unknown) = %v, %v; want false, nil", ok, err)
		}
	})
}

// A rotation whose second statement fails leaves no trace of its first.
func TestRotateSessionAtomic(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		h1 := randBytes(t, 32)
		ok, err := db.RotateSession(ctx, latchkey.Rotation{SessionID: s.ID, FromGeneration: 0,
			OldHash: s.RefreshHash, NewHash: h1, Now: t0, ExpiresAt: t0.Add(time.Hour)})
		must(t, err)
		if !ok {
			t.Fatal("rotation lost")
		}
		before, err := db.FindSession(ctx, s.ID)
		must(t, err)
		// Spending s.RefreshHash again violates the spent table's key after
		// the session row has been updated.
		ok, err = db.RotateSession(ctx, latchkey.Rotation{SessionID: s.ID, FromGeneration: 1,
			OldHash: s.RefreshHash, NewHash: randBytes(t, 32), Now: t0.Add(time.Minute), ExpiresAt: t0.Add(2 * time.Hour)})
		if err == nil || ok {
			t.Fatalf("RotateSession = %v, %v; want an error", ok, err)
		}
		after, err := db.FindSession(ctx, s.ID)
		must(t, err)
		if !reflect.DeepEqual(after, before) {
			t.Fatalf("failed rotation left\n%+v\nwas\n%+v", after, before)
		}
	})
}

func TestRotateSessionConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		const n = 20
		hashes := make([][]byte, n)
		for i := range hashes {
			hashes[i] = randBytes(t, 32)
		}
		won := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				won[i], errs[i] = db.RotateSession(ctx, latchkey.Rotation{SessionID: s.ID, FromGeneration: 0,
					OldHash: s.RefreshHash, NewHash: hashes[i], Now: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i := range n {
			must(t, errs[i])
			if won[i] {
				if winner >= 0 {
					t.Fatalf("rotations %d and %d both won", winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatal("no rotation won")
		}
		got, err := db.FindSession(ctx, s.ID)
		must(t, err)
		if got.Generation != 1 || !bytes.Equal(got.RefreshHash, hashes[winner]) {
			t.Fatalf("session %+v, want generation 1 with the winner's hash", got)
		}
	})
}

// Two handles on one database (two processes on one SQLite file) racing to
// rotate the same token: exactly one wins.
func TestRotateSessionConcurrentHandles(t *testing.T) {
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		a := openMigrated(t, e, loc)
		b := openMigrated(t, e, loc)
		u := newUser(t, a)
		s := newSession(t, a, u.ID, t0)
		const n = 20
		var wins, fails int
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			db := a
			if i%2 == 1 {
				db = b
			}
			wg.Go(func() {
				<-start
				ok, err := db.RotateSession(ctx, latchkey.Rotation{SessionID: s.ID, FromGeneration: 0,
					OldHash: s.RefreshHash, NewHash: randBytes(t, 32), Now: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					fails++
				} else if ok {
					wins++
				}
			})
		}
		close(start)
		wg.Wait()
		if wins != 1 || fails != 0 {
			t.Fatalf("%d wins, %d failures; want exactly one win", wins, fails)
		}
	})
}

func TestListSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		other := newUser(t, db)
		now := t0.Add(48 * time.Hour)
		old := newSession(t, db, u.ID, now.Add(-3*time.Hour))
		newest := newSession(t, db, u.ID, now.Add(-time.Hour))
		middle := newSession(t, db, u.ID, now.Add(-2*time.Hour))
		revoked := newSession(t, db, u.ID, now.Add(-30*time.Minute))
		must(t, db.RevokeSessionByID(ctx, revoked.ID, latchkey.ReasonSignout, now.Add(-10*time.Minute)))
		newSession(t, db, u.ID, now.Add(-24*time.Hour)) // expires exactly at now: not live
		newSession(t, db, u.ID, now.Add(-30*time.Hour)) // expired
		newSession(t, db, other.ID, now.Add(-time.Minute))

		got, err := liveSessions(db, u.ID, now)
		must(t, err)
		if ids, want := sessionIDs(got), []string{newest.ID, middle.ID, old.ID}; !slices.Equal(ids, want) {
			t.Fatalf("ListSessions = %v, want %v", ids, want)
		}
		if !reflect.DeepEqual(*got[0], *newest) {
			t.Fatalf("listed %+v, want %+v", *got[0], *newest)
		}
		none, err := liveSessions(db, "nobody", now)
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("sessions of nobody: %v", sessionIDs(none))
		}
	})
}

func TestRevokeSession(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		other := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		theirs := newSession(t, db, other.ID, t0)
		expired := newSession(t, db, u.ID, t0.Add(-48*time.Hour))
		now := t0.Add(time.Hour)

		wantCode(t, db.RevokeSession(ctx, u.ID, theirs.ID, latchkey.ReasonSessionRevoked, now), latchkey.ENOTFOUND)
		// An expired session is revoked all the same: its last access
		// token may outlive its refresh lifetime.
		must(t, db.RevokeSession(ctx, u.ID, expired.ID, latchkey.ReasonSessionRevoked, now))
		wantCode(t, db.RevokeSession(ctx, u.ID, "nope", latchkey.ReasonSessionRevoked, now), latchkey.ENOTFOUND)
		got, err := db.FindSession(ctx, theirs.ID)
		must(t, err)
		if got.Revoked() {
			t.Fatal("revoked another user's session")
		}

		must(t, db.RevokeSession(ctx, u.ID, s.ID, latchkey.ReasonSessionRevoked, now))
		got, err = db.FindSession(ctx, s.ID)
		must(t, err)
		if !got.RevokedAt.Equal(now) || got.RevokeReason != latchkey.ReasonSessionRevoked {
			t.Fatalf("revoked %v %q", got.RevokedAt, got.RevokeReason)
		}
		// Already revoked: not found, and the first revocation stands.
		wantCode(t, db.RevokeSession(ctx, u.ID, s.ID, latchkey.ReasonSignout, now.Add(time.Minute)), latchkey.ENOTFOUND)
		got, err = db.FindSession(ctx, s.ID)
		must(t, err)
		if !got.RevokedAt.Equal(now) || got.RevokeReason != latchkey.ReasonSessionRevoked {
			t.Fatalf("second revoke changed it to %v %q", got.RevokedAt, got.RevokeReason)
		}
	})
}

func TestRevokeUserSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		other := newUser(t, db)
		keep := newSession(t, db, u.ID, t0)
		a := newSession(t, db, u.ID, t0)
		b := newSession(t, db, u.ID, t0)
		theirs := newSession(t, db, other.ID, t0)
		now := t0.Add(time.Hour)

		revoked, err := db.RevokeUserSessions(ctx, u.ID, keep.ID, latchkey.ReasonSignout, now)
		must(t, err)
		slices.Sort(revoked)
		want := []string{a.ID, b.ID}
		slices.Sort(want)
		if !slices.Equal(revoked, want) {
			t.Fatalf("revoked %v, want %v", revoked, want)
		}
		for _, s := range []*latchkey.Session{keep, theirs} {
			got, err := db.FindSession(ctx, s.ID)
			must(t, err)
			if got.Revoked() {
				t.Fatalf("session %s revoked", s.ID)
			}
		}
		// Again, with no exception: only keep is left to revoke.
		revoked, err = db.RevokeUserSessions(ctx, u.ID, "", latchkey.ReasonUserDisabled, now.Add(time.Minute))
		must(t, err)
		if !slices.Equal(revoked, []string{keep.ID}) {
			t.Fatalf("revoked %v, want %v", revoked, []string{keep.ID})
		}
		got, err := db.FindSession(ctx, a.ID)
		must(t, err)
		if !got.RevokedAt.Equal(now) || got.RevokeReason != latchkey.ReasonSignout {
			t.Fatalf("re-revoked: %v %q", got.RevokedAt, got.RevokeReason)
		}
		revoked, err = db.RevokeUserSessions(ctx, u.ID, "", latchkey.ReasonUserDisabled, now.Add(time.Minute))
		must(t, err)
		if len(revoked) != 0 {
			t.Fatalf("revoked %v, want none", revoked)
		}
	})
}

func TestRevokeSessionByID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		first := t0.Add(time.Minute)
		must(t, db.RevokeSessionByID(ctx, s.ID, latchkey.ReasonRefreshReuse, first))
		must(t, db.RevokeSessionByID(ctx, s.ID, latchkey.ReasonSignout, first.Add(time.Minute)))
		got, err := db.FindSession(ctx, s.ID)
		must(t, err)
		if !got.RevokedAt.Equal(first) || got.RevokeReason != latchkey.ReasonRefreshReuse {
			t.Fatalf("revoked %v %q, want the first revocation", got.RevokedAt, got.RevokeReason)
		}
		wantCode(t, db.RevokeSessionByID(ctx, "nope", latchkey.ReasonSignout, first), latchkey.ENOTFOUND)
	})
}

func TestRevokedSince(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u, u2 := newUser(t, db), newUser(t, db)
		var ss []*latchkey.Session
		for i := range 5 {
			owner := u
			if i == 2 {
				owner = u2
			}
			ss = append(ss, newSession(t, db, owner.ID, t0))
		}
		// Revoke out of creation order, two at the same instant, each
		// for its own reason.
		at := []time.Time{t0.Add(3 * time.Second), t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(2 * time.Second)}
		reasons := []string{latchkey.ReasonSignout, latchkey.ReasonRefreshReuse, latchkey.ReasonUserDisabled, latchkey.ReasonMFAReset}
		for i, when := range at {
			must(t, db.RevokeSessionByID(ctx, ss[i].ID, reasons[i], when))
		}
		// ss[4] stays live.

		got, err := db.RevokedSince(ctx, t0.Add(2*time.Second))
		must(t, err)
		want := []latchkey.RevokedSession{
			{ID: ss[2].ID, UserID: u2.ID, RevokedAt: at[2], Reason: reasons[2]},
			{ID: ss[3].ID, UserID: u.ID, RevokedAt: at[3], Reason: reasons[3]},
			{ID: ss[0].ID, UserID: u.ID, RevokedAt: at[0], Reason: reasons[0]},
		}
		if ss[3].ID < ss[2].ID {
			want[0], want[1] = want[1], want[0]
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("RevokedSince =\n%v\nwant\n%v", got, want)
		}

		got, err = db.RevokedSince(ctx, time.Time{})
		must(t, err)
		if len(got) != 4 || got[0].ID != ss[1].ID {
			t.Fatalf("RevokedSince(zero) = %v", got)
		}
		got, err = db.RevokedSince(ctx, at[0].Add(time.Nanosecond))
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("RevokedSince(after the last) = %v", got)
		}
	})
}

func TestPruneSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		live := newSession(t, db, u.ID, t0)
		expired := newSession(t, db, u.ID, t0.Add(-48*time.Hour))
		revokedLong := newSession(t, db, u.ID, t0)
		revokedNow := newSession(t, db, u.ID, t0)
		must(t, db.RevokeSessionByID(ctx, revokedLong.ID, latchkey.ReasonSignout, t0))
		must(t, db.RevokeSessionByID(ctx, revokedNow.ID, latchkey.ReasonSignout, t0.Add(2*time.Hour)))
		n, err := db.PruneSessions(ctx, t0.Add(time.Hour))
		must(t, err)
		if n != 2 {
			t.Fatalf("pruned %d, want 2", n)
		}
		for _, s := range []*latchkey.Session{expired, revokedLong} {
			_, err := db.FindSession(ctx, s.ID)
			wantCode(t, err, latchkey.ENOTFOUND)
		}
		for _, s := range []*latchkey.Session{live, revokedNow} {
			_, err := db.FindSession(ctx, s.ID)
			must(t, err)
		}
	})
}

// FindRefreshSession returns what FindSessionByRefreshHash and
// FindUserByID return, in one read, and nothing for an unknown hash.
func TestFindRefreshSession(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s := newSession(t, db, u.ID, t0)
		gotS, gotU, err := db.FindRefreshSession(ctx, s.RefreshHash)
		must(t, err)
		wantS, err := db.FindSessionByRefreshHash(ctx, s.RefreshHash)
		must(t, err)
		wantU, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if !reflect.DeepEqual(gotS, wantS) || !reflect.DeepEqual(gotU, wantU) {
			t.Fatalf("FindRefreshSession =\n%+v\n%+v\nwant\n%+v\n%+v", gotS, gotU, wantS, wantU)
		}
		_, _, err = db.FindRefreshSession(ctx, randBytes(t, 32))
		wantCode(t, err, latchkey.ENOTFOUND)
	})
}
