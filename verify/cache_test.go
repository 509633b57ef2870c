package verify_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// cacheRig is a cached verifier whose key lookups are counted, whose clock
// can be moved and whose revocation answer can be flipped.
type cacheRig struct {
	v       *verify.Verifier
	lookups atomic.Int64
	revoked atomic.Bool
	now     atomic.Int64 // unix nanoseconds
}

func newCacheRig(t *testing.T, size int) *cacheRig {
	t.Helper()
	return newCacheRigWith(t, size, nil)
}

// newCacheRigWith is newCacheRig with edit applied to the Config last.
func newCacheRigWith(t *testing.T, size int, edit func(*verify.Config)) *cacheRig {
	t.Helper()
	r := &cacheRig{}
	r.now.Store(testNow.UnixNano())
	keys := verify.StaticKeys(map[string]ed25519.PublicKey{testKID: testPub})
	cfg := edConfig()
	cfg.CacheSize = size
	cfg.Keys = func(ctx context.Context, kid, alg string) (any, error) {
		r.lookups.Add(1)
		return keys(ctx, kid, alg)
	}
	cfg.Now = func() time.Time { return time.Unix(0, r.now.Load()).UTC() }
	cfg.IsRevoked = func(context.Context, *verify.Claims) bool { return r.revoked.Load() }
	if edit != nil {
		edit(&cfg)
	}
	r.v = newVerifier(t, cfg)
	return r
}

func (r *cacheRig) setNow(t time.Time) { r.now.Store(t.UnixNano()) }

// verifyCounting verifies token and returns how many key lookups it took.
func (r *cacheRig) verifyCounting(token string) (*verify.Claims, int64, error) {
	before := r.lookups.Load()
	c, err := r.v.Verify(context.Background(), token)
	return c, r.lookups.Load() - before, err
}

func wantCode(t *testing.T, err error, code, reason string) {
	t.Helper()
	var e *verify.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want %s (%s)", err, code, reason)
	}
	if e.Code != code || e.Reason != reason {
		t.Fatalf("err = %s (%s), want %s (%s)", e.Code, e.Reason, code, reason)
	}
}

func TestCacheHitSkipsKeys(t *testing.T) {
	r := newCacheRig(t, 16)
	tok := mintEd(t, nil, nil)
	first, n, err := r.verifyCounting(tok)
	if err != nil || n != 1 {
		t.Fatalf("first verify: err %v, %d key lookups, want nil and 1", err, n)
	}
	for range 3 {
		c, n, err := r.verifyCounting(tok)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("cached verify made %d key lookups, want 0", n)
		}
		if c != first {
			t.Fatal("a hit returned other claims than the first verification")
		}
	}
	if c := first; c.Subject != "user-1" || c.SessionID != "session-1" || c.Role != "user" || c.ID != "token-1" {
		t.Fatalf("claims = %+v", c)
	}
	if got := verify.CacheLen(r.v); got != 1 {
		t.Fatalf("cache holds %d entries, want 1", got)
	}
}

func TestCacheOffByDefault(t *testing.T) {
	r := newCacheRig(t, 0)
	tok := mintEd(t, nil, nil)
	for range 2 {
		if _, n, err := r.verifyCounting(tok); err != nil || n != 1 {
			t.Fatalf("uncached verify: err %v, %d key lookups, want nil and 1", err, n)
		}
	}
	if _, err := verify.New(verify.Config{Issuer: testIssuer, Audience: testAudience, Keys: verify.HMACSecret(testSecret), CacheSize: -1}); err == nil {
		t.Fatal("New accepted a negative CacheSize")
	}
}

// An entry ends at exp, not at exp plus the leeway: past exp the token is
// verified afresh (accepted within the leeway, not cached again), and past
// the leeway it is refused as expired.
func TestCacheEntryEndsAtExp(t *testing.T) {
	r := newCacheRig(t, 16)
	exp := testNow.Add(time.Minute)
	tok := mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = exp.Unix() })
	if _, n, err := r.verifyCounting(tok); err != nil || n != 1 {
		t.Fatalf("first verify: err %v, %d lookups", err, n)
	}
	r.setNow(exp.Add(-time.Second))
	if _, n, err := r.verifyCounting(tok); err != nil || n != 0 {
		t.Fatalf("just before exp: err %v, %d lookups, want a hit", err, n)
	}
	r.setNow(exp)
	for range 2 {
		if _, n, err := r.verifyCounting(tok); err != nil || n != 1 {
			t.Fatalf("at exp, within the leeway: err %v, %d lookups, want a fresh verification", err, n)
		}
	}
	if got := verify.CacheLen(r.v); got != 0 {
		t.Fatalf("cache holds %d entries after exp, want 0", got)
	}
	r.setNow(exp.Add(verify.DefaultLeeway + time.Second))
	_, _, err := r.verifyCounting(tok)
	wantCode(t, err, verify.CodeTokenExpired, verify.ReasonExpired)
}

