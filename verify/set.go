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

// Security Event Tokens (RFC 8417) of the Shared Signals feed: the "typ" a
// SET carries and the event types ParseSET understands.
const (
	// SETType is the "typ" header of a SET (RFC 8417 §2.3), accepted with
	// or without "application/". Access tokens carry DefaultType instead,
	// so neither can pass as the other.
	SETType = "secevent+jwt"
	// EventSessionRevoked is CAEP 1.0's session-revoked event.
	EventSessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	// EventVerification is SSF 1.0's verification event (§8.1.4), which
	// answers a receiver's verification request and echoes its state.
	EventVerification = "https://schemas.openid.net/secevent/ssf/event-type/verification"
	// EventStreamUpdated is SSF 1.0's stream-updated event (§8.1.5): the
	// transmitter changed the stream's status.
	EventStreamUpdated = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"
)

// Stream statuses of SSF 1.0 §8.1.2, as a stream-updated event carries them.
const (
	StreamEnabled  = "enabled"
	StreamPaused   = "paused"
	StreamDisabled = "disabled"
)

// Kinds of SET, as SET.Kind names them.
const (
	SETSessionRevoked = "session-revoked"
	SETVerification   = "verification"
	SETStreamUpdated  = "stream-updated"
	// SETUnknown is a valid SET whose event type ParseSET does not know.
	// SSF receivers acknowledge it and ignore it.
	SETUnknown = "unknown"
)

// SET is a verified Security Event Token with its one event.
type SET struct {
	ID       string    // jti
	Issuer   string    // iss
	Audience []string  // aud, always as a list
	IssuedAt time.Time // iat, UTC
	Txn      string    // txn (RFC 8417 §2.2), empty when absent

	Kind      string // SETSessionRevoked, SETVerification, SETStreamUpdated or SETUnknown
	EventType string // the event's type URI, as sent

	// Session-revoked. SessionID is sub_id.session.id; it is empty for a
	// user-scoped event, which revokes every token of UserID issued at or
	// before EventTime. UserIssuer and UserID are sub_id.user's iss and
	// sub, empty when the subject names no user.
	SessionID  string
	UserIssuer string
	UserID     string
	// EventTime is event_timestamp in UTC, zero when absent.
	EventTime time.Time
	// InitiatingEntity is "user", "admin", "policy" or "system" as sent
	// (empty when absent); Reason is reason_admin's "en" text and
	// ReasonAdmin all of it. Being commentary, they are read when well
	// formed and ignored otherwise: refusing a revocation over its
	// description would keep a revoked token alive.
	InitiatingEntity string
	Reason           string
	ReasonAdmin      map[string]string

	// Verification: the echoed state (empty when the request had none).
	// Verification and stream-updated: the stream the SET's opaque sub_id
	// names (empty when absent).
	State    string
	StreamID string
	// Stream-updated: the new status (StreamEnabled, StreamPaused or
	// StreamDisabled) and the transmitter's reason, if any. A paused or
	// disabled stream delivers nothing, so its receiver is no longer
	// current.
	StreamStatus string
	StreamReason string

	// Raw holds every claim as decoded from JSON (numbers are float64).
	Raw map[string]any
}

// setParser checks the JWS: EdDSA only, canonical base64. The claims are
// judged by setOf, since a SET's rules are not an access token's.
var setParser = jwt.NewParser(
	jwt.WithValidMethods([]string{AlgEdDSA}),
	jwt.WithoutClaimsValidation(),
	jwt.WithStrictDecoding(),
)

// ParseSET verifies raw as a SET of issuer for audience and returns its
// event. keys supplies the Ed25519 keys by kid (the same KeyFunc that
// verifies the issuer's access tokens, such as RemoteJWKS's); now is the
// receiver's clock (the zero time means time.Now()), with DefaultLeeway
// allowed on iat.
//
// The checks, in order (the first that fails is reported): size and the
// compact form; alg EdDSA; no "crit"; typ secevent+jwt; the key by kid;
// the signature; iss; aud; iat present and not in the future; jti
// present; no exp and no sub (which an access token must have); exactly
// one event, whose payload is an object; for session-revoked a complex
// sub_id naming a session (or a user, with event_timestamp); for
// verification a string state when present; for stream-updated a known
// status. Any other event type is SETUnknown.
//
// Every refusal is a *SETError carrying its RFC 8935 §2.4 code for the
// poll's setErrs. A caller mistake (empty issuer or audience, nil keys) is
// a plain error, to be neither acknowledged nor reported.
func ParseSET(ctx context.Context, raw string, keys KeyFunc, issuer, audience string, now time.Time) (*SET, error) {
	if issuer == "" || audience == "" || keys == nil {
		return nil, errors.New("verify: ParseSET needs an issuer, an audience and keys")
	}
	if len(raw) > DefaultMaxSize {
		return nil, setErr(SETErrInvalidRequest, ReasonOversized, nil)
	}
	if raw == "" || !compact(raw) {
		return nil, setErr(SETErrInvalidRequest, ReasonMalformed, nil)
	}
	if now.IsZero() {
		now = time.Now()
	}
	mc := jwt.MapClaims{}
	tok, err := setParser.ParseWithClaims(raw, mc, func(t *jwt.Token) (any, error) {
		return setKey(ctx, keys, t)
	})
	if err != nil {
		return nil, classifySET(tok, err)
	}
	return setOf(mc, issuer, audience, now)
}

