package verify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// exampleToken plays the issuer's part: Latchkey's token package mints
// tokens of this shape.
func exampleToken(priv ed25519.PrivateKey, kid string) string {
	return exampleTokenFor(priv, kid, "user-123", "user")
}

func exampleTokenFor(priv ed25519.PrivateKey, kid, sub, role string) string {
	return signExample(priv, kid, exampleClaims(sub, role))
}

func exampleClaims(sub, role string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":  "https://auth.example.com",
		"aud":  "latchkey",
		"sub":  sub,
		"sid":  "session-9",
		"role": role,
		"iat":  now.Unix(),
		"exp":  now.Add(15 * time.Minute).Unix(),
		"jti":  "token-1",
	}
}

func signExample(priv ed25519.PrivateKey, kid string, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
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

// jwksStandIn serves a JWK Set the way a running Latchkey serves its
// /.well-known/jwks.json, here with one Ed25519 key.
func jwksStandIn(pub ed25519.PublicKey, kid string) *httptest.Server {
	body := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":%q,"x":%q}]}`,
		kid, base64.RawURLEncoding.EncodeToString(pub))
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
}

// call makes a GET with an optional bearer token and prints the answer.
func call(url, token string) {
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, body)
}

// A Go service protected by Latchkey, in ten lines: keys come from
// Latchkey's JWKS (re-fetched when Latchkey rotates its key), every route
// is behind Middleware, and each user reaches only their own notes.
func ExampleMiddleware() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	latchkey := jwksStandIn(priv.Public().(ed25519.PublicKey), "k1") // a running Latchkey
	defer latchkey.Close()

	// The service.
	keys, stop, err := verify.RemoteJWKS(context.Background(), latchkey.URL+"/.well-known/jwks.json", verify.JWKSOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	v, err := verify.New(verify.Config{Issuer: "https://auth.example.com", Audience: "latchkey", Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	auth := verify.Middleware(v, verify.MiddlewareOptions{})
	mux := http.NewServeMux()
	mux.Handle("GET /api/{user_id}/notes", auth(verify.RequireSubject("user_id")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			c, _ := verify.ClaimsFromContext(r.Context())
			fmt.Fprintf(w, "notes of %s\n", c.Subject)
		}))))
	srv := httptest.NewServer(mux) // http.ListenAndServe(addr, mux) in production
	defer srv.Close()

	// A client holding an access token Latchkey issued to user-123.
	token := exampleToken(priv, "k1")
	call(srv.URL+"/api/user-123/notes", token)
	call(srv.URL+"/api/user-456/notes", token)
	call(srv.URL+"/api/user-123/notes", "")
	// Output:
	// 200 notes of user-123
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"code":"forbidden","detail":"not allowed for this user"}
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"code":"missing_token","detail":"missing bearer token"}
}

// RequireRole keeps a route for one role, here Latchkey's admins.
func ExampleRequireRole() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	v, err := verify.New(verify.Config{
		Issuer:   "https://auth.example.com",
		Audience: "latchkey",
		Keys:     verify.StaticKeys(map[string]ed25519.PublicKey{"k1": priv.Public().(ed25519.PublicKey)}),
	})
	if err != nil {
		log.Fatal(err)
	}
	auth := verify.Middleware(v, verify.MiddlewareOptions{})
	h := auth(verify.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "the admin console")
	})))

	for _, token := range []string{
		exampleTokenFor(priv, "k1", "user-1", "admin"),
		exampleTokenFor(priv, "k1", "user-2", "user"),
	} {
		r := httptest.NewRequest("GET", "/admin", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Print(rec.Code, " ", rec.Body)
	}
	// Output:
	// 200 the admin console
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"code":"forbidden","detail":"role not allowed"}
}

// A foreign issuer such as Better Auth's JWT plugin sets no "typ" header:
// AllowNoType accepts that, while a typ that is present must still be
// at+jwt. Claims beyond the known ones (Better Auth may add email and
// name) stay in Raw.
func ExampleConfig_allowNoType() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	v, err := verify.New(verify.Config{
		Issuer:      "https://app.example.com",
		Audience:    "https://app.example.com",
		Keys:        verify.StaticKeys(map[string]ed25519.PublicKey{"ba-1": priv.Public().(ed25519.PublicKey)}),
		AllowNoType: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://app.example.com", "aud": "https://app.example.com",
		"sub": "ba-user-7", "email": "ada@example.com",
		"iat": time.Now().Unix(), "exp": time.Now().Add(15 * time.Minute).Unix(),
	})
	tok.Header["kid"] = "ba-1"
	delete(tok.Header, "typ") // golang-jwt adds "JWT"; Better Auth sends none
	s, _ := tok.SignedString(priv)

	claims, err := v.Verify(context.Background(), s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Role == "", claims.Raw["email"] != nil)
	// Output: ba-user-7 true true
}