// Cached, then the clock jumps far past exp with no verification in
// between: the stale entry must not answer.
func TestCacheExpiredTokenRefused(t *testing.T) {
	r := newCacheRig(t, 16)
	tok := mintEd(t, nil, nil)
	if _, _, err := r.verifyCounting(tok); err != nil {
		t.Fatal(err)
	}
	r.setNow(testNow.Add(time.Hour))
	_, _, err := r.verifyCounting(tok)
	wantCode(t, err, verify.CodeTokenExpired, verify.ReasonExpired)
}

func TestCacheRevocationCheckedOnHit(t *testing.T) {
	r := newCacheRig(t, 16)
	tok := mintEd(t, nil, nil)
	if _, _, err := r.verifyCounting(tok); err != nil {
		t.Fatal(err)
	}
	r.revoked.Store(true)
	_, n, err := r.verifyCounting(tok)
	wantCode(t, err, verify.CodeTokenRevoked, verify.ReasonRevoked)
	if n != 0 {
		t.Fatalf("revoked check made %d key lookups; want it answered from the cache", n)
	}
}

func TestCacheRevokedTokenNotCached(t *testing.T) {
	r := newCacheRig(t, 16)
	r.revoked.Store(true)
	_, _, err := r.verifyCounting(mintEd(t, nil, nil))
	wantCode(t, err, verify.CodeTokenRevoked, verify.ReasonRevoked)
	if got := verify.CacheLen(r.v); got != 0 {
		t.Fatalf("cache holds %d entries after a refusal, want 0", got)
	}
}

// RequireSessionID, RequireTokenID and MaxSubjectLength refuse a token every time, each
// with a full verification: only a token that passed them is cached.
func TestCacheKeepsClaimRules(t *testing.T) {
	r := newCacheRigWith(t, 16, func(c *verify.Config) {
		c.RequireSessionID = true
		c.RequireTokenID = true
		c.MaxSubjectLength = 8
	})
	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"no sid", mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "sid") }), verify.ReasonMissingSID},
		{"empty sid", mintEd(t, nil, func(c jwt.MapClaims) { c["sid"] = "" }), verify.ReasonMissingSID},
		{"no jti", mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "jti") }), verify.ReasonMissingJTI},
		{"empty jti", mintEd(t, nil, func(c jwt.MapClaims) { c["jti"] = "" }), verify.ReasonMissingJTI},
		{"sub over the cap", mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = "user-1234" }), verify.ReasonSubTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 {
				_, n, err := r.verifyCounting(tc.token)
				wantCode(t, err, verify.CodeInvalidToken, tc.reason)
				if n != 1 {
					t.Fatalf("refusal made %d key lookups, want 1 (a full verification)", n)
				}
			}
			if got := verify.CacheLen(r.v); got != 0 {
				t.Fatalf("cache holds %d entries after refusals, want 0", got)
			}
		})
	}
	ok := mintEd(t, nil, nil)
	for range 2 {
		if _, _, err := r.verifyCounting(ok); err != nil {
			t.Fatal(err)
		}
	}
	if got := verify.CacheLen(r.v); got != 1 {
		t.Fatalf("cache holds %d entries, want 1 (the token that passed)", got)
	}
}

// A tampered token hashes differently, so it is verified in full and its
// bad signature refused, however often its original was seen.
func TestCacheTamperedTokenMisses(t *testing.T) {
	r := newCacheRig(t, 16)
	tok := mintEd(t, nil, nil)
	for range 2 {
		if _, _, err := r.verifyCounting(tok); err != nil {
			t.Fatal(err)
		}
	}
	bad := tamper(t, tok, func(c jwt.MapClaims) { c["role"] = "admin" })
	for range 2 {
		_, n, err := r.verifyCounting(bad)
		wantCode(t, err, verify.CodeInvalidToken, verify.ReasonBadSignature)
		if n != 1 {
			t.Fatalf("tampered token made %d key lookups, want 1 (a full verification)", n)
		}
	}
	if c, n, err := r.verifyCounting(tok); err != nil || n != 0 || c.Role != "user" {
		t.Fatalf("original after tampering: err %v, %d lookups, claims %+v", err, n, c)
	}
}

