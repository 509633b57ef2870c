package verify

import (
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier checks access tokens against one Config. It is safe for
// concurrent use.
type Verifier struct {
	parser    *jwt.Parser
	algs      []string
	keys      KeyFunc
	typ       string
	noTypeOK  bool
	maxSize   int
	rules     claimRules
	isRevoked func(ctx context.Context, c *Claims) bool
	revs      *RevocationSet // nil without Config.Revocations
	leeway    time.Duration
	cache     *tokenCache // nil when Config.CacheSize is 0
	now       func() time.Time
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
		gen uint64 // Config.Revocations' generation, read before any lookup in it
	)
	if v.revs != nil {
		gen = v.revs.generation()
	}
	if v.cache != nil {
		key, now = cacheKey(token), v.now()
		if c, seen, ok := v.cache.get(key, now, gen); ok {
			if e := v.revoked(ctx, c, now, true, seen); e != nil {
				return nil, e
			}
			if !seen {
				v.cache.seen(key, c, gen)
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
	c, e := claimsOf(mc, v.rules)
	if e != nil {
		return nil, e
	}
	if v.revs != nil && now.IsZero() {
		now = v.now()
	}
	if e := v.revoked(ctx, c, now, false, false); e != nil {
		return nil, e
	}
	if v.cache != nil {
		v.cache.put(key, c, now, gen)
	}
	return c, nil
}

// revoked applies the revocation rules to verified claims at now (zero when
// Config.Revocations is nil): the set's revocations, then IsRevoked, then
// the set's stale rule, so that a token known revoked is told so rather
// than to refresh. They run on every verification, cache hits included.
// On a hit (c from the cache) the set's lifetime rule, which depends on the
// token alone, passed at its miss; seen, for a hit found unrevoked at the
// set's current generation, skips the lookup in the set too, since no
// revocation has come since.
func (v *Verifier) revoked(ctx context.Context, c *Claims, now time.Time, hit, seen bool) *Error {
	if v.revs != nil && !seen && v.revs.holds(c) {
		return &Error{Code: CodeTokenRevoked, Reason: ReasonRevoked}
	}
	if v.isRevoked != nil && v.isRevoked(ctx, c) {
		return &Error{Code: CodeTokenRevoked, Reason: ReasonRevoked}
	}
	if v.revs != nil && (!hit && v.revs.outlives(c, v.leeway) || v.revs.stale(c, now)) {
		return &Error{Code: CodeTokenExpired, Reason: ReasonRevocationsStale}
	}
	return nil
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
