package verify

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// Defaults and limits for RemoteJWKS.
const (
	// DefaultJWKSRefresh is how often the key set is re-fetched in the
	// background. Latchkey's own JWKS answers with max-age=300.
	DefaultJWKSRefresh = 5 * time.Minute
	// DefaultJWKSMinRefetch is the least time between the starts of two
	// fetches, so the most a token with an unknown kid waits for one: an
	// issuer's key rotation costs its users at most about this long.
	DefaultJWKSMinRefetch = time.Second
	// DefaultJWKSTimeout bounds one fetch: connection, TLS, headers and body.
	DefaultJWKSTimeout = 10 * time.Second
	// DefaultJWKSMaxStale is how long cached keys stay usable when every
	// fetch fails; after that every token is refused (key_unavailable).
	DefaultJWKSMaxStale = time.Hour
	// MaxJWKSSize caps a key set's body; a few keys take a kilobyte.
	MaxJWKSSize = 1 << 20
)

// JWKSOptions tunes RemoteJWKS. Zero values pick the defaults.
type JWKSOptions struct {
	// RefreshInterval is how often the key set is re-fetched in the
	// background: the longest a key the issuer removed stays trusted.
	// Default DefaultJWKSRefresh.
	RefreshInterval time.Duration
	// MinRefetch is the least time between the starts of two fetches,
	// which bounds the fetches tokens can cause to one per MinRefetch
	// whatever kids they name. A token whose kid is not cached waits for
	// the next fetch, which starts at once or MinRefetch after the
	// previous one started. A failed fetch is retried after it too, then
	// after twice as long at each failure in a row, up to a minute (or
	// RefreshInterval), so a long outage at the issuer costs a fetch a
	// minute, not one a second.
	// Default DefaultJWKSMinRefetch; it may not exceed RefreshInterval.
	MinRefetch time.Duration
	// Timeout bounds each fetch. Default DefaultJWKSTimeout.
	Timeout time.Duration
	// MaxStale is how long the cached keys keep verifying after the last
	// successful fetch while fetches fail. Default DefaultJWKSMaxStale.
	MaxStale time.Duration
	// Client makes the requests; default a plain http.Client. It is copied,
	// and the copy refuses redirects that break the https rule and bodies
	// over MaxJWKSSize.
	Client *http.Client
	// OnError sees every failed fetch, the first one included. Default:
	// a warning on slog.Default(). Its text may name the URL.
	OnError func(err error)
}

