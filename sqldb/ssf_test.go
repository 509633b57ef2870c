package sqldb_test

import (
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// newReceiver stores a receiver named name with a fresh secret and
// returns it with the secret.
func newReceiver(tb testing.TB, db *sqldb.DB, name string) (*latchkey.Receiver, string) {
	tb.Helper()
	secret, hash, err := latchkey.NewReceiverSecret()
	must(tb, err)
	r := &latchkey.Receiver{Name: name, Audience: "https://" + name + ".example", SecretHash: hash}
	must(tb, db.CreateReceiver(ctx, r))
	return r, secret
}

// newStream stores a stream of receiverID created at created.
func newStream(tb testing.TB, db *sqldb.DB, receiverID string, created time.Time) *latchkey.Stream {
	tb.Helper()
	s := &latchkey.Stream{ReceiverID: receiverID, Description: "verifier", CreatedAt: created}
	must(tb, db.CreateStream(ctx, s))
	return s
}

// countRows counts the rows of query (a SELECT COUNT(*)) on the writer.
func countRows(tb testing.TB, db *sqldb.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	must(tb, db.Writer().QueryRowContext(ctx, query, args...).Scan(&n))
	return n
}

func ackCount(tb testing.TB, db *sqldb.DB, streamID string) int {
	return countRows(tb, db, `SELECT COUNT(*) FROM ssf_acks WHERE stream_id = $1`, streamID)
}

// revoked creates a session of userID and revokes it at at for reason.
func revoked(tb testing.TB, db *sqldb.DB, userID string, at time.Time, reason string) *latchkey.Session {
	tb.Helper()
	s := newSession(tb, db, userID, t0.Add(-time.Hour))
	must(tb, db.RevokeSessionByID(ctx, s.ID, reason, at))
	return s
}

// TestReceivers: a receiver is stored with its secret's hash only, found
// by that hash, listed by name with its stream count and without the hash;
// its name is unique; removing it removes its streams and their acks.
func TestReceivers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		b, bSecret := newReceiver(t, db, "notes-api")
		a, _ := newReceiver(t, db, "billing")
		if b.ID == "" || !b.CreatedAt.Equal(t0) {
			t.Fatalf("CreateReceiver filled ID %q, CreatedAt %v", b.ID, b.CreatedAt)
		}
		got, err := db.FindReceiverBySecretHash(ctx, latchkey.HashReceiverSecret(bSecret))
		must(t, err)
		if !reflect.DeepEqual(got, b) {
			t.Fatalf("FindReceiverBySecretHash =\n%+v\nwant\n%+v", got, b)
		}
		_, err = db.FindReceiverBySecretHash(ctx, latchkey.HashReceiverSecret(bSecret+"x"))
		wantCode(t, err, latchkey.ENOTFOUND)

		// A duplicate name is a conflict, and the receiver is left as given.
		_, hash, err := latchkey.NewReceiverSecret()
		must(t, err)
		dup := &latchkey.Receiver{Name: "notes-api", Audience: "https://other.example", SecretHash: hash}
		wantCode(t, db.CreateReceiver(ctx, dup), latchkey.ECONFLICT)
		if dup.ID != "" || !dup.CreatedAt.IsZero() {
			t.Fatalf("failed CreateReceiver changed its argument: %+v", dup)
		}

		s1, s2 := newStream(t, db, b.ID, t0), newStream(t, db, b.ID, t0)
		sa := newStream(t, db, a.ID, t0)
		victim := revoked(t, db, newUser(t, db).ID, t0, latchkey.ReasonSignout)
		for _, s := range []*latchkey.Stream{s1, s2, sa} {
			must(t, db.AckRevocations(ctx, s.ID, []string{victim.ID}, t0.Add(time.Hour)))
		}

		list, err := db.ListReceivers(ctx)
		must(t, err)
		if len(list) != 2 || list[0].Name != "billing" || list[1].Name != "notes-api" ||
			list[0].Streams != 1 || list[1].Streams != 2 {
			t.Fatalf("ListReceivers = %+v", list)
		}
		for _, r := range list {
			if r.SecretHash != nil || r.ID == "" || r.Audience == "" || !r.CreatedAt.Equal(t0) {
				t.Fatalf("listed receiver %+v", r)
			}
		}

		must(t, db.DeleteReceiver(ctx, "notes-api"))
		wantCode(t, db.DeleteReceiver(ctx, "notes-api"), latchkey.ENOTFOUND)
		_, err = db.FindReceiverBySecretHash(ctx, latchkey.HashReceiverSecret(bSecret))
		wantCode(t, err, latchkey.ENOTFOUND)
		for _, s := range []*latchkey.Stream{s1, s2} {
			_, err := db.FindStream(ctx, b.ID, s.ID)
			wantCode(t, err, latchkey.ENOTFOUND)
			if n := ackCount(t, db, s.ID); n != 0 {
				t.Fatalf("%d acks left of a removed receiver's stream", n)
			}
		}
		// The other receiver keeps its stream and acks.
		if _, err := db.FindStream(ctx, a.ID, sa.ID); err != nil || ackCount(t, db, sa.ID) != 1 {
			t.Fatalf("the other receiver's stream: %v, %d acks", err, ackCount(t, db, sa.ID))
		}
		// The name is free again.
		newReceiver(t, db, "notes-api")
	})
}

