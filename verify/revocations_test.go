package verify_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// revRig is a cached verifier with a RevocationSet attached, both on one
// clock the test moves.
type revRig struct {
	v   *verify.Verifier
	set *verify.RevocationSet
	now atomic.Int64 // unix nanoseconds
}

func (r *revRig) clock() time.Time        { return time.Unix(0, r.now.Load()).UTC() }
func (r *revRig) setNow(t time.Time)      { r.now.Store(t.UnixNano()) }
func (r *revRig) advance(d time.Duration) { r.now.Add(int64(d)) }

func newRevRig(t *testing.T, opts verify.RevocationSetOptions, edit func(*verify.Config)) *revRig {
	t.Helper()
	r := &revRig{}
	r.setNow(testNow)
	opts.Now = r.clock
	set, err := verify.NewRevocationSet(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.set = set
	cfg := edConfig()
	cfg.CacheSize = 100
	cfg.Now = r.clock
	cfg.Revocations = set
	if edit != nil {
		edit(&cfg)
	}
	r.v = newVerifier(t, cfg)
	return r
}

// tokenAt mints a 15-minute token (Latchkey's lifetime) issued at iat for
// session sid of user sub.
func tokenAt(t *testing.T, iat time.Time, sub, sid string) string {
	t.Helper()
	return mintEd(t, nil, func(c jwt.MapClaims) {
		c["sub"], c["sid"], c["jti"] = sub, sid, sid+"@"+iat.String()
		c["iat"] = iat.Unix()
		c["exp"] = iat.Add(15 * time.Minute).Unix()
	})
}

func (r *revRig) pass(t *testing.T, tok string) {
	t.Helper()
	if _, err := r.v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("refused at %v: %v", r.clock(), err)
	}
}

func (r *revRig) refuse(t *testing.T, tok, code, reason string) {
	t.Helper()
	_, err := r.v.Verify(context.Background(), tok)
	wantError(t, err, tok, code, reason)
}

func (r *revRig) stale(t *testing.T, tok string) {
	t.Helper()
	r.refuse(t, tok, verify.CodeTokenExpired, verify.ReasonRevocationsStale)
}

func (r *revRig) revoked(t *testing.T, tok string) {
	t.Helper()
	r.refuse(t, tok, verify.CodeTokenRevoked, verify.ReasonRevoked)
}

func TestRevocationsSession(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{}, nil)
	r.set.MarkCurrent()
	a := tokenAt(t, testNow.Add(-time.Minute*5), "user-1", "s-a")
	b := tokenAt(t, testNow.Add(-time.Minute*5), "user-1", "s-b")
	r.pass(t, a)
	r.pass(t, b)
	if n := verify.CacheLen(r.v); n != 2 {
		t.Fatalf("cache holds %d tokens, want 2", n)
	}
	// Both cached: the refusal below comes from a cache hit.
	if err := r.set.RevokeSession("s-a", testNow); err != nil {
		t.Fatal(err)
	}
	r.revoked(t, a)
	r.pass(t, b) // another session of the same user
	if n := verify.CacheLen(r.v); n != 2 {
		t.Fatalf("cache holds %d tokens, want 2 (a hit was not a hit)", n)
	}
	// A token not yet cached is refused on the miss path too.
	r.revoked(t, tokenAt(t, testNow.Add(-time.Second), "user-1", "s-a"))
	// Revoked sessions stay revoked while the feed is stale: a young
	// token is not let through on its age.
	r.set.MarkStale()
	r.revoked(t, tokenAt(t, testNow, "user-1", "s-a"))
}

func TestRevocationsSessionEmpty(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{}, nil)
	r.set.MarkCurrent()
	if err := r.set.RevokeSession("", testNow); err == nil {
		t.Fatal("an empty sid was accepted")
	}
	if err := r.set.RevokeUser("", testNow); err == nil {
		t.Fatal("an empty sub was accepted")
	}
	if s := r.set.Stats(); s.Sessions != 0 || s.Users != 0 {
		t.Fatalf("stats %+v, want empty", s)
	}
	r.pass(t, tokenAt(t, testNow, "user-1", "")) // a token naming no session
}

