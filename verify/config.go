package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// RequireSessionID refuses a token whose "sid" claim is missing or
	// empty (invalid_token, missing_sid). Latchkey's own tokens always
	// carry one; turn it on where the session must be named, as when
	// signing out ends it: an empty id must never reach a revocation set.
	// Off by default, because foreign issuers often set no sid.
	RequireSessionID bool
	// RequireTokenID refuses a token whose "jti" claim is missing or empty
	// (invalid_token, missing_jti). Latchkey's own tokens always carry one;
	// a token without it was not minted by Latchkey's issuer, even when it
	// verifies (in HS256 mode anyone holding the secret can sign). Off by
	// default, because foreign issuers often set no jti.
	RequireTokenID bool
	// MaxSubjectLength, when positive, refuses a "sub" longer than that
	// many bytes (invalid_token, sub_too_long), for a service that stores
	// the subject (as a user id, say) in a column of bounded width. Zero
	// means no cap; negative makes New fail.
	MaxSubjectLength int
	// IsRevoked, when set, is asked about every otherwise valid token;
	// true rejects it as token_revoked. It runs last so that a store is only
	// consulted for authentic tokens.
	IsRevoked func(ctx context.Context, c *Claims) bool
	// Revocations, when set, is the issuer's revocation feed as a
	// RevocationSet, asked about every otherwise valid token, cache hits
	// included, before IsRevoked. A token whose sid it holds, or whose
	// user it holds with an iat at or before the user's time, is
	// token_revoked/revoked. A token that could outlive its revocation
	// record (no iat, or exp − iat plus Leeway beyond the set's Retain),
	// or that is older than the set's StaleTokenAge while the set is not
	// current, is token_expired/revocations_stale: its client refreshes
	// at the issuer, which knows every revocation. Nil changes nothing.
	Revocations *RevocationSet
	// CacheSize, when positive, keeps up to that many verified tokens in
	// memory, so that verifying the same token again costs a SHA-256 and a
	// map lookup instead of a signature check. Entries are keyed by the
	// token's SHA-256 (the token itself is never kept) and end at the
	// token's exp: from then on the token is verified afresh, and refused
	// once past the leeway. Revocations and IsRevoked are still asked on
	// every hit. When the
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
	algs, err := allowedAlgs(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	typ, err := requiredType(cfg.Type)
	if err != nil {
		return nil, err
	}
	leeway, err := leewayOf(cfg.Leeway)
	if err != nil {
		return nil, err
	}
	maxSize, err := nonNegative("MaxSize", cfg.MaxSize, DefaultMaxSize)
	if err != nil {
		return nil, err
	}
	maxSub, err := nonNegative("MaxSubjectLength", cfg.MaxSubjectLength, 0)
	if err != nil {
		return nil, err
	}
	cacheSize, err := nonNegative("CacheSize", cfg.CacheSize, 0)
	if err != nil {
		return nil, err
	}
	if r := cfg.Revocations; r != nil && r.retain <= leeway {
		// exp − iat + leeway would exceed Retain for every token.
		return nil, fmt.Errorf("verify: the RevocationSet's Retain %v does not exceed Config.Leeway %v: every token would be refused", r.retain, leeway)
	}
	var cache *tokenCache
	if cacheSize > 0 {
		cache = newTokenCache(cacheSize)
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
		rules:     claimRules{requireSID: cfg.RequireSessionID, requireJTI: cfg.RequireTokenID, maxSub: maxSub},
		isRevoked: cfg.IsRevoked,
		revs:      cfg.Revocations,
		leeway:    leeway,
		cache:     cache,
		now:       now,
	}, nil
}

// allowedAlgs checks Config.Algorithms against the two supported algs and
// drops repeats; empty means EdDSA alone.
func allowedAlgs(list []string) ([]string, error) {
	if len(list) == 0 {
		return []string{AlgEdDSA}, nil
	}
	algs := make([]string, 0, len(list))
	for _, a := range list {
		if a != AlgEdDSA && a != AlgHS256 {
			return nil, fmt.Errorf("verify: algorithm %q not supported (only %s and %s)", a, AlgEdDSA, AlgHS256)
		}
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	return algs, nil
}

// requiredType is Config.Type without its optional media prefix, so that
// the comparison in key is a plain case-insensitive one.
func requiredType(t string) (string, error) {
	typ := t
	if typ == "" {
		typ = DefaultType
	}
	typ = trimMediaPrefix(typ)
	if typ == "" {
		return "", fmt.Errorf("verify: Config.Type %q names no type", t)
	}
	return typ, nil
}

// leewayOf applies Config.Leeway's default and its MaxLeeway ceiling.
func leewayOf(leeway time.Duration) (time.Duration, error) {
	switch {
	case leeway < 0:
		return 0, fmt.Errorf("verify: Config.Leeway %v is negative", leeway)
	case leeway > MaxLeeway:
		return 0, fmt.Errorf("verify: Config.Leeway %v exceeds %v", leeway, MaxLeeway)
	case leeway == 0:
		return DefaultLeeway, nil
	}
	return leeway, nil
}

// nonNegative returns n, or def when n is zero; a negative n is an error
// that names the Config field.
func nonNegative(field string, n, def int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("verify: Config.%s %d is negative", field, n)
	case n == 0:
		return def, nil
	}
	return n, nil
}
