package verify

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithm names as they appear in the JWS "alg" header. Only these two are
// supported: EdDSA for Latchkey's own keys and JWKS issuers, HS256 for the
// shared-secret mode. RSA and ECDSA are left out on purpose, so that no
// configuration can open the door to algorithm confusion.
const (
	AlgEdDSA = "EdDSA"
	AlgHS256 = "HS256"
)

// Defaults and limits for Config.
const (
	// DefaultType is the "typ" of access tokens (RFC 9068), which keeps an
	// ID token or any other JWT signed by the same key from being accepted.
	DefaultType = "at+jwt"
	// DefaultLeeway is the clock skew tolerated on exp and nbf.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway is the contract's ceiling on clock skew; more would quietly
	// extend every token's life.
	MaxLeeway = 30 * time.Second
	// DefaultMaxSize comfortably fits a Latchkey token (about 400 bytes)
	// while keeping hostile input cheap to refuse.
	DefaultMaxSize = 8192
)

// Claims is a verified access token's content. Treat it as read-only,
// Raw and Audience included: with Config.CacheSize set, every verification
// of the same token returns the same *Claims, shared between goroutines.
type Claims struct {
	Subject   string    // sub: the user's id
	SessionID string    // sid: may be empty for foreign issuers
	Role      string    // role: "user" or "admin" for Latchkey tokens
	Issuer    string    // iss
	Audience  []string  // aud, always as a list
	ID        string    // jti
	IssuedAt  time.Time // iat in UTC; zero when absent
	ExpiresAt time.Time // exp in UTC
	// Raw holds every claim as decoded from JSON (numbers are float64), for
	// callers that need a claim this struct does not name.
	Raw map[string]any
}

// KeyFunc returns the verification key for a token's "kid" and "alg"
// headers: an ed25519.PublicKey for EdDSA, a []byte secret for HS256. It is
// only called for an allowed alg, and before the signature is checked, so it
// must treat kid as untrusted input. For an unknown kid it returns an error
// wrapping ErrUnknownKey; any other error is reported as key_unavailable.
type KeyFunc func(ctx context.Context, kid, alg string) (any, error)

// ErrUnknownKey is what a KeyFunc wraps when it has no key for the kid, so
// that the verifier can tell "unknown_kid" from an unreachable key store.
var ErrUnknownKey = errors.New("verify: unknown key")

// StaticKeys is a KeyFunc serving a fixed set of Ed25519 public keys by kid.
// The map and keys are copied, so later changes by the caller have no effect.
func StaticKeys(keys map[string]ed25519.PublicKey) KeyFunc {
	// Stored as any so that returning a key does not allocate per call.
	m := make(map[string]any, len(keys))
	for kid, k := range keys {
		m[kid] = slices.Clone(k)
	}
	return func(_ context.Context, kid, _ string) (any, error) {
		if k, ok := m[kid]; ok {
			return k, nil
		}
		return nil, ErrUnknownKey
	}
}

// HMACSecret is a KeyFunc for the shared-secret mode: one secret, whatever
// the kid. The secret is copied. An empty secret makes every token fail with
// bad_key rather than verify against an all-zero HMAC key.
func HMACSecret(secret []byte) KeyFunc {
	var s any = slices.Clone(secret) // boxed once, not per call
	return func(context.Context, string, string) (any, error) {
		return s, nil
	}
}

