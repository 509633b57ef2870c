package verify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// A second issuer key, for rotation.
var (
	key2Priv = ed25519.NewKeyFromSeed([]byte("latchkey-verify-test-seed-000002"))
	key2Pub  = key2Priv.Public().(ed25519.PublicKey)
)

// jwksServer is an issuer's JWKS endpoint on 127.0.0.1 that counts its hits
// and can change its answer.
type jwksServer struct {
	*httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	status int
	body   []byte
	starts []time.Time   // when each request arrived
	hold   chan struct{} // when set, answers wait for it to close
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.setKeys(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		status, body, hold := s.status, s.body, s.hold
		s.starts = append(s.starts, time.Now())
		s.mu.Unlock()
		if hold != nil {
			<-hold // the answer as it was when the request came
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t *testing.T, keys ...map[string]any) {
	t.Helper()
	if keys == nil {
		keys = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	s.answer(http.StatusOK, b)
}

func (s *jwksServer) answer(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (s *jwksServer) url() string { return s.URL + "/.well-known/jwks.json" }

func okpJWK(kid string, pub ed25519.PublicKey) map[string]any {
	return map[string]any{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
		"x": base64.RawURLEncoding.EncodeToString(pub)}
}

func rsaJWK(kid string) map[string]any {
	k := rsaKey()
	return map[string]any{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}

// remote starts RemoteJWKS on url and a verifier using it; fetch errors
// are collected rather than logged.
func remote(t *testing.T, url string, opts verify.JWKSOptions) (*verify.Verifier, *atomic.Int64, func()) {
	t.Helper()
	var failures atomic.Int64
	if opts.OnError == nil {
		opts.OnError = func(error) { failures.Add(1) }
	}
	keys, stop, err := verify.RemoteJWKS(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("RemoteJWKS: %v", err)
	}
	t.Cleanup(stop)
	cfg := edConfig()
	cfg.Keys = keys
	return newVerifier(t, cfg), &failures, stop
}

// signed mints a valid token signed by priv under kid.
func signed(t *testing.T, priv ed25519.PrivateKey, kid string) string {
	t.Helper()
	return mint(t, jwt.SigningMethodEdDSA, priv, func(h map[string]any) { h["kid"] = kid }, nil)
}

func mustVerify(t *testing.T, v *verify.Verifier, token string) {
	t.Helper()
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatalf("Verify: %v (%v)", err, errors.Unwrap(err))
	}
}

func mustRefuse(t *testing.T, v *verify.Verifier, token, code, reason string) {
	t.Helper()
	_, err := v.Verify(context.Background(), token)
	wantError(t, err, token, code, reason)
}

func wantHits(t *testing.T, s *jwksServer, want int64) {
	t.Helper()
	if got := s.hits.Load(); got != want {
		t.Fatalf("JWKS server hits = %d, want %d", got, want)
	}
}

func TestRemoteJWKSVerifies(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	v, failures, _ := remote(t, s.url(), verify.JWKSOptions{})
	wantHits(t, s, 1) // fetched before RemoteJWKS returned
	for range 5 {
		mustVerify(t, v, signed(t, testPriv, "k1"))
	}
	// Refused like any other bad token, and answered from the cache.
	mustRefuse(t, v, signed(t, attackerPriv, "k1"), verify.CodeInvalidToken, verify.ReasonBadSignature)
	mustRefuse(t, v, mint(t, jwt.SigningMethodEdDSA, testPriv, func(h map[string]any) { delete(h, "kid") }, nil),
		verify.CodeInvalidToken, verify.ReasonUnknownKID)
	wantHits(t, s, 1)
	if failures.Load() != 0 {
		t.Errorf("%d fetch failures", failures.Load())
	}
}

// TestRemoteJWKSRotation: the issuer adds a key and signs with it; the
// first token naming it makes the verifier re-fetch, with no restart.
func TestRemoteJWKSRotation(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	v, _, _ := remote(t, s.url(), verify.JWKSOptions{MinRefetch: 50 * time.Millisecond})
	mustVerify(t, v, signed(t, testPriv, "k1"))

	s.setKeys(t, okpJWK("k1", testPub), okpJWK("k2", key2Pub))
	// Within MinRefetch of the first fetch: the token waits for the next.
	mustVerify(t, v, signed(t, key2Priv, "k2"))
	wantHits(t, s, 2)
	mustVerify(t, v, signed(t, testPriv, "k1"))
	mustVerify(t, v, signed(t, key2Priv, "k2"))
	wantHits(t, s, 2)

	// The issuer retires k1: once re-fetched, k1 is no longer trusted.
	s.setKeys(t, okpJWK("k2", key2Pub))
	mustVerify(t, v, signed(t, testPriv, "k1")) // still cached: no fetch for a known kid
	wantHits(t, s, 2)
	mustRefuse(t, v, signed(t, testPriv, "k9"), verify.CodeInvalidToken, verify.ReasonUnknownKID)
	wantHits(t, s, 3)
	mustRefuse(t, v, signed(t, testPriv, "k1"), verify.CodeInvalidToken, verify.ReasonUnknownKID)
	wantHits(t, s, 4) // k1 left the cache with fetch 3: unknown now, so fetched again
	mustVerify(t, v, signed(t, key2Priv, "k2"))
	wantHits(t, s, 4)
}

func TestRemoteJWKSBackgroundRefresh(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	v, _, stop := remote(t, s.url(), verify.JWKSOptions{RefreshInterval: 40 * time.Millisecond, MinRefetch: 40 * time.Millisecond})
	s.setKeys(t, okpJWK("k2", key2Pub))
	deadline := time.Now().Add(5 * time.Second)
	for s.hits.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d fetches in 5 s", s.hits.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The refreshed set is used without any token asking for it.
	before := s.hits.Load()
	mustVerify(t, v, signed(t, key2Priv, "k2"))

	stop()
	n := s.hits.Load()
	if n > before+1 {
		t.Errorf("unexpected burst of fetches: %d -> %d", before, n)
	}
	time.Sleep(150 * time.Millisecond)
	if got := s.hits.Load(); got != n {
		t.Errorf("%d fetches after stop", got-n)
	}
	// Stopped means refused, not trusted forever.
	mustRefuse(t, v, signed(t, key2Priv, "k2"), verify.CodeInvalidToken, verify.ReasonKeyUnavailable)
}

// TestRemoteJWKSRotationCostsASecond: with the default MinRefetch (1 s),
// an issuer that publishes a new key and signs with it at once costs its
// users a wait of at most about a second, never a refusal: right after a
// fetch (here the first), every token naming the new kid waits for the
// next fetch, and they all share it. Long after a fetch, the first such
// token fetches at once.
func TestRemoteJWKSRotationCostsASecond(t *testing.T) {
	if verify.DefaultJWKSMinRefetch != time.Second {
		t.Fatalf("DefaultJWKSMinRefetch = %v, want 1s", verify.DefaultJWKSMinRefetch)
	}
	s := newJWKSServer(t, okpJWK("k1", testPub))
	v, failures, _ := remote(t, s.url(), verify.JWKSOptions{})
	start := time.Now()
	s.setKeys(t, okpJWK("k1", testPub), okpJWK("k2", key2Pub))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		tok := signed(t, key2Priv, "k2")
		wg.Go(func() {
			_, err := v.Verify(context.Background(), tok)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a token of the rotated-in key: %v (%v)", err, errors.Unwrap(err))
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the rotated-in key took %v to verify, want about a second at most", d)
	}
	wantHits(t, s, 2) // one fetch, shared by the 50

	// Long after the last fetch, a new kid is fetched for at once.
	time.Sleep(1100 * time.Millisecond)
	key3 := ed25519.NewKeyFromSeed([]byte("latchkey-verify-test-seed-000003"))
	s.setKeys(t, okpJWK("k2", key2Pub), okpJWK("k3", key3.Public().(ed25519.PublicKey)))
	start = time.Now()
	mustVerify(t, v, signed(t, key3, "k3"))
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("a new kid a second after the last fetch took %v", d)
	}
	wantHits(t, s, 3)
	if failures.Load() != 0 {
		t.Errorf("%d fetch failures", failures.Load())
	}
}

// TestRemoteJWKSWaitsForAFetchAfterIt: a token that arrives while a fetch
// is running, one that started before the issuer published its new key,
// is not refused from that fetch's answer: it waits for the next.
func TestRemoteJWKSWaitsForAFetchAfterIt(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	v, _, _ := remote(t, s.url(), verify.JWKSOptions{MinRefetch: 50 * time.Millisecond})
	hold := make(chan struct{})
	s.mu.Lock()
	s.hold = hold
	s.mu.Unlock()
	// A made-up kid starts fetch 2, which answers the old set and hangs.
	refused := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), signed(t, testPriv, "made-up"))
		refused <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); s.hits.Load() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			close(hold)
			t.Fatal("a made-up kid started no fetch")
		}
	}
	// The issuer rotates; a token of the new key comes during fetch 2.
	s.setKeys(t, okpJWK("k1", testPub), okpJWK("k2", key2Pub))
	s.mu.Lock()
	s.hold = nil
	s.mu.Unlock()
	got := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), signed(t, key2Priv, "k2"))
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	close(hold)
	if err := <-got; err != nil {
		t.Fatalf("a token that came during a fetch older than its key: %v (%v)", err, errors.Unwrap(err))
	}
	wantError(t, <-refused, "", verify.CodeInvalidToken, verify.ReasonUnknownKID)
	wantHits(t, s, 3)
}

