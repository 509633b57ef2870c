package verify

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// UnverifiedIssuer returns the "iss" claim of token WITHOUT VERIFYING
// ANYTHING: not the signature, not the header, not one claim. Anyone can
// write any iss into a token. The result is only fit to pick which
// Verifier checks the token, in a service that accepts several issuers;
// that Verifier then checks everything, signature first, so a token naming
// another issuer than the one whose key signed it earns nothing but its
// refusal. Never authorize by the result, store it, or log it as fact.
//
//	v := own // answers a token it cannot route with the right reason
//	if iss, ok := verify.UnverifiedIssuer(token); ok && iss == partnerIssuer {
//		v = partner
//	}
//	claims, err := v.Verify(ctx, token)
//
// ok is false, before anything is decoded, for a token longer than
// DefaultMaxSize or not in compact JWS form (three segments of base64url
// characters separated by two dots); and for a payload that is not a
// base64url-encoded JSON object, or whose iss is missing, not a string or
// empty. Only the payload is decoded, strictly and with encoding/json as
// Verify decodes it, so that for any token a Verifier accepts within
// DefaultMaxSize, UnverifiedIssuer returns its Claims.Issuer.
func UnverifiedIssuer(token string) (iss string, ok bool) {
	// The cheap refusals first, as in Verify: hostile input must cost
	// little, since routing happens before any verification.
	if len(token) > DefaultMaxSize || !compact(token) {
		return "", false
	}
	_, rest, ok1 := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return "", false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return "", false
	}
	// A map, not a struct: encoding/json matches struct fields without
	// regard to case, so a struct would read "ISS" where golang-jwt's
	// MapClaims reads only "iss". Raw values skip decoding the other claims.
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(raw, &claims); err != nil {
		return "", false
	}
	v, found := claims["iss"]
	if !found || json.Unmarshal(v, &iss) != nil || iss == "" {
		return "", false
	}
	return iss, true
}