// TestStreams: a stream round-trips, defaults to enabled with its
// creation as its last poll, lists oldest first per receiver, updates its
// receiver-settable fields, and is deleted once; another receiver's
// stream is not found by any method that names one.
func TestStreams(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		r, _ := newReceiver(t, db, "r")
		other, _ := newReceiver(t, db, "other")
		s := &latchkey.Stream{ReceiverID: r.ID, Description: "pod-1",
			EventsRequested: []string{"https://schemas.openid.net/secevent/caep/event-type/session-revoked"}}
		must(t, db.CreateStream(ctx, s))
		if s.ID == "" || s.Status != latchkey.StreamEnabled || !s.CreatedAt.Equal(t0) || !s.LastPollAt.Equal(t0) {
			t.Fatalf("CreateStream filled %+v", s)
		}
		got, err := db.FindStream(ctx, r.ID, s.ID)
		must(t, err)
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("FindStream =\n%+v\nwant\n%+v", got, s)
		}
		later := newStream(t, db, r.ID, t0.Add(time.Second))
		newStream(t, db, other.ID, t0)
		list, err := db.ListStreams(ctx, r.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != s.ID || list[1].ID != later.ID {
			t.Fatalf("ListStreams = %+v", list)
		}

		// Another receiver names r's stream: not found, and nothing changes.
		_, err = db.FindStream(ctx, other.ID, s.ID)
		wantCode(t, err, latchkey.ENOTFOUND)
		theirs := *s
		theirs.ReceiverID, theirs.Description = other.ID, "hijacked"
		wantCode(t, db.UpdateStream(ctx, &theirs), latchkey.ENOTFOUND)
		wantCode(t, db.DeleteStream(ctx, other.ID, s.ID), latchkey.ENOTFOUND)
		wantCode(t, db.RequestStreamVerification(ctx, other.ID, s.ID, "st", t0), latchkey.ENOTFOUND)
		if got, err := db.FindStream(ctx, r.ID, s.ID); err != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("after another receiver's attempts: %+v, %v", got, err)
		}

		upd := *s
		upd.Description, upd.EventsRequested = "pod-1 renamed", nil
		upd.Status, upd.StatusReason = latchkey.StreamPaused, "maintenance"
		must(t, db.UpdateStream(ctx, &upd))
		got, err = db.FindStream(ctx, r.ID, s.ID)
		must(t, err)
		if !reflect.DeepEqual(got, &upd) {
			t.Fatalf("after UpdateStream =\n%+v\nwant\n%+v", got, &upd)
		}
		upd.Status = "gone"
		wantCode(t, db.UpdateStream(ctx, &upd), latchkey.EINVALID)
		wantCode(t, db.CreateStream(ctx, &latchkey.Stream{ReceiverID: r.ID, Status: "gone"}), latchkey.EINVALID)
		orphan := &latchkey.Stream{ReceiverID: "no-such-receiver"}
		wantCode(t, db.CreateStream(ctx, orphan), latchkey.ENOTFOUND)
		if orphan.ID != "" || orphan.Status != "" {
			t.Fatalf("failed CreateStream changed its argument: %+v", orphan)
		}

		must(t, db.DeleteStream(ctx, r.ID, s.ID))
		wantCode(t, db.DeleteStream(ctx, r.ID, s.ID), latchkey.ENOTFOUND)
		_, err = db.FindStream(ctx, r.ID, s.ID)
		wantCode(t, err, latchkey.ENOTFOUND)
	})
}

