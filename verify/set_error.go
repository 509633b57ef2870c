package verify

// SET error codes of RFC 8935 §2.4, which RFC 8936 §2.4's setErrs carry
// back to the transmitter as "err".
const (
	// SETErrInvalidRequest: the SET does not parse as a SET, or its event
	// does not conform to the event's definition.
	SETErrInvalidRequest = "invalid_request"
	// SETErrInvalidKey: the signing key or algorithm is not acceptable.
	SETErrInvalidKey = "invalid_key"
	// SETErrInvalidIssuer: iss is not the expected issuer.
	SETErrInvalidIssuer = "invalid_issuer"
	// SETErrInvalidAudience: aud does not hold the expected audience.
	SETErrInvalidAudience = "invalid_audience"
)

// Reasons of a SET refusal beside the access-token reasons it shares
// (malformed, oversized, bad_alg, crit, bad_typ, unknown_kid,
// key_unavailable, bad_key, bad_signature, bad_issuer, bad_audience,
// not_yet_valid, missing_jti, invalid). The set is closed, so they are
// safe as metrics labels.
const (
	ReasonMissingIAT = "missing_iat" // a SET without iat
	ReasonExpPresent = "exp_present" // a SET with exp, which SSF forbids
	ReasonSubPresent = "sub_present" // a SET with sub (SSF uses sub_id)
	ReasonEventCount = "event_count" // events missing, not an object, or not exactly one member
	ReasonBadEvent   = "bad_event"   // the event's payload does not fit its type
	ReasonBadSubject = "bad_subject" // sub_id does not name what the event needs
)

// SETError is every refusal of ParseSET. Code is one of the SETErr*
// codes, Reason one word of a closed set. Retry is set when the fault may
// be the receiver's, not the SET's: the kid is unknown (the issuer may
// have rotated and the JWKS not been fetched yet) or the keys could not be
// read. Such a SET is neither acknowledged nor reported, so that the
// transmitter sends it again; a caller that gives up on it reports Code.
// Retries should be bounded: RemoteJWKS answers an unknown kid only after
// a fetch that began after it was asked, so a kid still unknown when the
// SET comes again is not going to appear. A SET naming no kid at all is
// not retried. Err, when set, is the cause; Error never includes it.
type SETError struct {
	Code   string
	Reason string
	Retry  bool
	Err    error
}

// Error describes the refusal from Code and Reason alone, so logging it
// never leaks a token.
func (e *SETError) Error() string {
	return "verify: SET " + e.Code + " (" + e.Reason + "): " + e.Description()
}

// Unwrap exposes the cause for errors.Is and errors.As.
func (e *SETError) Unwrap() error { return e.Err }

// Description is a fixed phrase for the refusal, fit for setErrs'
// "description".
func (e *SETError) Description() string {
	switch e.Reason {
	case ReasonOversized:
		return "SET too large"
	case ReasonMalformed:
		return "malformed SET"
	case ReasonBadAlg:
		return "signing algorithm not accepted"
	case ReasonCrit:
		return "critical header not supported"
	case ReasonBadTyp:
		return "typ is not secevent+jwt"
	case ReasonUnknownKID:
		return "unknown signing key"
	case ReasonKeyUnavailable:
		return "signing keys unavailable"
	case ReasonBadKey:
		return "signing key unusable"
	case ReasonBadSignature:
		return "invalid SET signature"
	case ReasonBadIssuer:
		return "SET issuer not accepted"
	case ReasonBadAudience:
		return "SET audience not accepted"
	case ReasonMissingIAT:
		return "SET has no iat"
	case ReasonNotYetValid:
		return "SET issued in the future"
	case ReasonMissingJTI:
		return "SET has no jti"
	case ReasonExpPresent:
		return "SET must not have exp"
	case ReasonSubPresent:
		return "SET must not have sub"
	case ReasonEventCount:
		return "SET must have exactly one event"
	case ReasonBadEvent:
		return "event payload does not fit its type"
	case ReasonBadSubject:
		return "sub_id does not name the event's subject"
	}
	return "invalid SET"
}

func setErr(code, reason string, cause error) *SETError {
	return &SETError{Code: code, Reason: reason, Err: cause}
}
