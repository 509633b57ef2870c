package token

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/verify"
)

// ErrSETsNeedKeyRing is NewSETSigner's answer without a key ring, as in
// HS256 mode: a SET signed with the shared secret could be checked only by
// a receiver holding that secret, which could then mint access tokens too,
// and that mode publishes no JWKS. The Shared Signals feed needs EdDSA.
var ErrSETsNeedKeyRing = errors.New("token: Security Event Tokens are signed with the EdDSA key ring, and there is none (LATCHKEY_JWT_ALG=HS256 publishes no keys a receiver could verify them with); the Shared Signals feed needs LATCHKEY_JWT_ALG=EdDSA")

// SETSigner mints the Security Event Tokens (RFC 8417) of the Shared
// Signals feed, signed as access tokens are: EdDSA with the ring's signing
// key and its kid, so that receivers verify both with one JWKS. Their typ
// is secevent+jwt and they carry neither exp nor sub, so that no SET can
// pass as an access token, nor an access token as a SET.
type SETSigner struct {
	issuer string
	ring   *KeyRing
	now    func() time.Time
}

// NewSETSigner returns a signer for issuer over ring; now may be nil for
// time.Now. Without a ring (HS256 mode) it returns ErrSETsNeedKeyRing.
func NewSETSigner(issuer string, ring *KeyRing, now func() time.Time) (*SETSigner, error) {
	if ring == nil {
		return nil, ErrSETsNeedKeyRing
	}
	if issuer == "" {
		return nil, errors.New("token: NewSETSigner: no issuer")
	}
	if now == nil {
		now = time.Now
	}
	return &SETSigner{issuer: issuer, ring: ring, now: now}, nil
}

// Revocation is one revoked session, as the session-revoked SET reports it.
type Revocation struct {
	SessionID string
	UserID    string
	Reason    string    // latchkey.Reason*: reason_admin and initiating_entity
	RevokedAt time.Time // event_timestamp, in seconds
	Txn       string    // txn, optional: one value for the SETs of one action
}

// SessionRevokedID is the jti of the session-revoked SET of session sid
// for the receiver whose audience is audience: "sr-", the sid, "." and 11
// base64url characters (66 bits) of the audience's SHA-256. A session is
// revoked once, so it is unique within a receiver's feed, and every
// instance, mint and key gives the same one, which the receiver
// acknowledges once whichever instance sent it; two receivers get two
// jtis for their two SETs (RFC 7519 §4.1.7: one identifier, one object).
func SessionRevokedID(sid, audience string) string {
	return "sr-" + sid + "." + audienceTag(audience)
}

// SessionOfJTI is the session whose revocation the jti of a SET sent to
// audience names, as SessionRevokedID made it; false for any other jti,
// another audience's included.
func SessionOfJTI(jti, audience string) (string, bool) {
	rest, ok := strings.CutPrefix(jti, "sr-")
	i := strings.LastIndexByte(rest, '.')
	if !ok || i <= 0 || rest[i+1:] != audienceTag(audience) {
		return "", false
	}
	return rest[:i], true
}

func audienceTag(audience string) string {
	h := sha256.Sum256([]byte(audience))
	return base64.RawURLEncoding.EncodeToString(h[:])[:11]
}

// SessionRevoked mints the CAEP session-revoked SET of r for a receiver
// whose audience is audience.
func (s *SETSigner) SessionRevoked(audience string, r Revocation) (string, error) {
	if audience == "" || r.SessionID == "" || r.UserID == "" || r.RevokedAt.IsZero() {
		return "", errors.New("token: a session-revoked SET needs an audience, a session, a user and a time")
	}
	event := map[string]any{
		"event_timestamp":   r.RevokedAt.Unix(),
		"initiating_entity": latchkey.InitiatingEntity(r.Reason),
	}
	if r.Reason != "" {
		event["reason_admin"] = map[string]string{"en": r.Reason}
	}
	// iat is the revocation's time, not the mint's: with the jti and the
	// key's deterministic signature, every instance sends the same bytes.
	c := s.claims(audience, SessionRevokedID(r.SessionID, audience), r.RevokedAt, verify.EventSessionRevoked, event)
	c["sub_id"] = map[string]any{
		"format":  "complex",
		"session": map[string]string{"format": "opaque", "id": r.SessionID},
		"user":    map[string]string{"format": "iss_sub", "iss": s.issuer, "sub": r.UserID},
	}
	if r.Txn != "" {
		c["txn"] = r.Txn
	}
	return s.sign(c)
}

// Verification mints the SSF verification SET (SSF 1.0 §8.1.4) answering
// a verification request on stream streamID, echoing state when it is not
// empty. jti is the transmitter's (one per request, so that the receiver's
// acknowledgement names the request); "" makes a fresh one.
func (s *SETSigner) Verification(audience, streamID, state, jti string) (string, error) {
	if audience == "" || streamID == "" {
		return "", errors.New("token: a verification SET needs an audience and a stream")
	}
	if jti == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", fmt.Errorf("token: jti: %w", err)
		}
		jti = id.String()
	}
	event := map[string]any{}
	if state != "" {
		event["state"] = state
	}
	c := s.claims(audience, jti, s.now(), verify.EventVerification, event)
	c["sub_id"] = map[string]string{"format": "opaque", "id": streamID}
	return s.sign(c)
}

// StreamUpdated mints the SSF stream-updated SET (SSF 1.0 §8.1.5) telling
// the receiver that Latchkey set stream streamID's status
// (verify.StreamEnabled, StreamPaused or StreamDisabled), with reason when
// not empty. Its jti is fresh.
func (s *SETSigner) StreamUpdated(audience, streamID, status, reason string) (string, error) {
	if audience == "" || streamID == "" {
		return "", errors.New("token: a stream-updated SET needs an audience and a stream")
	}
	if status != verify.StreamEnabled && status != verify.StreamPaused && status != verify.StreamDisabled {
		return "", fmt.Errorf("token: stream status %q is not enabled, paused or disabled", status)
	}
	jti, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("token: jti: %w", err)
	}
	event := map[string]any{"status": status}
	if reason != "" {
		event["reason"] = reason
	}
	c := s.claims(audience, jti.String(), s.now(), verify.EventStreamUpdated, event)
	c["sub_id"] = map[string]string{"format": "opaque", "id": streamID}
	return s.sign(c)
}

// claims are the members every SET has, with its one event.
func (s *SETSigner) claims(audience, jti string, iat time.Time, eventType string, event map[string]any) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":    s.issuer,
		"aud":    audience,
		"iat":    iat.Unix(),
		"jti":    jti,
		"events": map[string]any{eventType: event},
	}
}

func (s *SETSigner) sign(c jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	kid, key := s.ring.signer()
	t.Header["kid"] = kid
	t.Header["typ"] = verify.SETType
	out, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("token: sign SET: %w", err)
	}
	return out, nil
}
