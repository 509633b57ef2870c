package verify_test

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

const (
	testIssuer   = "https://auth.example.test"
	testAudience = "latchkey"
	testKID      = "k1"
)

// testNow is the verifiers' clock; tokens are minted relative to it.
var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

var (
	// Fixed seeds keep failures reproducible.
	testPriv     = ed25519.NewKeyFromSeed([]byte("latchkey-verify-test-seed-000001"))
	testPub      = testPriv.Public().(ed25519.PublicKey)
	attackerPriv = ed25519.NewKeyFromSeed([]byte("latchkey-verify-attacker-seed-01"))
	attackerPub  = attackerPriv.Public().(ed25519.PublicKey)
	testSecret   = []byte("0123456789abcdef0123456789abcdef")
)

func baseClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":  testIssuer,
		"aud":  testAudience,
		"sub":  "user-1",
		"sid":  "session-1",
		"role": "user",
		"iat":  testNow.Add(-time.Minute).Unix(),
		"exp":  testNow.Add(14 * time.Minute).Unix(),
		"jti":  "token-1",
	}
}

// mint signs a token with method and key after letting the caller edit the
// header (which starts as a valid Latchkey header) and the claims.
func mint(t testing.TB, method jwt.SigningMethod, key any, editH func(map[string]any), editC func(jwt.MapClaims)) string {
	t.Helper()
	c := baseClaims()
	if editC != nil {
		editC(c)
	}
	tok := jwt.NewWithClaims(method, c)
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = testKID
	if editH != nil {
		editH(tok.Header)
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return s
}

func mintEd(t testing.TB, editH func(map[string]any), editC func(jwt.MapClaims)) string {
	t.Helper()
	return mint(t, jwt.SigningMethodEdDSA, testPriv, editH, editC)
}

func mintHS(t testing.TB, editH func(map[string]any), editC func(jwt.MapClaims)) string {
	t.Helper()
	return mint(t, jwt.SigningMethodHS256, testSecret, editH, editC)
}

func edConfig() verify.Config {
	return verify.Config{
		Issuer:   testIssuer,
		Audience: testAudience,
		Keys:     verify.StaticKeys(map[string]ed25519.PublicKey{testKID: testPub}),
		Now:      func() time.Time { return testNow },
	}
}

func hsConfig() verify.Config {
	c := edConfig()
	c.Algorithms = []string{verify.AlgHS256}
	c.Keys = verify.HMACSecret(testSecret)
	return c
}

func newVerifier(t testing.TB, cfg verify.Config) *verify.Verifier {
	t.Helper()
	v, err := verify.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// b64json encodes v as an unpadded base64url JSON segment.
func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// tamper replaces a signed token's payload, keeping header and signature.
func tamper(t testing.TB, token string, edit func(jwt.MapClaims)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.MapClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	edit(c)
	parts[1] = b64json(t, c)
	return strings.Join(parts, ".")
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// wantError asserts err is a *verify.Error with code and reason, and that its
// text does not leak the token.
func wantError(t *testing.T, err error, token, code, reason string) *verify.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s/%s", code, reason)
	}
	var e *verify.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not *verify.Error", err, err)
	}
	if e.Code != code || e.Reason != reason {
		t.Fatalf("got %s/%s (%v), want %s/%s", e.Code, e.Reason, e.Unwrap(), code, reason)
	}
	msg := err.Error()
	if len(token) >= 8 && strings.Contains(msg, token) {
		t.Errorf("error text contains the token: %q", msg)
	}
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 8 && strings.Contains(msg, seg) {
			t.Errorf("error text contains a token segment %q: %q", seg, msg)
		}
	}
	return e
}