// Config describes what a Verifier accepts. Zero values pick the documented
// defaults; Issuer, Audience and Keys have none, because guessing them would
// accept tokens meant for someone else.
type Config struct {
	// Issuer must equal the token's iss exactly.
	Issuer string
	// Audience must be the token's aud, or one element of it when aud is an
	// array.
	Audience string
	// Algorithms is the allow-list of alg values: "EdDSA" (the default) and
	// "HS256" are the only ones New accepts.
	Algorithms []string
	// Keys supplies verification keys.
	Keys KeyFunc
	// Type is the required "typ" header, compared case-insensitively with an
	// optional "application/" prefix on either side (RFC 7515 §4.1.9).
	// Default DefaultType.
	Type string
	// AllowNoType also accepts tokens that carry no "typ" header at all, for
	// issuers that set none (Better Auth's JWT plugin, for one). A "typ"
	// that is present must still be Type, so a token explicitly typed as
	// something else (an ID token, a logout token) stays refused. Turn it on
	// only for such an issuer: without a type, any JWT its keys sign for
	// this issuer and audience passes as an access token.
	AllowNoType bool
	// Leeway is the clock skew allowed on exp and nbf: zero means
	// DefaultLeeway; negative or above MaxLeeway makes New fail.
	Leeway time.Duration
	// MaxSize caps the token's length in bytes, checked before any decoding.
	// Zero means DefaultMaxSize; negative makes New fail.
	MaxSize int
	// IsRevoked, when set, is asked about every otherwise valid token;
	// true rejects it as token_revoked. It runs last so that a store is only
	// consulted for authentic tokens.
	IsRevoked func(ctx context.Context, c *Claims) bool
	// CacheSize, when positive, keeps up to that many verified tokens in
	// memory, so that verifying the same token again costs a SHA-256 and a
	// map lookup instead of a signature check. Entries are keyed by the
	// token's SHA-256 (the token itself is never kept) and end at the
	// token's exp: from then on the token is verified afresh, and refused
	// once past the leeway. IsRevoked is still asked on every hit. When the
	// cache is full, a new entry replaces a random one. Each entry holds the
	// token's Claims, about 1 KB for a Latchkey token. Zero turns the cache
	// off; negative makes New fail.
	//
	// A hit does not consult Keys: a key withdrawn before its tokens expire
	// keeps accepting those already cached until their exp. Leave the cache
	// off where a key must stop working at once.
	CacheSize int
	// Now replaces time.Now, for tests.
	Now func() time.Time
}

// Verifier checks access tokens against one Config. It is safe for
// concurrent use.
type Verifier struct {
	parser    *jwt.Parser
	algs      []string
	keys      KeyFunc
	typ       string
	noTypeOK  bool
	maxSize   int
	isRevoked func(ctx context.Context, c *Claims) bool
	cache     *tokenCache // nil when Config.CacheSize is 0
	now       func() time.Time
}

// New validates cfg and returns a Verifier. A configuration mistake is an
// error here rather than a silently weaker verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("verify: Config.Issuer is required")
	}
	if cfg.Audience == "" {
		return nil, errors.New("verify: Config.Audience is required")
	}
	if cfg.Keys == nil {
		return nil, errors.New("verify: Config.Keys is required")
	}
	algs := []string{AlgEdDSA}
	if len(cfg.Algorithms) > 0 {
		algs = make([]string, 0, len(cfg.Algorithms))
		for _, a := range cfg.Algorithms {
			if a != AlgEdDSA && a != AlgHS256 {
				return nil, fmt.Errorf("verify: algorithm %q not supported (only %s and %s)", a, AlgEdDSA, AlgHS256)
			}
			if !slices.Contains(algs, a) {
				algs = append(algs, a)
			}
		}
	}
	typ := cfg.Type
	if typ == "" {
		typ = DefaultType
	}
	typ = trimMediaPrefix(typ)
	if typ == "" {
		return nil, fmt.Errorf("verify: Config.Type %q names no type", cfg.Type)
	}
	leeway := cfg.Leeway
	switch {
	case leeway < 0:
		return nil, fmt.Errorf("verify: Config.Leeway %v is negative", leeway)
	case leeway > MaxLeeway:
		return nil, fmt.Errorf("verify: Config.Leeway %v exceeds %v", leeway, MaxLeeway)
	case leeway == 0:
		leeway = DefaultLeeway
	}
	maxSize := cfg.MaxSize
	switch {
	case maxSize < 0:
		return nil, fmt.Errorf("verify: Config.MaxSize %d is negative", maxSize)
	case maxSize == 0:
		maxSize = DefaultMaxSize
	}
	if cfg.CacheSize < 0 {
		return nil, fmt.Errorf("verify: Config.CacheSize %d is negative", cfg.CacheSize)
	}
	var cache *tokenCache
	if cfg.CacheSize > 0 {
		cache = newTokenCache(cfg.CacheSize)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Verifier{
		parser: jwt.NewParser(
			jwt.WithValidMethods(algs),
			jwt.WithExpirationRequired(),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
			// Non-canonical base64 would let one signed token have many
			// spellings, which defeats token-string deduplication and caches.
			jwt.WithStrictDecoding(),
		),
		algs:      algs,
		keys:      cfg.Keys,
		typ:       typ,
		noTypeOK:  cfg.AllowNoType,
		maxSize:   maxSize,
		isRevoked: cfg.IsRevoked,
		cache:     cache,
		now:       now,
	}, nil
}