// TestRemoteJWKSUnknownKIDFlood: tokens naming kids the issuer never
// published, from many goroutines, cost the issuer at most one fetch per
// MinRefetch (1 s by default), each refused as unknown_kid after waiting
// about that long at most.
func TestRemoteJWKSUnknownKIDFlood(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	v, _, _ := remote(t, s.url(), verify.JWKSOptions{})
	// The kid is looked up before the signature is checked, so a made-up
	// kid needs no signing: one signed token's payload and signature under
	// a new header each time keeps the flood's own cost low.
	_, rest, _ := strings.Cut(signed(t, testPriv, "k1"), ".")
	madeUp := func(kid string) string {
		h, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "at+jwt", "kid": kid})
		return base64.RawURLEncoding.EncodeToString(h) + "." + rest
	}
	start := time.Now()
	var wg sync.WaitGroup
	var requests atomic.Int64
	var slowest atomic.Int64
	errs := make(chan error, 1)
	for g := range 200 {
		wg.Go(func() {
			for i := 0; time.Since(start) < 2500*time.Millisecond; i++ {
				tok := madeUp(fmt.Sprintf("made-up-%d-%d", g, i))
				t0 := time.Now()
				_, err := v.Verify(context.Background(), tok)
				d := time.Since(t0)
				for old := slowest.Load(); int64(d) > old && !slowest.CompareAndSwap(old, int64(d)); old = slowest.Load() {
				}
				requests.Add(1)
				var e *verify.Error
				if !errors.As(err, &e) || e.Reason != verify.ReasonUnknownKID {
					select {
					case errs <- fmt.Errorf("got %v, want unknown_kid", err):
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	hits := s.hits.Load()
	// The first fetch, then at most one per second of the flood.
	if max := 2 + int64(elapsed/time.Second); hits > max {
		t.Errorf("%d fetches for %d made-up kids in %v, want at most %d", hits, requests.Load(), elapsed, max)
	}
	if hits < 3 {
		t.Errorf("%d fetches in %v: unknown kids did not trigger re-fetches", hits, elapsed)
	}
	s.mu.Lock()
	starts := slices.Clone(s.starts)
	s.mu.Unlock()
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < 900*time.Millisecond {
			t.Errorf("fetches %d and %d only %v apart", i, i+1, gap)
		}
	}
	if d := time.Duration(slowest.Load()); d > 2*time.Second {
		t.Errorf("a made-up kid waited %v, want about a second at most", d)
	}
	t.Logf("%d made-up kids in %v: %d fetches, slowest answer %v", requests.Load(), elapsed, hits, time.Duration(slowest.Load()))
	mustVerify(t, v, signed(t, testPriv, "k1"))
}

// TestRemoteJWKSServerDown: the cache bridges a short outage for known
// kids, an unknown kid cannot be checked (key_unavailable, not
// unknown_kid), and after MaxStale nothing verifies.
func TestRemoteJWKSServerDown(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	v, failures, _ := remote(t, s.url(), verify.JWKSOptions{MinRefetch: 50 * time.Millisecond, MaxStale: 500 * time.Millisecond})
	start := time.Now()
	mustVerify(t, v, signed(t, testPriv, "k1"))

	s.Close()
	mustVerify(t, v, signed(t, testPriv, "k1"))
	time.Sleep(60 * time.Millisecond)
	mustRefuse(t, v, signed(t, key2Priv, "k2"), verify.CodeInvalidToken, verify.ReasonKeyUnavailable)
	if failures.Load() == 0 {
		t.Error("OnError not called for the failed fetch")
	}
	if time.Since(start) < 450*time.Millisecond {
		mustVerify(t, v, signed(t, testPriv, "k1"))
	}
	time.Sleep(time.Until(start.Add(600 * time.Millisecond)))
	mustRefuse(t, v, signed(t, testPriv, "k1"), verify.CodeInvalidToken, verify.ReasonKeyUnavailable)
}

// TestRemoteJWKSUnavailableAtStart: an issuer that is not up yet is not a
// start-up error; tokens are refused until it answers, then verify.
func TestRemoteJWKSUnavailableAtStart(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	s.answer(http.StatusServiceUnavailable, []byte("starting"))
	v, failures, _ := remote(t, s.url(), verify.JWKSOptions{MinRefetch: 50 * time.Millisecond})
	if failures.Load() != 1 {
		t.Errorf("OnError calls = %d, want 1", failures.Load())
	}
	tok := signed(t, testPriv, "k1")
	mustRefuse(t, v, tok, verify.CodeInvalidToken, verify.ReasonKeyUnavailable)

	s.setKeys(t, okpJWK("k1", testPub))
	time.Sleep(60 * time.Millisecond)
	mustVerify(t, v, tok)
}

func TestRemoteJWKSClosedServer(t *testing.T) {
	s := newJWKSServer(t)
	u := s.url()
	s.Close()
	v, failures, _ := remote(t, u, verify.JWKSOptions{MinRefetch: 10 * time.Millisecond})
	if failures.Load() != 1 {
		t.Errorf("OnError calls = %d, want 1", failures.Load())
	}
	mustRefuse(t, v, signed(t, testPriv, "k1"), verify.CodeInvalidToken, verify.ReasonKeyUnavailable)
}

// TestRemoteJWKSBadAnswerKeepsCache: a broken answer neither empties the
// cache nor lets an unknown kid pass as merely unknown.
func TestRemoteJWKSBadAnswerKeepsCache(t *testing.T) {
	for name, body := range map[string][]byte{
		"not JSON":  []byte("<html>oops</html>"),
		"too large": []byte(`{"keys": [` + strings.Repeat(" ", 2<<20) + `]}`),
		"bad key":   []byte(`{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k2", "x": "!!"}]}`),
	} {
		t.Run(name, func(t *testing.T) {
			s := newJWKSServer(t, okpJWK("k1", testPub))
			v, failures, _ := remote(t, s.url(), verify.JWKSOptions{MinRefetch: 50 * time.Millisecond})
			s.answer(http.StatusOK, body)
			time.Sleep(60 * time.Millisecond)
			mustRefuse(t, v, signed(t, key2Priv, "k2"), verify.CodeInvalidToken, verify.ReasonKeyUnavailable)
			wantHits(t, s, 2)
			if failures.Load() != 1 {
				t.Errorf("OnError calls = %d, want 1", failures.Load())
			}
			mustVerify(t, v, signed(t, testPriv, "k1"))
		})
	}
}

// TestRemoteJWKSKeyTypes: only Ed25519 signing keys are ever used.
func TestRemoteJWKSKeyTypes(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	encKey := okpJWK("enc1", key2Pub)
	encKey["use"] = "enc"
	noMeta := okpJWK("bare", key2Pub)
	delete(noMeta, "use")
	delete(noMeta, "alg")
	s := newJWKSServer(t,
		okpJWK("k1", testPub),
		rsaJWK("rsa1"),
		encKey,
		noMeta,
		map[string]any{"kty": "oct", "kid": "oct1", "alg": "HS256", "k": base64.RawURLEncoding.EncodeToString(secret)},
	)
	keys, stop, err := verify.RemoteJWKS(context.Background(), s.url(), verify.JWKSOptions{
		MinRefetch: 10 * time.Millisecond, OnError: func(err error) { t.Errorf("fetch: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cfg := edConfig()
	cfg.Keys = keys
	cfg.Algorithms = []string{verify.AlgEdDSA, verify.AlgHS256}
	v := newVerifier(t, cfg)

	mustVerify(t, v, signed(t, testPriv, "k1"))
	mustVerify(t, v, signed(t, key2Priv, "bare")) // no use, no alg: fine
	hits := s.hits.Load()
	// RS256 never gets past the allow-list, so the RSA key is never looked up.
	mustRefuse(t, v, mint(t, jwt.SigningMethodRS256, rsaKey(), func(h map[string]any) { h["kid"] = "rsa1" }, nil),
		verify.CodeInvalidToken, verify.ReasonBadAlg)
	wantHits(t, s, hits)
	// An allowed alg naming a key of another type finds no usable key.
	mustRefuse(t, v, signed(t, testPriv, "rsa1"), verify.CodeInvalidToken, verify.ReasonUnknownKID)
	mustRefuse(t, v, signed(t, key2Priv, "enc1"), verify.CodeInvalidToken, verify.ReasonUnknownKID)
	// A secret published in a JWKS is public: never an HS256 key.
	mustRefuse(t, v, mint(t, jwt.SigningMethodHS256, secret, func(h map[string]any) { h["kid"] = "oct1" }, nil),
		verify.CodeInvalidToken, verify.ReasonUnknownKID)
	// Nor does an Ed25519 public key become an HMAC secret.
	mustRefuse(t, v, mint(t, jwt.SigningMethodHS256, []byte(testPub), func(h map[string]any) { h["kid"] = "k1" }, nil),
		verify.CodeInvalidToken, verify.ReasonBadAlg)
}

func TestRemoteJWKSURLRule(t *testing.T) {
	quiet := verify.JWKSOptions{OnError: func(error) {}, Timeout: time.Second}
	for _, u := range []string{
		"http://example.com/.well-known/jwks.json",
		"http://10.0.0.1/jwks",
		"http://127.0.0.1.example.com/jwks",
		"http://localhost.example.com/jwks",
		"ftp://127.0.0.1/jwks",
		"https:///jwks",
		"/jwks",
		"",
		"http://[::1",
	} {
		keys, stop, err := verify.RemoteJWKS(context.Background(), u, quiet)
		if err == nil || keys != nil || stop != nil {
			if stop != nil {
				stop()
			}
			t.Errorf("RemoteJWKS(%q) accepted", u)
			continue
		}
		if !strings.HasPrefix(err.Error(), "verify: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
	for _, u := range []string{
		"http://127.0.0.1:1/jwks",
		"http://127.0.0.2:1/jwks",
		"http://localhost:1/jwks",
		"http://[::1]:1/jwks",
		"HTTP://LOCALHOST:1/jwks",
	} {
		_, stop, err := verify.RemoteJWKS(context.Background(), u, quiet)
		if err != nil {
			t.Errorf("RemoteJWKS(%q): %v", u, err)
			continue
		}
		stop()
	}

	// https, with the caller's client (here one trusting the test CA).
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{okpJWK("k1", testPub)}})
	}))
	defer ts.Close()
	v, failures, _ := remote(t, ts.URL+"/jwks", verify.JWKSOptions{Client: ts.Client()})
	mustVerify(t, v, signed(t, testPriv, "k1"))
	if failures.Load() != 0 {
		t.Errorf("%d failures", failures.Load())
	}
}

// TestRemoteJWKSRedirects: a redirect must obey the same https rule.
func TestRemoteJWKSRedirects(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	var target atomic.Value
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.Load().(string), http.StatusFound)
	}))
	defer redirector.Close()

	target.Store(s.url())
	v, failures, _ := remote(t, redirector.URL, verify.JWKSOptions{})
	mustVerify(t, v, signed(t, testPriv, "k1"))

	target.Store("http://jwks.example.com/jwks.json")
	var got error
	var mu sync.Mutex
	v, _, _ = remote(t, redirector.URL, verify.JWKSOptions{MinRefetch: 10 * time.Millisecond,
		OnError: func(err error) { mu.Lock(); got = err; mu.Unlock() }})
	mustRefuse(t, v, signed(t, testPriv, "k1"), verify.CodeInvalidToken, verify.ReasonKeyUnavailable)
	mu.Lock()
	defer mu.Unlock()
	if got == nil || !strings.Contains(got.Error(), "https") {
		t.Errorf("fetch error %v, want the https rule", got)
	}
	if failures.Load() != 0 {
		t.Errorf("%d failures on the good redirect", failures.Load())
	}
}

func TestRemoteJWKSOptionErrors(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	for _, o := range []verify.JWKSOptions{
		{RefreshInterval: -time.Second},
		{MinRefetch: -time.Second},
		{Timeout: -time.Second},
		{MaxStale: -time.Second},
		{RefreshInterval: time.Second, MinRefetch: 2 * time.Second},
	} {
		if _, _, err := verify.RemoteJWKS(context.Background(), s.url(), o); err == nil {
			t.Errorf("RemoteJWKS(%+v) accepted", o)
		}
	}
	wantHits(t, s, 0)
}

// TestRemoteJWKSContext: the caller's context ends the source like stop.
func TestRemoteJWKSContext(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	ctx, cancel := context.WithCancel(context.Background())
	keys, stop, err := verify.RemoteJWKS(ctx, s.url(), verify.JWKSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := keys(context.Background(), "k1", verify.AlgEdDSA); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := keys(context.Background(), "k1", verify.AlgEdDSA); err == nil || errors.Is(err, verify.ErrUnknownKey) {
		t.Errorf("after cancel: %v, want a failure that is not ErrUnknownKey", err)
	}
	// A waiting request gives up with its own context.
	s2 := newJWKSServer(t, okpJWK("k1", testPub))
	block := make(chan struct{})
	defer close(block)
	keys2, stop2, _ := verify.RemoteJWKS(context.Background(), s2.url(), verify.JWKSOptions{MinRefetch: time.Millisecond})
	defer stop2()
	s2.Config.Handler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block })
	time.Sleep(5 * time.Millisecond)
	rctx, rcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer rcancel()
	if _, err := keys2(rctx, "k2", verify.AlgEdDSA); err == nil || errors.Is(err, verify.ErrUnknownKey) {
		t.Errorf("waiting request: %v, want a failure that is not ErrUnknownKey", err)
	}
}