func TestRevocationsUser(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{}, nil)
	r.set.MarkCurrent()
	at := testNow.Add(-time.Minute)
	before := tokenAt(t, at.Add(-time.Second), "user-1", "s-1")
	same := tokenAt(t, at, "user-1", "s-2")
	after := tokenAt(t, at.Add(time.Second), "user-1", "s-3")
	other := tokenAt(t, at.Add(-time.Second), "user-2", "s-4")
	for _, tok := range []string{before, same, after, other} {
		r.pass(t, tok) // cached
	}
	if err := r.set.RevokeUser("user-1", at); err != nil {
		t.Fatal(err)
	}
	r.revoked(t, before)
	r.revoked(t, same) // iat ≤ the user's time
	r.pass(t, after)
	r.pass(t, other)
	// An earlier time for the same user does not shorten the revocation.
	if err := r.set.RevokeUser("user-1", at.Add(-5*time.Second)); err != nil {
		t.Fatal(err)
	}
	r.revoked(t, same)
	// A later time for the user reaches the token cached (and passed)
	// since the first one.
	r.pass(t, after)
	if err := r.set.RevokeUser("user-1", at.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	r.revoked(t, after)
	r.pass(t, other)
}

// TestRevocationsCachedAcrossGenerations: a hit looked up again after an
// unrelated revocation passes and is remembered as seen; a revocation of
// its own session still reaches it afterwards.
func TestRevocationsCachedAcrossGenerations(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{}, nil)
	r.set.MarkCurrent()
	tok := tokenAt(t, testNow.Add(-time.Minute), "user-1", "s-1")
	r.pass(t, tok)
	for i := range 3 {
		if err := r.set.RevokeSession(fmt.Sprint("other-", i), testNow); err != nil {
			t.Fatal(err)
		}
		r.pass(t, tok)
		r.pass(t, tok)
	}
	if err := r.set.RevokeSession("s-1", testNow); err != nil {
		t.Fatal(err)
	}
	r.revoked(t, tok)
	r.revoked(t, tok)
}

// TestRevocationsStale is the stale rule's arithmetic: before the first
// sync and more than MaxStale after the last, only tokens younger than
// StaleTokenAge pass; a sync restores normal checks.
func TestRevocationsStale(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{}, nil)
	fresh := func() string { return tokenAt(t, r.clock().Add(-30*time.Second), "user-1", "s-fresh") }
	edge := func() string { return tokenAt(t, r.clock().Add(-verify.DefaultStaleTokenAge), "user-1", "s-edge") }
	old := tokenAt(t, testNow.Add(-2*time.Minute), "user-1", "s-old")

	// Never synced: stale.
	if r.set.Current() {
		t.Fatal("current before the first sync")
	}
	r.pass(t, fresh())
	r.pass(t, edge()) // exactly StaleTokenAge old
	r.stale(t, old)

	// Synced: every valid token passes, and is cached.
	r.set.MarkCurrent()
	r.pass(t, old)
	r.advance(verify.DefaultRevocationMaxStale) // still current at exactly MaxStale
	r.pass(t, old)

	// Past MaxStale: the cached old token is refused, young ones pass.
	r.advance(time.Second)
	if r.set.Current() {
		t.Fatal("current past MaxStale")
	}
	r.stale(t, old)
	r.pass(t, fresh())
	if s := r.set.Stats(); !s.Synced || s.Current || s.LastSync.IsZero() {
		t.Fatalf("stats %+v, want synced, not current", s)
	}

	// Recovery: an answer from the feed makes it current again.
	r.set.MarkCurrent()
	r.pass(t, old)

	// MarkStale (a paused or stopped feed) is stale at once.
	r.set.MarkStale()
	r.stale(t, old)
	r.pass(t, fresh())
	r.set.MarkCurrent()
	r.pass(t, old)
}