// Verify checks token and returns its claims. Every failure is an *Error
// whose Code follows the contract: token_expired and token_revoked where they
// apply, missing_token for an empty string, invalid_token for the rest.
// The returned Claims are read-only (see Claims).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, &Error{Code: CodeMissingToken, Reason: ReasonMissing}
	}
	// Before anything is decoded, so that a huge hostile token costs nothing.
	if len(token) > v.maxSize {
		return nil, invalid(ReasonOversized, nil)
	}
	var (
		key [32]byte
		now time.Time
	)
	if v.cache != nil {
		key, now = cacheKey(token), v.now()
		if c, ok := v.cache.get(key, now); ok {
			if v.isRevoked != nil && v.isRevoked(ctx, c) {
				return nil, &Error{Code: CodeTokenRevoked, Reason: ReasonRevoked}
			}
			return c, nil
		}
	}
	// Go's base64 decoders skip \r and \n even in strict mode, so one
	// signed token could be spelled several ways; a compact JWS is only
	// base64url characters and dots. (A cache hit was checked on its miss.)
	if !compact(token) {
		return nil, invalid(ReasonMalformed, nil)
	}
	mc := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(token, mc, func(t *jwt.Token) (any, error) {
		return v.key(ctx, t)
	})
	if err != nil {
		return nil, v.classify(tok, mc, err)
	}
	c, e := claimsOf(mc)
	if e != nil {
		return nil, e
	}
	if v.isRevoked != nil && v.isRevoked(ctx, c) {
		return nil, &Error{Code: CodeTokenRevoked, Reason: ReasonRevoked}
	}
	if v.cache != nil {
		v.cache.put(key, c, now)
	}
	return c, nil
}

// key runs inside golang-jwt after the header is decoded and the alg passed
// the allow-list, but before the signature is checked: the header checks
// golang-jwt does not do belong here, and so does the guarantee that the key
// fits the alg (an Ed25519 public key must never become an HMAC secret).
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	// RFC 7515 §4.1.11 requires rejecting crit extensions we don't
	// understand; we understand none, and an empty list is invalid anyway.
	if _, ok := t.Header["crit"]; ok {
		return nil, invalid(ReasonCrit, nil)
	}
	if raw, ok := t.Header["typ"]; ok || !v.noTypeOK {
		// A typ that is present but empty or not a string is refused even
		// with AllowNoType: only a header without the member is "no type".
		if typ, _ := raw.(string); !strings.EqualFold(trimMediaPrefix(typ), v.typ) {
			return nil, invalid(ReasonBadTyp, nil)
		}
	}
	var kid string
	if raw, ok := t.Header["kid"]; ok {
		if kid, ok = raw.(string); !ok {
			return nil, invalid(ReasonMalformed, nil)
		}
	}
	alg := t.Method.Alg()
	key, err := v.keys(ctx, kid, alg)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return nil, invalid(ReasonUnknownKID, err)
		}
		return nil, invalid(ReasonKeyUnavailable, err)
	}
	switch alg {
	case AlgEdDSA:
		k, ok := key.(ed25519.PublicKey)
		if !ok {
			return nil, invalid(ReasonBadAlg, errKeyMismatch)
		}
		if len(k) != ed25519.PublicKeySize {
			return nil, invalid(ReasonBadKey, jwt.ErrInvalidKey)
		}
	case AlgHS256:
		k, ok := key.([]byte)
		if !ok {
			return nil, invalid(ReasonBadAlg, errKeyMismatch)
		}
		if len(k) == 0 {
			return nil, invalid(ReasonBadKey, jwt.ErrInvalidKey)
		}
	default:
		// Unreachable while New limits the allow-list; kept so that widening
		// the list cannot skip the key-type check.
		return nil, invalid(ReasonBadAlg, nil)
	}
	return key, nil
}

var errKeyMismatch = errors.New("verify: key type does not fit the token's alg")