func TestVerifyRejects(t *testing.T) {
	valid := mintEd(t, nil, nil)
	parts := strings.Split(valid, ".")
	sec := func(d time.Duration) int64 { return testNow.Add(d).Unix() }
	revokedCfg := edConfig()
	revokedCfg.IsRevoked = func(_ context.Context, c *verify.Claims) bool { return c.SessionID == "session-1" }
	bothCfg := edConfig()
	bothCfg.Algorithms = []string{verify.AlgEdDSA, verify.AlgHS256}
	failingKeys := edConfig()
	failingKeys.Keys = func(context.Context, string, string) (any, error) { return nil, errors.New("jwks unreachable") }
	shortKey := edConfig()
	shortKey.Keys = func(context.Context, string, string) (any, error) { return ed25519.PublicKey(testPub[:31]), nil }
	// Keys that would serve a secret for HS256: only the allow-list stands
	// between this verifier and an HS256 token.
	edOnlyButSecret := edConfig()
	edOnlyButSecret.Keys = func(_ context.Context, kid, alg string) (any, error) {
		if alg == verify.AlgHS256 {
			return testSecret, nil
		}
		return testPub, nil
	}
	noTypeCfg := edConfig()
	noTypeCfg.AllowNoType = true
	emptySecret := hsConfig()
	emptySecret.Keys = verify.HMACSecret(nil)
	sidCfg := edConfig()
	sidCfg.RequireSessionID = true
	jtiCfg := edConfig()
	jtiCfg.RequireTokenID = true
	jtiHS := hsConfig()
	jtiHS.RequireSessionID, jtiHS.RequireTokenID = true, true
	subCapCfg := edConfig()
	subCapCfg.MaxSubjectLength = len("user-1") - 1
	sub255Cfg := edConfig()
	sub255Cfg.MaxSubjectLength = 255

	tests := []struct {
		name   string
		cfg    verify.Config // zero means edConfig()
		token  string
		code   string
		reason string
	}{
		// Algorithm.
		{name: "alg none", token: mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "alg none with stripped signature of a valid token",
			token: b64json(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": testKID}) + "." + parts[1] + ".",
			code:  verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "alg NONE", token: b64json(t, map[string]any{"alg": "NONE", "typ": "at+jwt", "kid": testKID}) + "." + parts[1] + ".",
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "HS256 signed with the Ed25519 public key bytes",
			token: mint(t, jwt.SigningMethodHS256, []byte(testPub), nil, nil),
			code:  verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "HS256 with public key bytes when HS256 is also allowed", cfg: bothCfg,
			token: mint(t, jwt.SigningMethodHS256, []byte(testPub), nil, nil),
			code:  verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "HS256 when only EdDSA is allowed and Keys has a secret", cfg: edOnlyButSecret, token: mintHS(t, nil, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "EdDSA token against an HS256-only verifier", cfg: hsConfig(), token: valid,
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "RS256", token: mint(t, jwt.SigningMethodRS256, rsaKey(), nil, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "missing alg", token: b64json(t, map[string]any{"typ": "at+jwt", "kid": testKID}) + "." + parts[1] + "." + parts[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "unknown alg", token: b64json(t, map[string]any{"alg": "XS999", "typ": "at+jwt", "kid": testKID}) + "." + parts[1] + "." + parts[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAlg},
		{name: "non-string alg", token: b64json(t, map[string]any{"alg": 1, "typ": "at+jwt", "kid": testKID}) + "." + parts[1] + "." + parts[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAlg},

		// Signature.
		{name: "tampered payload", token: tamper(t, valid, func(c jwt.MapClaims) { c["role"] = "admin" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadSignature},
		{name: "stripped signature", token: parts[0] + "." + parts[1] + ".",
			code: verify.CodeInvalidToken, reason: verify.ReasonBadSignature},
		{name: "signature of another token", token: parts[0] + "." + parts[1] + "." + strings.Split(mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = "user-2" }), ".")[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonBadSignature},
		{name: "signed by another key with our kid", token: mint(t, jwt.SigningMethodEdDSA, attackerPriv, nil, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadSignature},
		{name: "HS256 with the wrong secret", cfg: hsConfig(), token: mint(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two bytes!"), nil, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadSignature},
		{name: "embedded jwk and jku pointing at the attacker key", token: mint(t, jwt.SigningMethodEdDSA, attackerPriv, func(h map[string]any) {
			h["jku"] = "https://attacker.example/jwks.json"
			h["x5u"] = "https://attacker.example/cert.pem"
			h["jwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(attackerPub)}
		}, nil), code: verify.CodeInvalidToken, reason: verify.ReasonBadSignature},
		{name: "embedded jwk with a kid we do not know", token: mint(t, jwt.SigningMethodEdDSA, attackerPriv, func(h map[string]any) {
			h["kid"] = "attacker"
			h["jwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(attackerPub)}
		}, nil), code: verify.CodeInvalidToken, reason: verify.ReasonUnknownKID},

		// Keys.
		{name: "unknown kid", token: mintEd(t, func(h map[string]any) { h["kid"] = "nope" }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonUnknownKID},
		{name: "missing kid", token: mintEd(t, func(h map[string]any) { delete(h, "kid") }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonUnknownKID},
		{name: "non-string kid", token: mintEd(t, func(h map[string]any) { h["kid"] = 7 }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "key store failing", cfg: failingKeys, token: valid,
			code: verify.CodeInvalidToken, reason: verify.ReasonKeyUnavailable},
		{name: "truncated Ed25519 key", cfg: shortKey, token: valid,
			code: verify.CodeInvalidToken, reason: verify.ReasonBadKey},
		{name: "empty HMAC secret", cfg: emptySecret, token: mint(t, jwt.SigningMethodHS256, []byte{0}, nil, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadKey},

		// Header.
		{name: "wrong typ", token: mintEd(t, func(h map[string]any) { h["typ"] = "JWT" }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadTyp},
		{name: "missing typ", token: mintEd(t, func(h map[string]any) { delete(h, "typ") }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadTyp},
		{name: "non-string typ", token: mintEd(t, func(h map[string]any) { h["typ"] = []string{"at+jwt"} }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadTyp},
		{name: "typ with another media prefix", token: mintEd(t, func(h map[string]any) { h["typ"] = "text/at+jwt" }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadTyp},
		// AllowNoType relaxes only the absent header.
		{name: "no typ allowed, wrong typ", cfg: noTypeCfg, token: mintEd(t, func(h map[string]any) { h["typ"] = "JWT" }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadTyp},
		{name: "no typ allowed, empty typ", cfg: noTypeCfg, token: mintEd(t, func(h map[string]any) { h["typ"] = "" }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadTyp},
		{name: "no typ allowed, null typ", cfg: noTypeCfg, token: mintEd(t, func(h map[string]any) { h["typ"] = nil }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadTyp},
		{name: "no typ allowed, still wrong aud", cfg: noTypeCfg, token: mintEd(t, func(h map[string]any) { delete(h, "typ") },
			func(c jwt.MapClaims) { c["aud"] = "another-api" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAudience},
		{name: "unknown crit", token: mintEd(t, func(h map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonCrit},
		{name: "crit empty array", token: mintEd(t, func(h map[string]any) { h["crit"] = []string{} }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonCrit},
		{name: "crit null", token: mintEd(t, func(h map[string]any) { h["crit"] = nil }, nil),
			code: verify.CodeInvalidToken, reason: verify.ReasonCrit},

		// Claims.
		{name: "wrong iss", token: mintEd(t, nil, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadIssuer},
		{name: "missing iss", token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "iss") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadIssuer},
		{name: "wrong aud", token: mintEd(t, nil, func(c jwt.MapClaims) { c["aud"] = "another-api" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAudience},
		{name: "aud array without ours", token: mintEd(t, nil, func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAudience},
		{name: "missing aud", token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "aud") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAudience},
		{name: "expired beyond leeway", token: mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = sec(-31 * time.Second) }),
			code: verify.CodeTokenExpired, reason: verify.ReasonExpired},
		{name: "expired long ago", token: mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = sec(-24 * time.Hour) }),
			code: verify.CodeTokenExpired, reason: verify.ReasonExpired},
		{name: "expired and wrong aud reports the aud", token: mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = sec(-time.Hour); c["aud"] = "x" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadAudience},
		{name: "nbf beyond leeway", token: mintEd(t, nil, func(c jwt.MapClaims) { c["nbf"] = sec(31 * time.Second) }),
			code: verify.CodeInvalidToken, reason: verify.ReasonNotYetValid},
		{name: "missing exp", token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "exp") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingExp},
		{name: "exp zero", token: mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = 0 }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingExp},
		{name: "exp a string", token: mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = "tomorrow" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "missing sub", token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "sub") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingSub},
		{name: "empty sub", token: mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = "" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingSub},
		{name: "non-string sub", token: mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = 42 }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "non-string sid", token: mintEd(t, nil, func(c jwt.MapClaims) { c["sid"] = 5 }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "non-string role", token: mintEd(t, nil, func(c jwt.MapClaims) { c["role"] = []string{"admin"} }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "amr a string", token: mintEd(t, nil, func(c jwt.MapClaims) { c["amr"] = "mfa" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "amr with a number", token: mintEd(t, nil, func(c jwt.MapClaims) { c["amr"] = []any{"pwd", 2} }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "non-string jti", token: mintEd(t, nil, func(c jwt.MapClaims) { c["jti"] = true }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "non-numeric iat", token: mintEd(t, nil, func(c jwt.MapClaims) { c["iat"] = "now" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},

		// Config.RequireSessionID.
		{name: "sid required, missing", cfg: sidCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "sid") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingSID},
		{name: "sid required, empty", cfg: sidCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["sid"] = "" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingSID},
		{name: "sid required, null", cfg: sidCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["sid"] = nil }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "sid required, non-string", cfg: sidCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["sid"] = 0 }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "sid required, only in the header", cfg: sidCfg, token: mintEd(t, func(h map[string]any) { h["sid"] = "session-1" },
			func(c jwt.MapClaims) { delete(c, "sid") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingSID},
		{name: "sid required, added by tampering", cfg: sidCfg,
			token: tamper(t, mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "sid") }), func(c jwt.MapClaims) { c["sid"] = "session-1" }),
			code:  verify.CodeInvalidToken, reason: verify.ReasonBadSignature},
		{name: "sid required, no sid and wrong aud reports the aud", cfg: sidCfg,
			token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "sid"); c["aud"] = "another-api" }),
			code:  verify.CodeInvalidToken, reason: verify.ReasonBadAudience},
		{name: "sid required, revoked store not asked first", cfg: func() verify.Config {
			c := sidCfg
			c.IsRevoked = func(context.Context, *verify.Claims) bool { return true }
			return c
		}(), token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "sid") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingSID},

		// Config.RequireTokenID.
		{name: "jti required, missing", cfg: jtiCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "jti") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingJTI},
		{name: "jti required, empty", cfg: jtiCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["jti"] = "" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingJTI},
		{name: "jti required, null", cfg: jtiCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["jti"] = nil }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "jti required, non-string", cfg: jtiCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["jti"] = 7 }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "jti required, only in the header", cfg: jtiCfg, token: mintEd(t, func(h map[string]any) { h["jti"] = "token-1" },
			func(c jwt.MapClaims) { delete(c, "jti") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingJTI},
		{name: "jti required, no jti and wrong iss reports the iss", cfg: jtiCfg,
			token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "jti"); c["iss"] = "https://other.example" }),
			code:  verify.CodeInvalidToken, reason: verify.ReasonBadIssuer},
		// HS256: anyone holding the shared secret can sign, and a token it
		// did not get from Latchkey's issuer lacks what that one sets.
		{name: "HS256, sid and jti required, neither sent", cfg: jtiHS,
			token: mintHS(t, nil, func(c jwt.MapClaims) { delete(c, "sid"); delete(c, "jti") }),
			code:  verify.CodeInvalidToken, reason: verify.ReasonMissingSID},
		{name: "HS256, sid and jti required, no jti", cfg: jtiHS, token: mintHS(t, nil, func(c jwt.MapClaims) { delete(c, "jti") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingJTI},
		{name: "HS256, sid and jti required, empty jti", cfg: jtiHS, token: mintHS(t, nil, func(c jwt.MapClaims) { c["jti"] = "" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingJTI},

		// Config.MaxSubjectLength.
		{name: "sub one byte over the cap", cfg: subCapCfg, token: valid,
			code: verify.CodeInvalidToken, reason: verify.ReasonSubTooLong},
		{name: "sub over the cap in bytes, not in runes", cfg: subCapCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = "ééé" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonSubTooLong},
		{name: "sub of 256 bytes with a cap of 255", cfg: sub255Cfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = strings.Repeat("a", 256) }),
			code: verify.CodeInvalidToken, reason: verify.ReasonSubTooLong},
		{name: "sub capped, still missing", cfg: subCapCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "sub") }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMissingSub},
		{name: "sub capped, long and not a string", cfg: subCapCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = 1234567 }),
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "sub capped, long sub and wrong iss reports the iss", cfg: sub255Cfg,
			token: mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = strings.Repeat("a", 300); c["iss"] = "https://evil.example" }),
			code:  verify.CodeInvalidToken, reason: verify.ReasonBadIssuer},
		{name: "sub capped, shortened by tampering", cfg: subCapCfg, token: tamper(t, valid, func(c jwt.MapClaims) { c["sub"] = "u" }),
			code: verify.CodeInvalidToken, reason: verify.ReasonBadSignature},

		// Shape.
		{name: "oversized 100 KB", token: valid + strings.Repeat("A", 100<<10),
			code: verify.CodeInvalidToken, reason: verify.ReasonOversized},
		{name: "just over a small MaxSize", cfg: func() verify.Config { c := edConfig(); c.MaxSize = len(valid) - 1; return c }(), token: valid,
			code: verify.CodeInvalidToken, reason: verify.ReasonOversized},
		{name: "empty string", token: "", code: verify.CodeMissingToken, reason: verify.ReasonMissing},
		{name: "abc", token: "abc", code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "a.b.c", token: "a.b.c", code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "two dots only", token: "..", code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "four segments", token: valid + ".x", code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "non-base64", token: "!!!!.@@@@.####", code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "padded base64", token: parts[0] + "=." + parts[1] + "." + parts[2], code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		// Go's base64 decoders skip \r and \n even in strict mode: one
		// signed token must not have several spellings.
		{name: "newline in the signature", token: parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:],
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "carriage return in the payload", token: parts[0] + "." + parts[1][:5] + "\r" + parts[1][5:] + "." + parts[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "space in the header", token: parts[0][:3] + " " + parts[0][3:] + "." + parts[1] + "." + parts[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "header not JSON", token: base64.RawURLEncoding.EncodeToString([]byte("not json")) + "." + parts[1] + "." + parts[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "header a JSON array", token: b64json(t, []string{"EdDSA"}) + "." + parts[1] + "." + parts[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "payload not JSON", token: parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[2],
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "signature not base64", token: parts[0] + "." + parts[1] + ".***",
			code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},
		{name: "whitespace around", token: " " + valid + " ", code: verify.CodeInvalidToken, reason: verify.ReasonMalformed},

		// Revocation.
		{name: "revoked", cfg: revokedCfg, token: valid, code: verify.CodeTokenRevoked, reason: verify.ReasonRevoked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Keys == nil {
				cfg = edConfig()
			}
			v := newVerifier(t, cfg)
			c, err := v.Verify(context.Background(), tc.token)
			if c != nil {
				t.Errorf("got claims %+v with an error expected", c)
			}
			wantError(t, err, tc.token, tc.code, tc.reason)
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	sec := func(d time.Duration) int64 { return testNow.Add(d).Unix() }
	bothCfg := edConfig()
	bothCfg.Algorithms = []string{verify.AlgHS256, verify.AlgEdDSA}
	bothCfg.Keys = func(_ context.Context, kid, alg string) (any, error) {
		if alg == verify.AlgHS256 {
			return testSecret, nil
		}
		return verify.StaticKeys(map[string]ed25519.PublicKey{testKID: testPub})(context.Background(), kid, alg)
	}
	customType := edConfig()
	customType.Type = "application/JWT"
	noType := edConfig()
	noType.AllowNoType = true
	noTypeJWT := noType
	noTypeJWT.Type = "JWT"
	sidCfg := edConfig()
	sidCfg.RequireSessionID = true
	subCapCfg := edConfig()
	subCapCfg.MaxSubjectLength = len("user-1")
	long := strings.Repeat("s", 4000)

	tests := []struct {
		name  string
		cfg   verify.Config
		token string
		sub   string
	}{
		{name: "EdDSA", cfg: edConfig(), token: mintEd(t, nil, nil)},
		{name: "HS256 mode", cfg: hsConfig(), token: mintHS(t, nil, nil)},
		{name: "HS256 mode ignores kid", cfg: hsConfig(), token: mintHS(t, func(h map[string]any) { delete(h, "kid") }, nil)},
		{name: "both algorithms, EdDSA", cfg: bothCfg, token: mintEd(t, nil, nil)},
		{name: "both algorithms, HS256", cfg: bothCfg, token: mintHS(t, nil, nil)},
		{name: "aud as string", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) { c["aud"] = testAudience })},
		{name: "aud as array", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) { c["aud"] = []string{"other", testAudience} })},
		{name: "aud as one-element array", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) { c["aud"] = []string{testAudience} })},
		{name: "no typ allowed, none sent", cfg: noType, token: mintEd(t, func(h map[string]any) { delete(h, "typ") }, nil)},
		{name: "no typ allowed, at+jwt sent", cfg: noType, token: mintEd(t, nil, nil)},
		{name: "no typ allowed, configured JWT sent", cfg: noTypeJWT, token: mintEd(t, func(h map[string]any) { h["typ"] = "JWT" }, nil)},
		{name: "no typ allowed, configured JWT, none sent", cfg: noTypeJWT, token: mintEd(t, func(h map[string]any) { delete(h, "typ") }, nil)},
		{name: "typ upper case", cfg: edConfig(), token: mintEd(t, func(h map[string]any) { h["typ"] = "AT+JWT" }, nil)},
		{name: "typ with media prefix", cfg: edConfig(), token: mintEd(t, func(h map[string]any) { h["typ"] = "application/at+jwt" }, nil)},
		{name: "configured typ JWT", cfg: customType, token: mintEd(t, func(h map[string]any) { h["typ"] = "jwt" }, nil)},
		{name: "expired just inside leeway", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = sec(-29 * time.Second) })},
		{name: "nbf just inside leeway", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) { c["nbf"] = sec(29 * time.Second) })},
		{name: "foreign issuer without sid or role", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) {
			delete(c, "sid")
			delete(c, "role")
			delete(c, "jti")
			delete(c, "iat")
		})},
		{name: "unused jku and jwk headers", cfg: edConfig(), token: mintEd(t, func(h map[string]any) {
			h["jku"] = "https://attacker.example/jwks.json"
			h["jwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(attackerPub)}
		}, nil)},
		{name: "sid required, sid present", cfg: sidCfg, token: mintEd(t, nil, nil)},
		{name: "sid required, HS256", cfg: func() verify.Config { c := hsConfig(); c.RequireSessionID = true; return c }(), token: mintHS(t, nil, nil)},
		{name: "sid and jti required, both present", cfg: func() verify.Config { c := edConfig(); c.RequireSessionID, c.RequireTokenID = true, true; return c }(), token: mintEd(t, nil, nil)},
		{name: "sid and jti required, HS256", cfg: func() verify.Config { c := hsConfig(); c.RequireSessionID, c.RequireTokenID = true, true; return c }(), token: mintHS(t, nil, nil)},
		{name: "jti not required by default", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) { c["jti"] = "" })},
		{name: "sub exactly at the cap", cfg: subCapCfg, token: mintEd(t, nil, nil)},
		{name: "sub at the cap in multi-byte runes", cfg: subCapCfg, token: mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = "ééé" }), sub: "ééé"},
		{name: "no sub cap by default", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) { c["sub"] = long }), sub: long},
		{name: "sid not required by default", cfg: edConfig(), token: mintEd(t, nil, func(c jwt.MapClaims) { c["sid"] = "" })},
		{name: "exactly MaxSize", cfg: func() verify.Config { c := edConfig(); c.MaxSize = len(mintEd(t, nil, nil)); return c }(), token: mintEd(t, nil, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, tc.cfg)
			c, err := v.Verify(context.Background(), tc.token)
			if err != nil {
				t.Fatalf("Verify: %v (%v)", err, errors.Unwrap(err))
			}
			if want := cmp.Or(tc.sub, "user-1"); c.Subject != want {
				t.Errorf("Subject = %q, want %q", c.Subject, want)
			}
		})
	}
}

func TestVerifyClaims(t *testing.T) {
	v := newVerifier(t, edConfig())
	tok := mintEd(t, nil, func(c jwt.MapClaims) {
		c["aud"] = []string{testAudience, "other"}
		c["extra"] = "kept"
	})
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := verify.Claims{
		Subject:   "user-1",
		SessionID: "session-1",
		Role:      "user",
		Issuer:    testIssuer,
		Audience:  []string{testAudience, "other"},
		ID:        "token-1",
		IssuedAt:  testNow.Add(-time.Minute),
		ExpiresAt: testNow.Add(14 * time.Minute),
	}
	if c.Subject != want.Subject || c.SessionID != want.SessionID || c.Role != want.Role ||
		c.Issuer != want.Issuer || c.ID != want.ID || strings.Join(c.Audience, ",") != strings.Join(want.Audience, ",") {
		t.Errorf("claims = %+v, want %+v", *c, want)
	}
	if !c.IssuedAt.Equal(want.IssuedAt) || c.IssuedAt.Location() != time.UTC {
		t.Errorf("IssuedAt = %v, want %v in UTC", c.IssuedAt, want.IssuedAt)
	}
	if !c.ExpiresAt.Equal(want.ExpiresAt) || c.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v, want %v in UTC", c.ExpiresAt, want.ExpiresAt)
	}
	if c.Raw["extra"] != "kept" || c.Raw["sub"] != "user-1" {
		t.Errorf("Raw = %v", c.Raw)
	}
}

// TestVerifyCallbacks checks what the verifier hands to Keys and IsRevoked,
// and that IsRevoked is only consulted for otherwise valid tokens.
func TestVerifyCallbacks(t *testing.T) {
	type ctxKey struct{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "marker")
	var gotKID, gotAlg string
	var keyCtxOK, revokedCalls int
	cfg := edConfig()
	cfg.Keys = func(ctx context.Context, kid, alg string) (any, error) {
		gotKID, gotAlg = kid, alg
		if ctx.Value(ctxKey{}) == "marker" {
			keyCtxOK++
		}
		return testPub, nil
	}
	cfg.IsRevoked = func(ctx context.Context, c *verify.Claims) bool {
		revokedCalls++
		if ctx.Value(ctxKey{}) != "marker" || c.SessionID != "session-1" {
			t.Errorf("IsRevoked got ctx value %v, claims %+v", ctx.Value(ctxKey{}), c)
		}
		return false
	}
	v := newVerifier(t, cfg)
	if _, err := v.Verify(ctx, mintEd(t, nil, nil)); err != nil {
		t.Fatal(err)
	}
	if gotKID != testKID || gotAlg != verify.AlgEdDSA || keyCtxOK != 1 || revokedCalls != 1 {
		t.Errorf("kid %q alg %q ctx ok %d revoked calls %d", gotKID, gotAlg, keyCtxOK, revokedCalls)
	}
	for _, bad := range []string{
		tamper(t, mintEd(t, nil, nil), func(c jwt.MapClaims) { c["sub"] = "admin" }),
		mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Hour).Unix() }),
	} {
		if _, err := v.Verify(ctx, bad); err == nil {
			t.Fatal("bad token accepted")
		}
	}
	if revokedCalls != 1 {
		t.Errorf("IsRevoked called %d times, want only for the valid token", revokedCalls)
	}
}