func TestRevocationsStaleOptions(t *testing.T) {
	old := tokenAt(t, testNow.Add(-2*time.Minute), "user-1", "s-old")
	t.Run("fail open", func(t *testing.T) {
		r := newRevRig(t, verify.RevocationSetOptions{StaleTokenAge: -1}, nil)
		r.pass(t, old) // never synced, yet accepted
		if err := r.set.RevokeSession("s-old", testNow); err != nil {
			t.Fatal(err)
		}
		r.revoked(t, old) // what the set holds still counts
	})
	t.Run("shorter age and MaxStale", func(t *testing.T) {
		r := newRevRig(t, verify.RevocationSetOptions{StaleTokenAge: 10 * time.Second, MaxStale: 2 * time.Second}, nil)
		mid := tokenAt(t, testNow.Add(-30*time.Second), "user-1", "s-mid")
		r.stale(t, mid)
		r.set.MarkCurrent()
		r.pass(t, mid)
		r.advance(3 * time.Second)
		r.stale(t, mid)
		r.pass(t, tokenAt(t, r.clock().Add(-5*time.Second), "user-1", "s-young"))
	})
}

// TestRevocationsLifetime: a token that could outlive its revocation
// record gets the stale answer even while the feed is current.
func TestRevocationsLifetime(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{}, nil)
	r.set.MarkCurrent()
	life := func(d time.Duration) string {
		return mintEd(t, nil, func(c jwt.MapClaims) {
			c["iat"] = testNow.Add(-time.Second).Unix()
			c["exp"] = testNow.Add(-time.Second + d).Unix()
		})
	}
	// 16 min Retain − 30 s leeway: 15 m 30 s is the longest life.
	r.pass(t, life(15*time.Minute+30*time.Second))
	r.stale(t, life(15*time.Minute+31*time.Second))
	r.stale(t, life(time.Hour))
	r.stale(t, mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "iat") }))

	// With a longer Retain, the hour-long token passes.
	r2 := newRevRig(t, verify.RevocationSetOptions{Retain: 2 * time.Hour}, nil)
	r2.set.MarkCurrent()
	r2.pass(t, life(time.Hour))
	// A shorter Leeway buys a longer life within the same Retain.
	r3 := newRevRig(t, verify.RevocationSetOptions{}, func(c *verify.Config) { c.Leeway = time.Second })
	r3.set.MarkCurrent()
	r3.pass(t, life(15*time.Minute+59*time.Second))
	r3.stale(t, life(16*time.Minute))
}

// TestRevocationsNilChangesNothing: without Config.Revocations, the tokens
// the set would refuse pass as before.
func TestRevocationsNilChangesNothing(t *testing.T) {
	toks := map[string]string{
		"hour long": mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = testNow.Add(time.Hour).Unix() }),
		"no iat":    mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "iat") }),
		"old":       tokenAt(t, testNow.Add(-10*time.Minute), "user-1", "s-old"),
	}
	plain := newVerifier(t, edConfig())
	set, err := verify.NewRevocationSet(verify.RevocationSetOptions{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	cfg := edConfig()
	cfg.Revocations = set
	attached := newVerifier(t, cfg)
	for name, tok := range toks {
		if _, err := plain.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s: refused without Revocations: %v", name, err)
		}
		_, err := attached.Verify(context.Background(), tok)
		wantError(t, err, tok, verify.CodeTokenExpired, verify.ReasonRevocationsStale)
	}
}

// TestRevocationsOrder: a token both revoked and stale is told it is
// revoked (sign in again), and IsRevoked still runs beside the set.
func TestRevocationsOrder(t *testing.T) {
	var asked atomic.Int64
	r := newRevRig(t, verify.RevocationSetOptions{}, func(c *verify.Config) {
		c.IsRevoked = func(_ context.Context, c *verify.Claims) bool {
			asked.Add(1)
			return c.SessionID == "s-store"
		}
	})
	old := tokenAt(t, testNow.Add(-5*time.Minute), "user-1", "s-store")
	r.revoked(t, old) // stale too (never synced), but revoked wins
	if err := r.set.RevokeSession("s-set", testNow); err != nil {
		t.Fatal(err)
	}
	before := asked.Load()
	r.revoked(t, tokenAt(t, testNow.Add(-5*time.Minute), "user-1", "s-set"))
	if asked.Load() != before {
		t.Fatal("IsRevoked was asked about a token the set refused")
	}
	r.stale(t, tokenAt(t, testNow.Add(-5*time.Minute), "user-1", "s-other"))
}