// classify turns golang-jwt's error into the contract's code and reason.
func (v *Verifier) classify(tok *jwt.Token, mc jwt.MapClaims, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e // from key
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalid(ReasonMalformed, err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// alg missing, not a string, or unknown to golang-jwt.
		return invalid(ReasonBadAlg, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// golang-jwt reports an alg outside the allow-list under the same
		// sentinel as a bad signature; only the alg tells them apart.
		if tok == nil || tok.Method == nil || !slices.Contains(v.algs, tok.Method.Alg()) {
			return invalid(ReasonBadAlg, err)
		}
		return invalid(ReasonBadSignature, err)
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return classifyClaims(mc, err)
	}
	return invalid(ReasonInvalid, err)
}

// classifyClaims picks one reason when golang-jwt joined several claim
// errors. Being wrong for this service outranks being expired: telling a
// client "expired" invites a refresh that cannot help.
func classifyClaims(mc jwt.MapClaims, err error) *Error {
	switch {
	case errors.Is(err, jwt.ErrInvalidType):
		return invalid(ReasonMalformed, err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return invalid(ReasonBadIssuer, err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return invalid(ReasonBadAudience, err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// The sentinel does not say which claim; the claims do.
		if iss, _ := mc.GetIssuer(); iss == "" {
			return invalid(ReasonBadIssuer, err)
		}
		if aud, _ := mc.GetAudience(); len(aud) == 0 || len(aud) == 1 && aud[0] == "" {
			return invalid(ReasonBadAudience, err)
		}
		return invalid(ReasonMissingExp, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalid(ReasonNotYetValid, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return &Error{Code: CodeTokenExpired, Reason: ReasonExpired, Err: err}
	}
	return invalid(ReasonInvalid, err)
}

// claimsOf checks what golang-jwt cannot express as options (a non-empty
// sub, string-typed sid/role/jti) and fills Claims from verified claims.
func claimsOf(mc jwt.MapClaims) (*Claims, *Error) {
	sub, ok := mc["sub"]
	if !ok {
		return nil, invalid(ReasonMissingSub, nil)
	}
	subject, ok := sub.(string)
	if !ok {
		return nil, invalid(ReasonMalformed, jwt.ErrInvalidType)
	}
	if subject == "" {
		return nil, invalid(ReasonMissingSub, nil)
	}
	sid, ok1 := optionalString(mc, "sid")
	role, ok2 := optionalString(mc, "role")
	jti, ok3 := optionalString(mc, "jti")
	if !ok1 || !ok2 || !ok3 {
		return nil, invalid(ReasonMalformed, jwt.ErrInvalidType)
	}
	iat, ok := optionalTime(mc, "iat")
	if !ok {
		return nil, invalid(ReasonMalformed, jwt.ErrInvalidType)
	}
	// iss, aud and exp were validated by the parser, so these cannot fail.
	iss, _ := mc.GetIssuer()
	aud, _ := mc.GetAudience()
	exp, _ := optionalTime(mc, "exp")
	return &Claims{
		Subject:   subject,
		SessionID: sid,
		Role:      role,
		Issuer:    iss,
		Audience:  aud,
		ID:        jti,
		IssuedAt:  iat,
		ExpiresAt: exp,
		Raw:       mc,
	}, nil
}

// optionalString reports false only for a present claim that is not a string.
func optionalString(mc jwt.MapClaims, name string) (string, bool) {
	raw, ok := mc[name]
	if !ok {
		return "", true
	}
	s, ok := raw.(string)
	return s, ok
}

// optionalTime converts a NumericDate claim the way golang-jwt's validator
// read it (float64 seconds, truncated to jwt.TimePrecision), without its
// per-call allocation. It reports false only for a present non-number.
func optionalTime(mc jwt.MapClaims, name string) (time.Time, bool) {
	raw, ok := mc[name]
	if !ok {
		return time.Time{}, true
	}
	f, ok := raw.(float64)
	if !ok {
		return time.Time{}, false
	}
	if f == 0 {
		return time.Time{}, true // golang-jwt treats 0 as absent
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).Truncate(jwt.TimePrecision).UTC(), true
}

// trimMediaPrefix drops a leading "application/" (any case), since RFC 7515
// lets "typ" omit it.
func trimMediaPrefix(s string) string {
	const p = "application/"
	if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
		return s[len(p):]
	}
	return s
}

// compact reports whether token holds only the characters of a compact
// JWS: the base64url alphabet and dots.
func compact(token string) bool {
	for i := 0; i < len(token); i++ {
		if !jwsChar[token[i]] {
			return false
		}
	}
	return true
}

var jwsChar = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") {
		t[c] = true
	}
	return t
}()