// setKey runs after the alg passed the allow-list and before the signature
// is checked: the header checks, then the key. The header checks come
// first because they cannot change with the issuer's keys, so a SET that
// fails them is reported at once rather than retried for its kid.
func setKey(ctx context.Context, keys KeyFunc, t *jwt.Token) (any, error) {
	// setParser's allow-list let only EdDSA through; checked again so that
	// no change there can hand an Ed25519 key to another algorithm.
	if t.Method.Alg() != AlgEdDSA {
		return nil, setErr(SETErrInvalidKey, ReasonBadAlg, nil)
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, setErr(SETErrInvalidRequest, ReasonCrit, nil)
	}
	if typ, _ := t.Header["typ"].(string); !strings.EqualFold(trimMediaPrefix(typ), SETType) {
		return nil, setErr(SETErrInvalidRequest, ReasonBadTyp, nil)
	}
	var kid string
	if raw, ok := t.Header["kid"]; ok {
		if kid, ok = raw.(string); !ok {
			return nil, setErr(SETErrInvalidRequest, ReasonMalformed, nil)
		}
	}
	key, err := keys(ctx, kid, AlgEdDSA)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			// A SET naming no kid is not helped by fetching the keys
			// again: it is reported, not retried.
			return nil, &SETError{Code: SETErrInvalidKey, Reason: ReasonUnknownKID, Retry: kid != "", Err: err}
		}
		return nil, &SETError{Code: SETErrInvalidKey, Reason: ReasonKeyUnavailable, Retry: true, Err: err}
	}
	k, ok := key.(ed25519.PublicKey)
	if !ok || len(k) != ed25519.PublicKeySize {
		return nil, setErr(SETErrInvalidKey, ReasonBadKey, jwt.ErrInvalidKey)
	}
	return k, nil
}

// classifySET turns golang-jwt's error into a SETError.
func classifySET(tok *jwt.Token, err error) *SETError {
	var e *SETError
	if errors.As(err, &e) {
		return e // from setKey
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return setErr(SETErrInvalidRequest, ReasonMalformed, err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// alg missing, not a string, or unknown to golang-jwt.
		return setErr(SETErrInvalidKey, ReasonBadAlg, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// An alg outside the allow-list comes under the same sentinel.
		if tok == nil || tok.Method == nil || tok.Method.Alg() != AlgEdDSA {
			return setErr(SETErrInvalidKey, ReasonBadAlg, err)
		}
		return setErr(SETErrInvalidKey, ReasonBadSignature, err)
	}
	return setErr(SETErrInvalidRequest, ReasonInvalid, err)
}

// setOf judges a signed SET's claims and reads its event.
func setOf(mc jwt.MapClaims, issuer, audience string, now time.Time) (*SET, error) {
	if iss, _ := mc["iss"].(string); iss != issuer {
		return nil, setErr(SETErrInvalidIssuer, ReasonBadIssuer, nil)
	}
	aud, err := mc.GetAudience()
	if err != nil || !slices.Contains(aud, audience) {
		return nil, setErr(SETErrInvalidAudience, ReasonBadAudience, err)
	}
	iat, ok := numericDate(mc, "iat")
	switch {
	case !ok:
		return nil, setErr(SETErrInvalidRequest, ReasonMalformed, jwt.ErrInvalidType)
	case iat.IsZero():
		return nil, setErr(SETErrInvalidRequest, ReasonMissingIAT, nil)
	case iat.After(now.Add(DefaultLeeway)):
		return nil, setErr(SETErrInvalidRequest, ReasonNotYetValid, nil)
	}
	jti, ok := optionalString(mc, "jti")
	if !ok {
		return nil, setErr(SETErrInvalidRequest, ReasonMalformed, jwt.ErrInvalidType)
	}
	if jti == "" {
		return nil, setErr(SETErrInvalidRequest, ReasonMissingJTI, nil)
	}
	if _, ok := mc["exp"]; ok {
		return nil, setErr(SETErrInvalidRequest, ReasonExpPresent, nil)
	}
	if _, ok := mc["sub"]; ok {
		return nil, setErr(SETErrInvalidRequest, ReasonSubPresent, nil)
	}
	events, ok := mc["events"].(map[string]any)
	if !ok || len(events) != 1 {
		return nil, setErr(SETErrInvalidRequest, ReasonEventCount, nil)
	}
	s := &SET{ID: jti, Issuer: issuer, Audience: aud, IssuedAt: iat, Raw: mc}
	s.Txn, _ = mc["txn"].(string)
	for typ, payload := range events {
		s.EventType = typ
		ev, ok := payload.(map[string]any)
		if !ok {
			return nil, setErr(SETErrInvalidRequest, ReasonBadEvent, nil)
		}
		if err := s.readEvent(mc, ev, issuer); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// maxNumericDate is the last second of the year 9999: a NumericDate past
// it (or negative, or not a number) is malformed rather than converted
// with an overflow.
const maxNumericDate = 253402300799

// numericDate reads a NumericDate claim as optionalTime does, refusing
// values outside 0 to maxNumericDate. Absent (or 0) is the zero time.
func numericDate(m map[string]any, name string) (time.Time, bool) {
	if f, ok := m[name].(float64); ok && (f < 0 || f > maxNumericDate) {
		return time.Time{}, false
	}
	return optionalTime(m, name)
}