func TestCacheBounded(t *testing.T) {
	const size = 8
	r := newCacheRig(t, size)
	toks := make([]string, 5*size)
	for i := range toks {
		toks[i] = mintEd(t, nil, func(c jwt.MapClaims) {
			c["jti"] = fmt.Sprint("token-", i)
			// Varied lifetimes, so eviction has choices to make.
			c["exp"] = testNow.Add(time.Duration(i+1) * time.Minute).Unix()
		})
	}
	for i, tok := range toks {
		c, err := r.v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint("token-", i); c.ID != want {
			t.Fatalf("token %d: jti %q, want %q", i, c.ID, want)
		}
		if got, want := verify.CacheLen(r.v), min(i+1, size); got != want {
			t.Fatalf("after %d tokens the cache holds %d entries, want %d", i+1, got, want)
		}
	}
	// The newest token was just put in, so it must answer from the cache,
	// with its own claims.
	last := toks[len(toks)-1]
	if c, n, err := r.verifyCounting(last); err != nil || n != 0 || c.ID != fmt.Sprint("token-", len(toks)-1) {
		t.Fatalf("newest token: err %v, %d lookups, claims %+v", err, n, c)
	}
	// Every token, evicted or not, still verifies to its own claims.
	for i, tok := range toks {
		c, err := r.v.Verify(context.Background(), tok)
		if err != nil || c.ID != fmt.Sprint("token-", i) {
			t.Fatalf("token %d again: err %v, claims %+v", i, err, c)
		}
	}
	if got := verify.CacheLen(r.v); got != size {
		t.Fatalf("cache holds %d entries, want %d", got, size)
	}
}

// Many goroutines verify overlapping tokens through a cache much smaller
// than their number, with revocation flipping and the clock moving past
// some tokens' exp: run under -race, and every answer must be right.
func TestCacheConcurrent(t *testing.T) {
	const size = 4
	r := newCacheRig(t, size)
	toks := make([]string, 16)
	exps := make([]time.Time, len(toks))
	for i := range toks {
		exps[i] = testNow.Add(time.Duration(i+1) * 10 * time.Second)
		toks[i] = mintEd(t, nil, func(c jwt.MapClaims) {
			c["jti"] = fmt.Sprint("token-", i)
			c["exp"] = exps[i].Unix()
		})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for n := range 300 {
				i := (g*7 + n) % len(toks)
				c, err := r.v.Verify(context.Background(), toks[i])
				var e *verify.Error
				switch {
				case err == nil:
					if c.ID != fmt.Sprint("token-", i) {
						errs <- fmt.Errorf("token %d answered with claims of %q", i, c.ID)
						return
					}
				case errors.As(err, &e) && (e.Code == verify.CodeTokenRevoked || e.Code == verify.CodeTokenExpired):
				default:
					errs <- fmt.Errorf("token %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for n := range 200 {
			r.revoked.Store(n%2 == 1)
			r.setNow(testNow.Add(time.Duration(n) * time.Second))
		}
		r.revoked.Store(false)
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := verify.CacheLen(r.v); got > size {
		t.Fatalf("cache holds %d entries, more than its size %d", got, size)
	}
}

// A token too long for cacheKey's stack buffer is hashed the other way, and
// still hits.
func TestCacheLongToken(t *testing.T) {
	r := newCacheRig(t, 16)
	tok := mintEd(t, nil, func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 2000) })
	if len(tok) <= 1024 {
		t.Fatalf("token is only %d bytes", len(tok))
	}
	if _, n, err := r.verifyCounting(tok); err != nil || n != 1 {
		t.Fatalf("first verify: err %v, %d lookups", err, n)
	}
	if _, n, err := r.verifyCounting(tok); err != nil || n != 0 {
		t.Fatalf("second verify: err %v, %d lookups, want a hit", err, n)
	}
	bad := tamper(t, tok, func(c jwt.MapClaims) { c["role"] = "admin" })
	_, _, err := r.verifyCounting(bad)
	wantCode(t, err, verify.CodeInvalidToken, verify.ReasonBadSignature)
}