// OnError sees every rejection, for metrics and audit; handlers read the
// verified claims from the request context.
func ExampleMiddleware_onError() {
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

// Tokens in the URL are never taken, and never accepted: they leak into
// access logs. Alone, such a token counts as no token (missing_token);
// beside a Bearer header it makes the request invalid.
func ExampleBearerToken() {
	r := httptest.NewRequest("GET", "/api/me?access_token=eyJ...", nil)
	_, err := verify.BearerToken(r)
	fmt.Println(err)
	r.Header.Set("Authorization", "Bearer eyJ...")
	_, err = verify.BearerToken(r)
	fmt.Println(err)
	// Output:
	// verify: missing_token (query_token): access token must not be sent in the URL
	// verify: invalid_token (query_token): access token must not be sent in the URL
}

// With CacheSize set, verifying the same token again skips the signature
// check and returns the same read-only *Claims; revocation is still asked
// every time.
func ExampleConfig_cacheSize() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	revoked := map[string]bool{}

	v, err := verify.New(verify.Config{
		Issuer:    "https://auth.example.com",
		Audience:  "latchkey",
		Keys:      verify.StaticKeys(map[string]ed25519.PublicKey{"2026-11": pub}),
		CacheSize: 10000,
		IsRevoked: func(_ context.Context, c *verify.Claims) bool { return revoked[c.SessionID] },
	})
	if err != nil {
		panic(err)
	}
	tok := exampleToken(priv, "2026-11")

	first, _ := v.Verify(context.Background(), tok)  // verified and cached
	second, _ := v.Verify(context.Background(), tok) // from the cache
	fmt.Println(first == second)

	revoked["session-9"] = true
	_, err = v.Verify(context.Background(), tok)
	fmt.Println(err.(*verify.Error).Code)
	// Output:
	// true
	// token_revoked
}

// A service accepting tokens from two issuers routes each token by its
// unverified iss; the chosen Verifier then checks everything, so a token
// naming the other issuer is refused, never accepted.
func ExampleUnverifiedIssuer() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	own, err := verify.New(verify.Config{
		Issuer:   "https://auth.example.com",
		Audience: "latchkey",
		Keys:     verify.StaticKeys(map[string]ed25519.PublicKey{"k1": priv.Public().(ed25519.PublicKey)}),
	})
	if err != nil {
		log.Fatal(err)
	}
	partner, err := verify.New(verify.Config{
		Issuer:     "https://partner.example.com",
		Audience:   "latchkey",
		Algorithms: []string{verify.AlgHS256},
		Keys:       verify.HMACSecret([]byte("the partner's secret of 32 bytes")),
	})
	if err != nil {
		log.Fatal(err)
	}
	verifyAny := func(ctx context.Context, token string) (*verify.Claims, error) {
		v := own // also answers tokens that name no issuer, with the right reason
		if iss, ok := verify.UnverifiedIssuer(token); ok && iss == "https://partner.example.com" {
			v = partner
		}
		return v.Verify(ctx, token)
	}

	c, err := verifyAny(context.Background(), exampleToken(priv, "k1"))
	fmt.Println(c.Issuer, err)

	// Our own key, but the token names the partner: the partner's verifier
	// takes HS256 only.
	forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://partner.example.com", "aud": "latchkey", "sub": "admin",
		"exp": time.Now().Add(time.Minute).Unix(),
	})
	forged.Header["typ"] = "at+jwt"
	s, _ := forged.SignedString(priv)
	_, err = verifyAny(context.Background(), s)
	fmt.Println(err.(*verify.Error).Reason)

	_, err = verifyAny(context.Background(), "not a token")
	fmt.Println(err.(*verify.Error).Reason)
	// Output:
	// https://auth.example.com <nil>
	// bad_alg
	// malformed
}

// RequireMFA keeps a route for tokens whose sign-in used a second factor:
// "mfa" in their amr claim (RFC 8176).
func ExampleRequireMFA() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	v, err := verify.New(verify.Config{
		Issuer:   "https://auth.example.com",
		Audience: "latchkey",
		Keys:     verify.StaticKeys(map[string]ed25519.PublicKey{"k1": priv.Public().(ed25519.PublicKey)}),
	})
	if err != nil {
		log.Fatal(err)
	}
	auth := verify.Middleware(v, verify.MiddlewareOptions{})
	h := auth(verify.RequireMFA(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFromContext(r.Context())
		fmt.Fprintln(w, "payouts, for a sign-in by", c.AMR)
	})))

	for _, amr := range [][]string{{"pwd", "otp", "mfa"}, {"pwd"}, nil} {
		r := httptest.NewRequest("GET", "/payouts", nil)
		r.Header.Set("Authorization", "Bearer "+exampleTokenAMR(priv, "k1", amr))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Print(rec.Code, " ", rec.Body)
	}
	// Output:
	// 200 payouts, for a sign-in by [pwd otp mfa]
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"code":"forbidden","detail":"mfa_required: sign in with a second factor"}
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"code":"forbidden","detail":"mfa_required: sign in with a second factor"}
}

// exampleTokenAMR is exampleToken with an amr claim (none when nil).
func exampleTokenAMR(priv ed25519.PrivateKey, kid string, amr []string) string {
	claims := exampleClaims("user-123", "user")
	if amr != nil {
		claims["amr"] = amr
	}
	return signExample(priv, kid, claims)
}