func TestRevocationsPrune(t *testing.T) {
	const retain = 20 * time.Minute
	r := newRevRig(t, verify.RevocationSetOptions{Retain: retain}, nil)
	t0 := testNow
	if err := r.set.RevokeSession("s-1", t0); err != nil { // prunes (the first time): sets the minute
		t.Fatal(err)
	}
	if err := r.set.RevokeUser("user-9", t0); err != nil {
		t.Fatal(err)
	}
	if err := r.set.RevokeSession("s-2", t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Already past its retention: not held at all.
	if err := r.set.RevokeSession("s-ancient", t0.Add(-retain)); err != nil {
		t.Fatal(err)
	}
	if s := r.set.Stats(); s.Sessions != 2 || s.Users != 1 {
		t.Fatalf("stats %+v, want 2 sessions and 1 user", s)
	}
	r.setNow(t0.Add(retain - time.Second))
	r.set.MarkCurrent() // prunes: nothing is due yet
	if s := r.set.Stats(); s.Sessions != 2 || s.Users != 1 {
		t.Fatalf("pruned early: %+v", s)
	}
	// Held tokens are still refused until the record goes (this one
	// expired long ago, so only the set's answer is checked here).
	r.setNow(t0.Add(retain - time.Second + time.Minute))
	r.set.MarkCurrent() // prunes: s-1 and user-9 are due
	if s := r.set.Stats(); s.Sessions != 1 || s.Users != 0 {
		t.Fatalf("stats %+v, want 1 session left", s)
	}
	// A revocation again of a held session keeps the later time.
	if err := r.set.RevokeSession("s-2", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	r.setNow(t0.Add(retain + 3*time.Minute))
	r.set.MarkCurrent() // prunes; s-2 is due only at t0 + 5 min + retain
	if s := r.set.Stats(); s.Sessions != 1 {
		t.Fatalf("stats %+v: an earlier time shortened s-2's retention", s)
	}
	r.setNow(t0.Add(5*time.Minute + retain - time.Second + 2*time.Minute))
	r.set.MarkCurrent()
	if s := r.set.Stats(); s.Sessions != 0 {
		t.Fatalf("stats %+v, want empty", s)
	}
}

// TestRevocationsPruneKeepsLiveTokensRefused: a token is refused until it
// expires, and its record goes only after that.
func TestRevocationsPruneKeepsLiveTokensRefused(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{}, nil)
	tok := tokenAt(t, testNow, "user-1", "s-1")
	if err := r.set.RevokeSession("s-1", testNow); err != nil {
		t.Fatal(err)
	}
	// The last second the token is inside its exp plus the leeway.
	r.setNow(testNow.Add(15*time.Minute + verify.DefaultLeeway - time.Second))
	r.set.MarkCurrent()
	r.revoked(t, tok)
	r.setNow(testNow.Add(15*time.Minute + verify.DefaultLeeway))
	r.set.MarkCurrent()
	r.refuse(t, tok, verify.CodeTokenExpired, verify.ReasonExpired)
}

func TestRevocationsMaxEntries(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{MaxEntries: 2}, nil)
	r.set.MarkCurrent()
	old := tokenAt(t, testNow.Add(-5*time.Minute), "user-1", "s-old")
	r.pass(t, old)
	if err := r.set.RevokeSession("s-1", testNow); err != nil {
		t.Fatal(err)
	}
	if err := r.set.RevokeUser("user-2", testNow); err != nil {
		t.Fatal(err)
	}
	// Already held: no room needed.
	if err := r.set.RevokeSession("s-1", testNow.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := r.set.RevokeSession("s-3", testNow); !errors.Is(err, verify.ErrRevocationsFull) {
		t.Fatalf("third entry: %v, want ErrRevocationsFull", err)
	}
	s := r.set.Stats()
	if s.Sessions != 1 || s.Users != 1 || s.Dropped != 1 || s.Current {
		t.Fatalf("stats %+v, want 2 entries, 1 dropped, not current", s)
	}
	// Stale, though the feed answers: old tokens refused, young ones pass,
	// and the held entries still refuse.
	r.set.MarkCurrent()
	r.stale(t, old)
	r.pass(t, tokenAt(t, testNow.Add(-10*time.Second), "user-1", "s-3"))
	r.revoked(t, tokenAt(t, testNow, "user-1", "s-1"))
	r.revoked(t, tokenAt(t, testNow.Add(-time.Second), "user-2", "s-9"))

	// Once the dropped revocation's retention is over (and the others',
	// pruned, with it), the set is current again.
	r.setNow(testNow.Add(verify.DefaultRevocationRetain - time.Second))
	r.set.MarkCurrent()
	if r.set.Current() {
		t.Fatal("current before the dropped revocation's retention ended")
	}
	r.setNow(testNow.Add(verify.DefaultRevocationRetain + time.Second))
	r.set.MarkCurrent()
	if !r.set.Current() {
		t.Fatalf("not current after the dropped revocation's retention: %+v", r.set.Stats())
	}
	if err := r.set.RevokeSession("s-4", r.clock()); err != nil {
		t.Fatalf("room after pruning: %v", err)
	}
}

func TestRevocationSetOptions(t *testing.T) {
	short, err := verify.NewRevocationSet(verify.RevocationSetOptions{Retain: verify.DefaultLeeway})
	if err != nil {
		t.Fatal(err)
	}
	cfg := edConfig()
	cfg.Revocations = short
	if _, err := verify.New(cfg); err == nil {
		t.Error("New accepted a Retain no longer than the leeway")
	}
	cfg.Leeway = time.Second
	if _, err := verify.New(cfg); err != nil {
		t.Errorf("New refused a Retain longer than the leeway: %v", err)
	}

	for _, opts := range []verify.RevocationSetOptions{
		{Retain: -time.Second},
		{MaxStale: -time.Second},
		{MaxEntries: -1},
	} {
		if _, err := verify.NewRevocationSet(opts); err == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
}

// TestRevocationsConcurrent revokes, syncs and verifies at once, for the
// race detector, and checks that every revocation took effect.
func TestRevocationsConcurrent(t *testing.T) {
	r := newRevRig(t, verify.RevocationSetOptions{}, nil)
	r.set.MarkCurrent()
	const n = 200
	toks := make([]string, n)
	for i := range toks {
		toks[i] = tokenAt(t, testNow.Add(-time.Minute), "user-1", fmt.Sprint("s-", i))
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := range n {
			if err := r.set.RevokeSession(fmt.Sprint("s-", i), testNow); err != nil {
				t.Error(err)
			}
			if i%10 == 0 {
				_ = r.set.RevokeUser(fmt.Sprint("u-", i), testNow)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range n {
			r.set.MarkCurrent()
			_ = r.set.Stats()
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 4 * n {
			_, err := r.v.Verify(context.Background(), toks[i%n])
			var e *verify.Error
			if err != nil && (!errors.As(err, &e) || e.Reason != verify.ReasonRevoked) {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	for _, tok := range toks {
		r.revoked(t, tok)
	}
}

// A RevocationSet fed by hand, as RemoteRevocations feeds it from the
// issuer's revocation feed: every answer of the feed is a MarkCurrent, and
// each revoked session a RevokeSession. Until the first answer the set is
// not current, and only tokens younger than StaleTokenAge pass.
func ExampleRevocationSet() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	revs, err := verify.NewRevocationSet(verify.RevocationSetOptions{})
	if err != nil {
		panic(err)
	}
	v, err := verify.New(verify.Config{
		Issuer:      "https://auth.example.com",
		Audience:    "latchkey",
		Keys:        verify.StaticKeys(map[string]ed25519.PublicKey{"2026-11": pub}),
		CacheSize:   1000,
		Revocations: revs,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	show := func(err error) {
		if err == nil {
			fmt.Println("ok")
			return
		}
		e := err.(*verify.Error)
		fmt.Println(e.Code, e.Reason)
	}

	// Signed ten minutes ago: too old to trust before the feed answered.
	old := exampleClaims("user-123", "user")
	old["iat"] = time.Now().Add(-10 * time.Minute).Unix()
	old["exp"] = time.Now().Add(5 * time.Minute).Unix()
	oldToken := signExample(priv, "2026-11", old)
	_, err = v.Verify(ctx, oldToken)
	show(err)

	revs.MarkCurrent() // the feed answered
	_, err = v.Verify(ctx, oldToken)
	show(err)

	// The user signed out.
	if err := revs.RevokeSession("session-9", time.Now()); err != nil {
		panic(err)
	}
	_, err = v.Verify(ctx, oldToken) // a cache hit, refused all the same
	show(err)
	// Output:
	// token_expired revocations_stale
	// ok
	// token_revoked revoked
}
