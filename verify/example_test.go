package verify_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// exampleToken plays the issuer's part: Latchkey's token package mints
// tokens of this shape.
func exampleToken(priv ed25519.PrivateKey, kid string) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss":  "https://auth.example.com",
		"aud":  "latchkey",
		"sub":  "user-123",
		"sid":  "session-9",
		"role": "user",
		"iat":  now.Unix(),
		"exp":  now.Add(15 * time.Minute).Unix(),
		"jti":  "token-1",
	})
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = kid
	s, err := tok.SignedString(priv)
	if err != nil {
		panic(err)
	}
	return s
}

// A service that trusts Latchkey's Ed25519 keys verifies access tokens
// with a Verifier built once at start-up.
func ExampleNew() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)

	v, err := verify.New(verify.Config{
		Issuer:   "https://auth.example.com",
		Audience: "latchkey",
		Keys:     verify.StaticKeys(map[string]ed25519.PublicKey{"2026-11": pub}),
	})
	if err != nil {
		panic(err)
	}

	claims, err := v.Verify(context.Background(), exampleToken(priv, "2026-11"))
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Subject, claims.SessionID, claims.Role)

	// A token signed with a key the verifier does not know fails with a
	// stable code and a metrics-friendly reason.
	_, err = v.Verify(context.Background(), exampleToken(priv, "2025-01"))
	e := err.(*verify.Error)
	fmt.Println(e.Code, e.Reason)
	// Output:
	// user-123 session-9 user
	// invalid_token unknown_kid
}

// The shared-secret mode: HS256 with a secret of at least 32 bytes.
func ExampleHMACSecret() {
	secret := []byte("a shared secret of 32+ bytes....")
	v, err := verify.New(verify.Config{
		Issuer:     "https://auth.example.com",
		Audience:   "latchkey",
		Algorithms: []string{verify.AlgHS256},
		Keys:       verify.HMACSecret(secret),
	})
	if err != nil {
		panic(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://auth.example.com", "aud": "latchkey", "sub": "user-123",
		"exp": time.Now().Add(time.Minute).Unix(),
	})
	tok.Header["typ"] = "at+jwt"
	s, _ := tok.SignedString(secret)

	claims, err := v.Verify(context.Background(), s)
	fmt.Println(claims.Subject, err)
	// Output: user-123 <nil>
}

// Middleware guards routes; handlers read the verified claims from the
// request context.
func ExampleMiddleware() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	v, err := verify.New(verify.Config{
		Issuer:   "https://auth.example.com",
		Audience: "latchkey",
		Keys:     verify.StaticKeys(map[string]ed25519.PublicKey{"k1": priv.Public().(ed25519.PublicKey)}),
	})
	if err != nil {
		panic(err)
	}
	requireAuth := verify.Middleware(v, verify.MiddlewareOptions{
		OnError: func(r *http.Request, err *verify.Error) {
			fmt.Println("rejected:", err.Reason) // e.g. a metrics counter
		},
	})
	h := requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", c.Subject)
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/me", nil))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	fmt.Print(rec.Body)

	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+exampleToken(priv, "k1"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println(rec.Code, rec.Body)
	// Output:
	// rejected: missing
	// 401 Bearer realm="latchkey"
	// {"type":"about:blank","title":"Unauthorized","status":401,"code":"missing_token","detail":"missing bearer token"}
	// 200 hello user-123
}

// WriteError answers with the contract's 401 when a handler verifies tokens
// itself rather than through Middleware.
func ExampleWriteError() {
	rec := httptest.NewRecorder()
	verify.WriteError(rec, "latchkey", &verify.Error{Code: verify.CodeTokenExpired, Reason: verify.ReasonExpired})
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Header().Get("WWW-Authenticate"))
	fmt.Print(rec.Body)
	// Output:
	// 401 application/problem+json
	// Bearer realm="latchkey", error="invalid_token", error_description="access token expired"
	// {"type":"about:blank","title":"Unauthorized","status":401,"code":"token_expired","detail":"access token expired"}
}

// Tokens in the URL are refused outright: they leak into access logs.
func ExampleBearerToken() {
	r := httptest.NewRequest("GET", "/api/me?access_token=eyJ...", nil)
	_, err := verify.BearerToken(r)
	fmt.Println(err)
	// Output: verify: invalid_token (query_token): access token must not be sent in the URL
}
