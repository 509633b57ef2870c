package verify

// Error codes are the contract's stable "code" values for a rejected access
// token; clients branch on them (token_expired means "refresh", the others
// mean "sign in again"), so they never change.
const (
	CodeMissingToken = "missing_token"
	CodeInvalidToken = "invalid_token"
	CodeTokenExpired = "token_expired"
	CodeTokenRevoked = "token_revoked"
	// CodeForbidden is the 403 of RequireRole and RequireSubject: a valid
	// token that is not allowed here.
	CodeForbidden = "forbidden"
)

// Reasons refine a code into a short machine word. They exist for metrics
// labels and audit records, where "invalid_token" alone cannot tell an
// attack (bad_alg, bad_signature) from a misconfiguration (bad_audience).
// The set is closed, so they are safe as label values.
const (
	ReasonMissing        = "missing"         // no bearer token came
	ReasonQueryToken     = "query_token"     // an access_token query parameter (missing_token alone, invalid_token beside a header)
	ReasonOversized      = "oversized"       // longer than Config.MaxSize
	ReasonMalformed      = "malformed"       // not a decodable JWS, or a claim of the wrong type
	ReasonBadAlg         = "bad_alg"         // alg missing, not allowed, or not fitting the key
	ReasonUnknownKID     = "unknown_kid"     // Config.Keys does not know the kid
	ReasonKeyUnavailable = "key_unavailable" // Config.Keys failed for another reason
	ReasonBadKey         = "bad_key"         // Config.Keys returned an unusable key
	ReasonBadSignature   = "bad_signature"   // signature does not verify
	ReasonBadTyp         = "bad_typ"         // typ header missing or not Config.Type
	ReasonCrit           = "crit"            // any crit header
	ReasonBadIssuer      = "bad_issuer"      // iss missing or not Config.Issuer
	ReasonBadAudience    = "bad_audience"    // aud missing or without Config.Audience
	ReasonExpired        = "expired"         // exp passed beyond the leeway
	ReasonNotYetValid    = "not_yet_valid"   // nbf in the future beyond the leeway
	ReasonMissingExp     = "missing_exp"     // no exp claim
	ReasonMissingSub     = "missing_sub"     // no sub claim, or an empty one
	ReasonSubTooLong     = "sub_too_long"    // sub longer than Config.MaxSubjectLength
	ReasonMissingSID     = "missing_sid"     // no sid claim, or an empty one, with Config.RequireSessionID
	ReasonMissingJTI     = "missing_jti"     // no jti claim, or an empty one, with Config.RequireTokenID
	ReasonRevoked        = "revoked"         // Config.Revocations or Config.IsRevoked said so
	ReasonInvalid        = "invalid"         // anything not classified above
)

// ReasonRevocationsStale goes with token_expired: Config.Revocations is not
// current (no answer from the feed for its MaxStale, never synced, or a
// revocation dropped at its MaxEntries) and the token is older than its
// StaleTokenAge; or the token could outlive its revocation record (no iat,
// or exp − iat plus the leeway beyond the set's Retain). Refreshing at the
// issuer, which checks its store, is the way on.
const ReasonRevocationsStale = "revocations_stale"

// Error is every verification failure. Code is one of the Code* constants
// and Reason one of the Reason* constants. Err, when set, is the underlying
// cause (often a golang-jwt sentinel, so errors.Is(err, jwt.ErrTokenExpired)
// works); its text may quote parts of the token, which is why Error never
// includes it.
type Error struct {
	Code   string
	Reason string
	Err    error
}

// Error describes the failure from Code and Reason alone, so logging it can
// never leak a bearer token, even a token that failed.
func (e *Error) Error() string {
	return "verify: " + e.Code + " (" + e.Reason + "): " + e.Description()
}

// Unwrap exposes the cause for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// Description is a fixed, human-readable phrase for the failure. It is what
// WriteError sends as the problem "detail" and the WWW-Authenticate
// error_description; being fixed per reason, it is safe to show any caller.
func (e *Error) Description() string {
	switch e.Reason {
	case ReasonMissing:
		return "missing bearer token"
	case ReasonQueryToken:
		return "access token must not be sent in the URL"
	case ReasonOversized:
		return "access token too large"
	case ReasonMalformed:
		return "malformed access token"
	case ReasonBadAlg:
		return "signing algorithm not accepted"
	case ReasonUnknownKID:
		return "unknown signing key"
	case ReasonKeyUnavailable:
		return "signing key unavailable"
	case ReasonBadKey:
		return "signing key unusable"
	case ReasonBadSignature:
		return "invalid token signature"
	case ReasonBadTyp:
		return "token type not accepted"
	case ReasonCrit:
		return "critical header not supported"
	case ReasonBadIssuer:
		return "token issuer not accepted"
	case ReasonBadAudience:
		return "token audience not accepted"
	case ReasonExpired:
		return "access token expired"
	case ReasonNotYetValid:
		return "access token not yet valid"
	case ReasonMissingExp:
		return "access token has no expiry"
	case ReasonMissingSub:
		return "access token has no subject"
	case ReasonSubTooLong:
		return "access token subject too long"
	case ReasonMissingSID:
		return "access token names no session"
	case ReasonMissingJTI:
		return "access token has no id"
	case ReasonRevoked:
		return "access token revoked"
	case ReasonRevocationsStale:
		return "access token too old to check for revocation; refresh it"
	}
	switch e.Code {
	case CodeMissingToken:
		return "missing bearer token"
	case CodeTokenExpired:
		return "access token expired"
	case CodeTokenRevoked:
		return "access token revoked"
	}
	return "invalid access token"
}

func invalid(reason string, cause error) *Error {
	return &Error{Code: CodeInvalidToken, Reason: reason, Err: cause}
}
