package verify_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// A receiver of Latchkey's Shared Signals feed checks each SET of a poll
// answer with the keys that verify Latchkey's access tokens, then applies
// a session-revoked event, acknowledges an unknown event type, reports a
// refused SET in setErrs with its code, and leaves one whose key it could
// not find for the next poll.
func ExampleParseSET() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	keys := verify.StaticKeys(map[string]ed25519.PublicKey{"key-1": priv.Public().(ed25519.PublicKey)})

	// The transmitter's part: Latchkey's token.SETSigner mints this.
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://auth.example.com",
		"aud": "https://notes.example.com",
		"iat": now.Unix(),
		"jti": "sr-session-9",
		"sub_id": map[string]any{
			"format":  "complex",
			"session": map[string]any{"format": "opaque", "id": "session-9"},
			"user":    map[string]any{"format": "iss_sub", "iss": "https://auth.example.com", "sub": "user-123"},
		},
		"events": map[string]any{verify.EventSessionRevoked: map[string]any{
			"event_timestamp":   now.Unix(),
			"initiating_entity": "user",
			"reason_admin":      map[string]any{"en": "signout"},
		}},
	})
	tok.Header["typ"] = verify.SETType
	tok.Header["kid"] = "key-1"
	raw, err := tok.SignedString(priv)
	if err != nil {
		panic(err)
	}

	set, err := verify.ParseSET(context.Background(), raw, keys, "https://auth.example.com", "https://notes.example.com", time.Now())
	var e *verify.SETError
	switch {
	case errors.As(err, &e) && e.Retry:
		fmt.Println("neither ack nor report: try again after the keys refresh")
	case errors.As(err, &e):
		fmt.Println("setErrs:", e.Code, e.Description())
	case err != nil:
		panic(err) // a mistake in the call, not in the SET
	case set.Kind == verify.SETSessionRevoked:
		fmt.Println("ack", set.ID, "and deny session", set.SessionID, "of", set.UserID, "by", set.InitiatingEntity, "for", set.Reason)
	default:
		fmt.Println("ack", set.ID)
	}

	// An access token offered as a SET is refused by its typ.
	_, err = verify.ParseSET(context.Background(), exampleToken(priv, "key-1"), keys, "https://auth.example.com", "https://notes.example.com", time.Now())
	fmt.Println(err)
	// Output:
	// ack sr-session-9 and deny session session-9 of user-123 by user for signout
	// verify: SET invalid_request (bad_typ): typ is not secevent+jwt
}