// TestStreamCap: a receiver's 65th stream is refused, another receiver's
// is not, and a deleted or inactive stream frees its place.
func TestStreamCap(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		r, _ := newReceiver(t, db, "r")
		other, _ := newReceiver(t, db, "other")
		var first *latchkey.Stream
		for i := range latchkey.MaxStreamsPerReceiver {
			s := newStream(t, db, r.ID, t0.Add(time.Duration(i)*time.Millisecond))
			if i == 0 {
				first = s
			}
		}
		next := &latchkey.Stream{ReceiverID: r.ID, CreatedAt: t0.Add(time.Second)}
		wantCode(t, db.CreateStream(ctx, next), latchkey.ECONFLICT)
		newStream(t, db, other.ID, t0)
		must(t, db.DeleteStream(ctx, r.ID, first.ID))
		newStream(t, db, r.ID, t0.Add(time.Second))
		wantCode(t, db.CreateStream(ctx, &latchkey.Stream{ReceiverID: r.ID, CreatedAt: t0.Add(time.Second)}), latchkey.ECONFLICT)

		// StreamInactivity later, none of them polled: all dead, and the
		// next one takes their place.
		late := t0.Add(time.Second + latchkey.StreamInactivity)
		newStream(t, db, r.ID, late)
		if n := countRows(t, db, `SELECT COUNT(*) FROM ssf_streams WHERE receiver_id = $1`, r.ID); n != 1 {
			t.Fatalf("%d streams after creating one past the others' inactivity, want 1", n)
		}
	})
}

// TestStreamCapConcurrent: creations racing for one receiver's last
// places never leave more than MaxStreamsPerReceiver. A race lost without
// the lock shows in about half the rounds on PostgreSQL, so there are
// several.
func TestStreamCapConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		for round := range 4 {
			r, _ := newReceiver(t, db, "r"+strconv.Itoa(round))
			raceStreamCap(t, db, r.ID)
		}
	})
}

func raceStreamCap(t *testing.T, db *sqldb.DB, receiverID string) {
	t.Helper()
	const free, racers = 2, 32
	for range latchkey.MaxStreamsPerReceiver - free {
		newStream(t, db, receiverID, t0)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	start := make(chan struct{})
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := db.CreateStream(ctx, &latchkey.Stream{ReceiverID: receiverID, CreatedAt: t0})
			mu.Lock()
			defer mu.Unlock()
			switch latchkey.ErrorCode(err) {
			case "":
				created++
			case latchkey.ECONFLICT:
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	n := countRows(t, db, `SELECT COUNT(*) FROM ssf_streams WHERE receiver_id = $1`, receiverID)
	if created != free || refused != racers-free || n != latchkey.MaxStreamsPerReceiver {
		t.Fatalf("%d created, %d refused, %d stored; want %d, %d, %d",
			created, refused, n, free, racers-free, latchkey.MaxStreamsPerReceiver)
	}
}

// TestTouchStream: a poll moves LastPollAt forward, never back, and a
// stream StreamInactivity without a poll is refused as gone.
func TestTouchStream(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		r, _ := newReceiver(t, db, "r")
		s := newStream(t, db, r.ID, t0)
		lastPoll := func() time.Time {
			got, err := db.FindStream(ctx, r.ID, s.ID)
			must(t, err)
			return got.LastPollAt
		}
		at := t0.Add(latchkey.StreamInactivity - time.Nanosecond)
		must(t, db.TouchStream(ctx, s.ID, at))
		if !lastPoll().Equal(at) {
			t.Fatalf("LastPollAt %v, want %v", lastPoll(), at)
		}
		must(t, db.TouchStream(ctx, s.ID, t0))
		if !lastPoll().Equal(at) {
			t.Fatal("an earlier poll moved LastPollAt back")
		}
		wantCode(t, db.TouchStream(ctx, "no-such-stream", at), latchkey.ENOTFOUND)

		dead := at.Add(latchkey.StreamInactivity)
		wantCode(t, db.TouchStream(ctx, s.ID, dead), latchkey.ENOTFOUND)
		got, err := db.FindStream(ctx, r.ID, s.ID)
		must(t, err)
		if !got.LastPollAt.Equal(at) || !got.Inactive(dead) || got.Inactive(dead.Add(-time.Nanosecond)) {
			t.Fatalf("a refused poll changed %+v, or Inactive disagrees with TouchStream", got)
		}
	})
}