// RemoteJWKS is a KeyFunc serving the Ed25519 keys of a remote JWK Set
// (RFC 7517), such as Latchkey's /.well-known/jwks.json or Better Auth's
// /api/auth/jwks. The set is fetched with github.com/MicahParks/jwkset and
// keys are looked up with github.com/MicahParks/keyfunc/v3.
//
// RemoteJWKS fetches the set once before it returns. A failed first fetch
// is not an error (the service may start before its issuer): it goes to
// OnError, and tokens are refused with key_unavailable until a fetch
// succeeds. After that the set is:
//
//   - cached, and re-fetched in the background every RefreshInterval;
//   - re-fetched when a token names a kid not in the cache, so a key the
//     issuer has just rotated in verifies without a restart and without a
//     refusal. Such a token waits for a fetch that starts after it came:
//     at once, or MinRefetch (default 1 s) after the previous fetch
//     started. Every token waiting meanwhile shares that one fetch, so a
//     flood of made-up kids costs the issuer at most one fetch per
//     MinRefetch, and each of them a wait of at most MinRefetch plus the
//     fetch;
//   - fetched with a Timeout, at most MaxJWKSSize bytes.
//
// It fails closed. A kid that is not in the set a token waited for is
// ErrUnknownKey (reason unknown_kid). When that fetch failed, an unknown
// kid is key_unavailable, since the set could not be checked; known kids
// keep verifying from the cache for MaxStale after the last successful
// fetch, and then every token waits for a fetch like an unknown kid, and
// is key_unavailable until the issuer answers.
//
// Only Ed25519 keys are served (for alg EdDSA), and only those whose "use"
// is "sig" or absent and whose "alg" is "EdDSA" or absent. Other keys in
// the set (RSA, ECDSA, symmetric "oct") are never used: a kid naming one is
// unknown_kid, and a token signed RS256 or ES256 is refused by the
// Verifier's allow-list (bad_alg) before any key is looked up. A JWKS is
// public, so an HS256 secret never comes from one (use HMACSecret), and an
// HS256 token naming an Ed25519 key is bad_alg. A token without a kid is
// unknown_kid: keys in a set are chosen by kid.
//
// The URL must be https, except to a loopback host (localhost, 127.0.0.0/8,
// ::1): whoever can change the key set in transit can sign tokens this
// service accepts, and plain HTTP lets anyone on the network path do so.
// Traffic to a loopback address never leaves the machine, which keeps tests
// and a sidecar issuer simple. Redirects are held to the same rule.
//
// ctx bounds the background refresh, and stop ends it; either way the
// KeyFunc then refuses every token (key_unavailable). Call stop when the
// verifier is no longer needed; it waits for the background work to end.
func RemoteJWKS(ctx context.Context, jwksURL string, opts JWKSOptions) (keys KeyFunc, stop func(), err error) {
	u, err := url.Parse(jwksURL)
	if err != nil {
		return nil, nil, errors.New("verify: JWKS URL does not parse")
	}
	if err := checkJWKSURL(u); err != nil {
		return nil, nil, err
	}
	r := &remoteJWKS{
		url:        u.String(),
		shown:      u.Redacted(),
		refresh:    orDefault(opts.RefreshInterval, DefaultJWKSRefresh),
		minRefetch: orDefault(opts.MinRefetch, DefaultJWKSMinRefetch),
		timeout:    orDefault(opts.Timeout, DefaultJWKSTimeout),
		maxStale:   orDefault(opts.MaxStale, DefaultJWKSMaxStale),
		onError:    opts.OnError,
		store:      jwkset.NewMemoryStorage(),
	}
	for _, d := range []time.Duration{opts.RefreshInterval, opts.MinRefetch, opts.Timeout, opts.MaxStale} {
		if d < 0 {
			return nil, nil, fmt.Errorf("verify: JWKSOptions has a negative duration %v", d)
		}
	}
	if r.minRefetch > r.refresh {
		return nil, nil, fmt.Errorf("verify: JWKSOptions.MinRefetch %v exceeds RefreshInterval %v", r.minRefetch, r.refresh)
	}
	if r.onError == nil {
		shown := r.shown
		r.onError = func(err error) {
			slog.Default().Warn("verify: JWKS fetch failed", "url", shown, "err", err)
		}
	}
	r.client = jwksClient(opts.Client, r.timeout)
	r.kf, err = keyfunc.New(keyfunc.Options{
		Storage:      r.store,
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.poke = make(chan struct{}, 1)
	r.ended = make(chan struct{})

	// loop fetches at once; wait for that first fetch before returning,
	// so that a service started after its issuer verifies at once.
	first := r.ended
	r.wg.Add(1)
	go r.loop()
	select {
	case <-first:
	case <-ctx.Done():
	}
	stop = sync.OnceFunc(func() {
		r.cancel()
		r.wg.Wait()
	})
	return r.key, stop, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

var (
	errJWKSClosed   = errors.New("verify: JWKS key source stopped")
	errJWKSNeverOK  = errors.New("verify: JWKS never fetched")
	errJWKSStale    = errors.New("verify: JWKS keys too old")
	errJWKSNoKID    = fmt.Errorf("verify: token names no kid: %w", ErrUnknownKey)
	errJWKSNotInSet = fmt.Errorf("verify: kid not in the JWKS: %w", ErrUnknownKey)
)

type remoteJWKS struct {
	url, shown string
	refresh    time.Duration
	minRefetch time.Duration
	timeout    time.Duration
	maxStale   time.Duration
	onError    func(error)
	client     *http.Client
	store      *jwkset.MemoryJWKSet
	kf         keyfunc.Keyfunc

	ctx    context.Context // ends with stop or the caller's ctx
	cancel context.CancelFunc
	wg     sync.WaitGroup
	poke   chan struct{} // wakes loop when a token wants a fetch; buffered 1

	// Fetches are numbered; only loop runs them, one at a time, so when
	// finished == n, fetch n and every one before it have ended.
	mu        sync.Mutex
	started   uint64        // fetches started
	finished  uint64        // fetches ended
	wanted    uint64        // the highest fetch number a token waits for
	ended     chan struct{} // closed, and replaced, when a fetch ends
	lastStart time.Time     // when the latest fetch started
	lastOK    time.Time     // when the latest successful fetch ended
	lastErr   error         // the latest fetch's failure; nil after a success
	failed    int           // fetches failed in a row
}

// key is the KeyFunc. A kid found in fresh keys is answered at once.
// Otherwise the request waits for a fetch that starts after it asked
// (the issuer may have published the key since the last one), and then
// answers from what that fetch left.
func (r *remoteJWKS) key(ctx context.Context, kid, _ string) (any, error) {
	if kid == "" {
		return nil, errJWKSNoKID
	}
	if r.ctx.Err() != nil {
		return nil, errJWKSClosed
	}
	// Numbered before the lookup: a fetch that starts after this point
	// may hold a key the lookup missed.
	need, lastOK, _ := r.status()
	if k, ok := r.cached(ctx, kid, lastOK); ok {
		return k, nil
	}
	if err := r.await(ctx, need); err != nil {
		return nil, err
	}
	_, lastOK, lastErr := r.status()
	if k, ok := r.cached(ctx, kid, lastOK); ok {
		return k, nil
	}
	switch {
	case lastOK.IsZero():
		return nil, errors.Join(errJWKSNeverOK, lastErr)
	case time.Since(lastOK) > r.maxStale:
		return nil, errors.Join(errJWKSStale, lastErr)
	case lastErr != nil:
		// The set could not be checked for a new key.
		return nil, fmt.Errorf("verify: JWKS unreachable: %w", lastErr)
	}
	return nil, errJWKSNotInSet
}

// cached looks kid up in the keys of the last successful fetch, which
// ended at lastOK, unless they are older than maxStale.
func (r *remoteJWKS) cached(ctx context.Context, kid string, lastOK time.Time) (any, bool) {
	if lastOK.IsZero() || time.Since(lastOK) > r.maxStale {
		return nil, false
	}
	return r.lookup(ctx, kid)
}

// lookup asks keyfunc for kid's key and keeps it only if it is an Ed25519
// public key; keyfunc refuses a JWK whose "alg" is set to another than
// EdDSA or whose "use" is not "sig". The lookup is always for EdDSA, the
// only alg a JWKS serves: for a token of another alg (HS256) the Verifier
// then finds the key does not fit and answers bad_alg.
func (r *remoteJWKS) lookup(ctx context.Context, kid string) (any, bool) {
	k, err := r.kf.KeyfuncCtx(ctx)(&jwt.Token{Header: map[string]any{"kid": kid, "alg": AlgEdDSA}})
	if err != nil {
		return nil, false
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, false
	}
	return pub, true
}