func TestVerifyUnwrap(t *testing.T) {
	v := newVerifier(t, edConfig())
	_, err := v.Verify(context.Background(), mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Hour).Unix() }))
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("errors.Is(%v, jwt.ErrTokenExpired) = false", err)
	}
	_, err = v.Verify(context.Background(), mintEd(t, func(h map[string]any) { h["kid"] = "nope" }, nil))
	if !errors.Is(err, verify.ErrUnknownKey) {
		t.Errorf("errors.Is(%v, ErrUnknownKey) = false", err)
	}
}

// TestOversizedIsCheap shows the size cap runs before any decoding: a
// parse of 100 KB would allocate far more than the error itself.
func TestOversizedIsCheap(t *testing.T) {
	v := newVerifier(t, edConfig())
	huge := strings.Repeat("eyJhbGciOiJFZERTQSJ9.", 5000)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.Verify(context.Background(), huge); err == nil {
			t.Fatal("accepted")
		}
	})
	if allocs > 1 {
		t.Errorf("oversized token cost %v allocations, want at most 1", allocs)
	}
}

// TestStaticKeysCopies guards against a caller's later edits (or key
// rotation code reusing a map) changing what a running verifier trusts.
func TestStaticKeysCopies(t *testing.T) {
	pub := append(ed25519.PublicKey(nil), testPub...)
	keys := map[string]ed25519.PublicKey{testKID: pub}
	cfg := edConfig()
	cfg.Keys = verify.StaticKeys(keys)
	v := newVerifier(t, cfg)
	delete(keys, testKID)
	keys["k2"] = attackerPub
	pub[0] ^= 0xff
	if _, err := v.Verify(context.Background(), mintEd(t, nil, nil)); err != nil {
		t.Errorf("after caller edits: %v", err)
	}
	_, err := v.Verify(context.Background(), mint(t, jwt.SigningMethodEdDSA, attackerPriv, func(h map[string]any) { h["kid"] = "k2" }, nil))
	wantError(t, err, "", verify.CodeInvalidToken, verify.ReasonUnknownKID)
}

func TestNewConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*verify.Config)
	}{
		{"missing issuer", func(c *verify.Config) { c.Issuer = "" }},
		{"missing audience", func(c *verify.Config) { c.Audience = "" }},
		{"missing keys", func(c *verify.Config) { c.Keys = nil }},
		{"leeway 31s", func(c *verify.Config) { c.Leeway = 31 * time.Second }},
		{"negative leeway", func(c *verify.Config) { c.Leeway = -time.Second }},
		{"alg none", func(c *verify.Config) { c.Algorithms = []string{"none"} }},
		{"alg RS256", func(c *verify.Config) { c.Algorithms = []string{"RS256"} }},
		{"alg none beside EdDSA", func(c *verify.Config) { c.Algorithms = []string{"EdDSA", "none"} }},
		{"alg lower case", func(c *verify.Config) { c.Algorithms = []string{"eddsa"} }},
		{"alg HS512", func(c *verify.Config) { c.Algorithms = []string{"HS512"} }},
		{"negative max size", func(c *verify.Config) { c.MaxSize = -1 }},
		{"type only a prefix", func(c *verify.Config) { c.Type = "application/" }},
		{"negative max subject length", func(c *verify.Config) { c.MaxSubjectLength = -1 }},
		{"negative cache size", func(c *verify.Config) { c.CacheSize = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := edConfig()
			tc.edit(&cfg)
			v, err := verify.New(cfg)
			if err == nil || v != nil {
				t.Fatalf("New = %v, %v; want an error", v, err)
			}
			if !strings.HasPrefix(err.Error(), "verify: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	for _, ok := range []func(*verify.Config){
		func(c *verify.Config) { c.Leeway = 30 * time.Second },
		func(c *verify.Config) { c.Leeway = time.Second },
		func(c *verify.Config) { c.Algorithms = []string{"HS256", "EdDSA", "HS256"} },
		func(c *verify.Config) { c.MaxSize = 1 << 20 },
		func(c *verify.Config) { c.MaxSubjectLength = 255 },
		func(c *verify.Config) { c.MaxSubjectLength = 1; c.RequireSessionID = true },
	} {
		cfg := edConfig()
		ok(&cfg)
		if _, err := verify.New(cfg); err != nil {
			t.Errorf("New: %v", err)
		}
	}
}

// TestLeewayConfigured checks a leeway smaller than the default is honored.
func TestLeewayConfigured(t *testing.T) {
	cfg := edConfig()
	cfg.Leeway = 5 * time.Second
	v := newVerifier(t, cfg)
	tok := mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = testNow.Add(-10 * time.Second).Unix() })
	_, err := v.Verify(context.Background(), tok)
	wantError(t, err, tok, verify.CodeTokenExpired, verify.ReasonExpired)
}

func TestErrorText(t *testing.T) {
	e := &verify.Error{Code: verify.CodeTokenExpired, Reason: verify.ReasonExpired, Err: errors.New("secret eyJ detail")}
	if got, want := e.Error(), "verify: token_expired (expired): access token expired"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	for _, e := range []*verify.Error{
		{Code: verify.CodeInvalidToken, Reason: "something new"},
		{Code: verify.CodeTokenRevoked},
		{Code: verify.CodeMissingToken},
	} {
		if e.Description() == "" || strings.ContainsAny(e.Description(), `"\`) {
			t.Errorf("Description() = %q", e.Description())
		}
	}
}
