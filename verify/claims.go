package verify

import (
	"math"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
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
	// AMR is amr (RFC 8176): how the sign-in authenticated the user, such
	// as ["pwd"] or ["pwd", "otp", "mfa"]; nil when absent.
	AMR []string
	// Raw holds every claim as decoded from JSON (numbers are float64), for
	// callers that need a claim this struct does not name.
	Raw map[string]any
}

// claimRules are the Config options on claim values that golang-jwt has
// no option for.
type claimRules struct {
	requireSID bool // Config.RequireSessionID
	requireJTI bool // Config.RequireTokenID
	maxSub     int  // Config.MaxSubjectLength; 0 means no cap
}

// claimsOf checks what golang-jwt cannot express as options (a non-empty
// sub, string-typed sid/role/jti, then the rules) and fills Claims from
// verified claims. It is the one place claim values are judged: Verify
// calls it on every miss, and only what it accepts is ever cached.
func claimsOf(mc jwt.MapClaims, r claimRules) (*Claims, *Error) {
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
	amr, ok := optionalStrings(mc, "amr")
	if !ok {
		return nil, invalid(ReasonMalformed, jwt.ErrInvalidType)
	}
	// After the type checks, so that a sid of the wrong type stays
	// malformed rather than missing.
	if r.maxSub > 0 && len(subject) > r.maxSub {
		return nil, invalid(ReasonSubTooLong, nil)
	}
	if r.requireSID && sid == "" {
		return nil, invalid(ReasonMissingSID, nil)
	}
	if r.requireJTI && jti == "" {
		return nil, invalid(ReasonMissingJTI, nil)
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
		AMR:       amr,
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

// optionalStrings reads a claim that is an array of strings; it reports
// false only for a present claim of another shape.
func optionalStrings(mc jwt.MapClaims, name string) ([]string, bool) {
	raw, ok := mc[name]
	if !ok {
		return nil, true
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(list))
	for i, v := range list {
		if out[i], ok = v.(string); !ok {
			return nil, false
		}
	}
	return out, true
}

// HasMFA reports whether the token's sign-in used more than one factor:
// its amr holds "mfa" (RFC 8176).
func (c *Claims) HasMFA() bool {
	return slices.Contains(c.AMR, "mfa")
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