// TestPendingRevocations: a stream is pending every revocation at or
// after the window's start that it has not acknowledged, those before its
// own creation included (the seed), oldest first by (revoked_at, id);
// its own acks count, another stream's do not.
func TestPendingRevocations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u, u2 := newUser(t, db), newUser(t, db)
		rev := func(userID string, at time.Time, reason string) latchkey.RevokedSession {
			s := revoked(t, db, userID, at, reason)
			return latchkey.RevokedSession{ID: s.ID, UserID: userID, RevokedAt: at, Reason: reason}
		}
		window := t0.Add(10 * time.Minute)
		rev(u.ID, window.Add(-time.Nanosecond), latchkey.ReasonSignout) // outside the window
		before := rev(u.ID, window, latchkey.ReasonPasswordChanged)     // inside, before the streams
		live := newSession(t, db, u.ID, t0)
		r, _ := newReceiver(t, db, "r")
		a := newStream(t, db, r.ID, window.Add(time.Minute))
		b := newStream(t, db, r.ID, window.Add(time.Minute))
		// Two after the streams, at one instant: ordered by id.
		same := window.Add(2 * time.Minute)
		x := rev(u2.ID, same, latchkey.ReasonUserDisabled)
		y := rev(u.ID, same, latchkey.ReasonRefreshReuse)
		if y.ID < x.ID {
			x, y = y, x
		}
		all := []latchkey.RevokedSession{before, x, y}
		pending := func(s *latchkey.Stream, limit int) []latchkey.RevokedSession {
			got, err := db.PendingRevocations(ctx, s.ID, window, limit)
			must(t, err)
			return got
		}
		if got := pending(a, 100); !reflect.DeepEqual(got, all) {
			t.Fatalf("pending of a new stream =\n%+v\nwant\n%+v", got, all)
		}
		if got := pending(a, 2); !reflect.DeepEqual(got, all[:2]) {
			t.Fatalf("pending, limit 2 = %+v", got)
		}
		if got := pending(a, 0); len(got) != 0 {
			t.Fatalf("pending, limit 0 = %+v", got)
		}

		// a acknowledges the first and the last; an unknown id, a live
		// session's and a repeat change nothing.
		exp := window.Add(time.Hour)
		must(t, db.AckRevocations(ctx, a.ID, []string{before.ID, y.ID, "no-such-session", live.ID}, exp))
		must(t, db.AckRevocations(ctx, a.ID, []string{y.ID}, exp.Add(time.Hour)))
		if n := countRows(t, db, `SELECT COUNT(*) FROM ssf_acks WHERE stream_id = $1 AND expires_at = $2`,
			a.ID, exp.UnixNano()); n != 2 || ackCount(t, db, a.ID) != 2 {
			t.Fatalf("%d acks stored with their first expiry, %d in all; want 2", n, ackCount(t, db, a.ID))
		}
		if got := pending(a, 100); !reflect.DeepEqual(got, all[1:2]) {
			t.Fatalf("pending after acks =\n%+v\nwant\n%+v", got, all[1:2])
		}
		if got := pending(b, 100); !reflect.DeepEqual(got, all) {
			t.Fatalf("b's pending counts a's acks:\n%+v", got)
		}
		wantCode(t, db.AckRevocations(ctx, "no-such-stream", []string{x.ID}, exp), latchkey.ENOTFOUND)
		must(t, db.AckRevocations(ctx, a.ID, nil, exp))
	})
}