// BenchmarkVerifyRemoteJWKS is BenchmarkVerifyEdDSA with the key from a
// cached remote set: the price of the keyfunc lookup on the hot path.
func BenchmarkVerifyRemoteJWKS(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{okpJWK("k0", key2Pub), okpJWK(testKID, testPub)}})
	}))
	defer srv.Close()
	keys, stop, err := verify.RemoteJWKS(context.Background(), srv.URL, verify.JWKSOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	cfg := benchConfig(edConfig())
	cfg.Keys = keys
	v := newVerifier(b, cfg)
	tok := benchToken(b, jwt.SigningMethodEdDSA, testPriv)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRemoteJWKSBacksOffWhileDown: while the issuer is down, the periodic
// retries wait twice as long at each failure, so a long outage costs a
// fetch (and an OnError) every minute, not every MinRefetch.
func TestRemoteJWKSBacksOffWhileDown(t *testing.T) {
	s := newJWKSServer(t, okpJWK("k1", testPub))
	s.answer(http.StatusServiceUnavailable, []byte("down"))
	_, failures, _ := remote(t, s.url(), verify.JWKSOptions{MinRefetch: 20 * time.Millisecond, RefreshInterval: time.Hour})
	time.Sleep(700 * time.Millisecond)
	// Retries at 20, 40, 80, 160 and 320 ms after each failure: the first
	// fetch and five more by 700 ms (every 20 ms would be about 35).
	if n := failures.Load(); n < 3 || n > 8 {
		t.Fatalf("%d failed fetches in 700 ms, want 3 to 8", n)
	}
}
