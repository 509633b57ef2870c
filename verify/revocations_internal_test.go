package verify

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRevocationSetLookup is the set's share of a verification that
// must look the token up (a miss, or a hit after a revocation came): the
// read lock, the sid lookup among 10,000, the user lookup among 100 and the
// lifetime and age arithmetic, for a token the set lets pass.
func BenchmarkRevocationSetLookup(b *testing.B) {
	set, err := NewRevocationSet(RevocationSetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := range 10000 {
		_ = set.RevokeSession("revoked-"+strconv.Itoa(i), now)
	}
	for i := range 100 {
		_ = set.RevokeUser("user-"+strconv.Itoa(i+100), now)
	}
	set.MarkCurrent()
	c := &Claims{Subject: "user-1", SessionID: "session-1", IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute)}
	b.ReportAllocs()
	for b.Loop() {
		if set.holds(c) || set.outlives(c, DefaultLeeway) || set.stale(c, now) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkRevocationsHitOverhead is what Config.Revocations adds to a
// cache hit in Verifier.revoked, the only code a hit runs for it besides a
// generation load: no lookup in the set (the token was seen at the current
// generation), the freshness check, and the age check. The "none" run is
// the same call without a set.
func BenchmarkRevocationsHitOverhead(b *testing.B) {
	set, err := NewRevocationSet(RevocationSetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := range 10000 {
		_ = set.RevokeSession("revoked-"+strconv.Itoa(i), now)
	}
	set.MarkCurrent()
	c := &Claims{Subject: "user-1", SessionID: "session-1", IssuedAt: now.Add(-5 * time.Minute), ExpiresAt: now.Add(10 * time.Minute)}
	ctx := context.Background()
	isRevoked := func(context.Context, *Claims) bool { return false }
	for _, bc := range []struct {
		name string
		revs *RevocationSet
	}{{"none", nil}, {"set", set}} {
		b.Run(bc.name, func(b *testing.B) {
			v := &Verifier{revs: bc.revs, isRevoked: isRevoked, leeway: DefaultLeeway}
			b.ReportAllocs()
			for b.Loop() {
				if bc.revs != nil {
					_ = bc.revs.generation()
				}
				if e := v.revoked(ctx, c, now, true, true); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}
