package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/verify"
)

// Issuer signs access tokens: EdDSA with the key ring's newest key, or HS256
// with a shared secret when Secret is set.
type Issuer struct {
	Issuer   string
	Audience string
	TTL      time.Duration
	Ring     *KeyRing // EdDSA mode
	Secret   []byte   // HS256 mode when non-empty
	Now      func() time.Time
}

// Issue signs an access token for user u in session sid, whose sign-in
// authenticated by amr, valid for TTL. The claims are exactly the
// contract's: no email, name or other personal data.
func (is *Issuer) Issue(u *latchkey.User, sid string, amr []string) (string, error) {
	now := time.Now
	if is.Now != nil {
		now = is.Now
	}
	iat := now().Truncate(time.Second)
	exp := iat.Add(is.TTL)
	jti, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("token: jti: %w", err)
	}
	claims := jwt.MapClaims{
		"iss":  is.Issuer,
		"aud":  is.Audience,
		"sub":  u.ID,
		"sid":  sid,
		"role": string(u.Role),
		"iat":  iat.Unix(),
		"exp":  exp.Unix(),
		"jti":  jti.String(),
	}
	if len(amr) > 0 {
		claims["amr"] = amr
	}
	var t *jwt.Token
	var key any
	switch {
	case len(is.Secret) > 0:
		t = jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		key = is.Secret
	case is.Ring != nil:
		t = jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
		var kid string
		kid, key = is.Ring.signer()
		t.Header["kid"] = kid
	default:
		return "", errors.New("token: issuer has neither key ring nor secret")
	}
	t.Header["typ"] = verify.DefaultType // at+jwt, RFC 9068
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return s, nil
}