// TestPruneSSF: the streams StreamInactivity without a poll go, with their
// acks; the others stay; expired acks go, the others stay.
func TestPruneSSF(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		u := newUser(t, db)
		s1, s2 := revoked(t, db, u.ID, t0, latchkey.ReasonSignout), revoked(t, db, u.ID, t0, latchkey.ReasonSignout)
		r, _ := newReceiver(t, db, "r")
		now := t0.Add(time.Hour)
		// idle was last polled StreamInactivity before now, polled 1 ns
		// later.
		idle := newStream(t, db, r.ID, now.Add(-latchkey.StreamInactivity-time.Minute))
		must(t, db.TouchStream(ctx, idle.ID, now.Add(-latchkey.StreamInactivity)))
		polled := newStream(t, db, r.ID, now.Add(-latchkey.StreamInactivity-time.Minute))
		must(t, db.TouchStream(ctx, polled.ID, now.Add(-latchkey.StreamInactivity).Add(time.Nanosecond)))
		must(t, db.AckRevocations(ctx, idle.ID, []string{s1.ID}, now.Add(time.Hour)))
		must(t, db.AckRevocations(ctx, polled.ID, []string{s1.ID}, now.Add(-time.Nanosecond)))
		must(t, db.AckRevocations(ctx, polled.ID, []string{s2.ID}, now))

		n, err := db.PruneSSF(ctx, now)
		must(t, err)
		if n != 1 {
			t.Fatalf("pruned %d streams, want 1", n)
		}
		_, err = db.FindStream(ctx, r.ID, idle.ID)
		wantCode(t, err, latchkey.ENOTFOUND)
		if n := ackCount(t, db, idle.ID); n != 0 {
			t.Fatalf("%d acks of a pruned stream left", n)
		}
		if _, err := db.FindStream(ctx, r.ID, polled.ID); err != nil {
			t.Fatalf("a stream polled %v ago was pruned: %v", latchkey.StreamInactivity-time.Nanosecond, err)
		}
		got, err := db.PendingRevocations(ctx, polled.ID, t0, 10)
		must(t, err)
		if len(got) != 1 || got[0].ID != s1.ID || ackCount(t, db, polled.ID) != 1 {
			t.Fatalf("after prune, pending %+v and %d acks; want s1 pending, s2's ack kept", got, ackCount(t, db, polled.ID))
		}
	})
}

// TestStreamVerification: a request is pending with its state until its
// own ack; another within MinVerificationInterval is rate limited.
func TestStreamVerification(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		r, _ := newReceiver(t, db, "r")
		s := newStream(t, db, r.ID, t0)
		get := func() *latchkey.Stream {
			got, err := db.FindStream(ctx, r.ID, s.ID)
			must(t, err)
			return got
		}
		if g := get(); g.VerifyPending || !g.VerifyRequestedAt.IsZero() {
			t.Fatalf("a new stream has a verification: %+v", g)
		}
		must(t, db.RequestStreamVerification(ctx, r.ID, s.ID, "state-1", t0))
		if g := get(); !g.VerifyPending || g.VerifyState != "state-1" || !g.VerifyRequestedAt.Equal(t0) {
			t.Fatalf("after a request: %+v", g)
		}
		err := db.RequestStreamVerification(ctx, r.ID, s.ID, "state-2", t0.Add(latchkey.MinVerificationInterval-time.Second))
		wantCode(t, err, latchkey.ERATELIMITED)
		if e := err.(*latchkey.Error); e.RetryAfter != time.Second {
			t.Fatalf("RetryAfter %v, want 1s", e.RetryAfter)
		}
		if g := get(); g.VerifyState != "state-1" {
			t.Fatalf("a refused request changed the state: %+v", g)
		}
		second := t0.Add(latchkey.MinVerificationInterval)
		must(t, db.RequestStreamVerification(ctx, r.ID, s.ID, "", second))
		must(t, db.AckStreamVerification(ctx, s.ID, t0)) // the first's ack: too late
		if g := get(); !g.VerifyPending || g.VerifyState != "" || !g.VerifyRequestedAt.Equal(second) {
			t.Fatalf("the first's ack ended the second: %+v", g)
		}
		must(t, db.AckStreamVerification(ctx, s.ID, second))
		if g := get(); g.VerifyPending || !g.VerifyRequestedAt.Equal(second) {
			t.Fatalf("after its ack: %+v", g)
		}
		must(t, db.AckStreamVerification(ctx, s.ID, second))
		wantCode(t, db.RequestStreamVerification(ctx, r.ID, "no-such-stream", "", second), latchkey.ENOTFOUND)
	})
}

// BenchmarkPendingRevocations: a poll's read with a full window of
// revocations, all acknowledged but the last (the steady state).
func BenchmarkPendingRevocations(b *testing.B) {
	forEachEngineB(b, func(b *testing.B, db *sqldb.DB) {
		u := newUser(b, db)
		r, _ := newReceiver(b, db, "r")
		s := newStream(b, db, r.ID, t0)
		var ids []string
		for i := range 1000 {
			ids = append(ids, revoked(b, db, u.ID, t0.Add(time.Duration(i)*time.Millisecond), latchkey.ReasonSignout).ID)
		}
		must(b, db.AckRevocations(ctx, s.ID, ids[:len(ids)-1], t0.Add(time.Hour)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			got, err := db.PendingRevocations(ctx, s.ID, t0, 100)
			if err != nil || len(got) != 1 {
				b.Fatal(err, len(got))
			}
		}
	})
}
