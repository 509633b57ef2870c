package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/internal/testkit"
)

// TestTokenRejections forges every kind of wrong access token and checks the
// server refuses each with the contract's code, through the real middleware.
func TestTokenRejections(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	kid, priv := h.signingKey()
	pub := priv.Public().(ed25519.PublicKey)
	// The server's clock, frozen when the harness started: time.Now here
	// runs ahead of it by however long the sign-up took, which on a busy
	// machine made the "expired" token (exp 31 s ago) still valid.
	now := h.clock.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": testIssuer, "aud": testAudience, "sub": g.User.ID, "sid": g.SessionID,
			"role": "user", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "x",
		}
	}
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
		t.Helper()
		tok := jwt.NewWithClaims(m, claims)
		tok.Header["typ"] = "at+jwt"
		tok.Header["kid"] = kid
		for k, v := range header {
			if v == nil {
				delete(tok.Header, k)
			} else {
				tok.Header[k] = v
			}
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(k string, v any) jwt.MapClaims {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	valid := sign(jwt.SigningMethodEdDSA, priv, good(), nil)
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	// alg none, built by hand since golang-jwt rightly makes it awkward.
	noneHeader, _ := json.Marshal(map[string]string{"alg": "none", "typ": "at+jwt", "kid": kid})
	algNone := b64(noneHeader) + "." + parts[1] + "."

	// A payload changed after signing.
	var claims map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &claims)
	claims["role"] = "admin"
	tamperedPayload, _ := json.Marshal(claims)
	tampered := parts[0] + "." + b64(tamperedPayload) + "." + parts[2]

	_, attackerKey, _ := ed25519.GenerateKey(rand.Reader)

	for _, tc := range []struct {
		name, token, code, reason string
	}{
		{"alg none", algNone, "invalid_token", ""},
		{"HS256 signed with the Ed25519 public key", sign(jwt.SigningMethodHS256, []byte(pub), good(), nil), "invalid_token", "bad_alg"},
		{"tampered payload", tampered, "invalid_token", "bad_signature"},
		{"stripped signature", parts[0] + "." + parts[1] + ".", "invalid_token", ""},
		{"unknown kid", sign(jwt.SigningMethodEdDSA, priv, good(), map[string]any{"kid": "nope"}), "invalid_token", "unknown_kid"},
		{"signed by another key", sign(jwt.SigningMethodEdDSA, attackerKey, good(), nil), "invalid_token", "bad_signature"},
		{"jwk header naming the attacker key", sign(jwt.SigningMethodEdDSA, attackerKey, good(), map[string]any{
			"jwk": map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(attackerKey.Public().(ed25519.PublicKey))},
		}), "invalid_token", "bad_signature"},
		{"jku header", sign(jwt.SigningMethodEdDSA, attackerKey, good(), map[string]any{"jku": "http://127.0.0.1:1/jwks"}), "invalid_token", "bad_signature"},
		{"wrong iss", sign(jwt.SigningMethodEdDSA, priv, with("iss", "https://evil.example"), nil), "invalid_token", "bad_issuer"},
		{"wrong aud", sign(jwt.SigningMethodEdDSA, priv, with("aud", "other"), nil), "invalid_token", "bad_audience"},
		{"wrong typ", sign(jwt.SigningMethodEdDSA, priv, good(), map[string]any{"typ": "JWT"}), "invalid_token", "bad_typ"},
		{"no typ", sign(jwt.SigningMethodEdDSA, priv, good(), map[string]any{"typ": nil}), "invalid_token", "bad_typ"},
		{"expired", sign(jwt.SigningMethodEdDSA, priv, with("exp", now.Add(-31*time.Second).Unix()), nil), "token_expired", "expired"},
		{"future nbf", sign(jwt.SigningMethodEdDSA, priv, with("nbf", now.Add(time.Minute).Unix()), nil), "invalid_token", "not_yet_valid"},
		{"missing exp", sign(jwt.SigningMethodEdDSA, priv, with("exp", nil), nil), "invalid_token", "missing_exp"},
		{"missing sub", sign(jwt.SigningMethodEdDSA, priv, with("sub", nil), nil), "invalid_token", "missing_sub"},
		// A token naming no session could never be revoked.
		{"missing sid", sign(jwt.SigningMethodEdDSA, priv, with("sid", nil), nil), "invalid_token", "missing_sid"},
		{"empty sid", sign(jwt.SigningMethodEdDSA, priv, with("sid", ""), nil), "invalid_token", "missing_sid"},
		// Every token Latchkey issues carries a jti; one without was not
		// minted by its issuer.
		{"missing jti", sign(jwt.SigningMethodEdDSA, priv, with("jti", nil), nil), "invalid_token", "missing_jti"},
		{"empty jti", sign(jwt.SigningMethodEdDSA, priv, with("jti", ""), nil), "invalid_token", "missing_jti"},
		{"unknown crit", sign(jwt.SigningMethodEdDSA, priv, good(), map[string]any{"crit": []string{"exp"}}), "invalid_token", "crit"},
		{"oversized", sign(jwt.SigningMethodEdDSA, priv, with("pad", strings.Repeat("p", 9000)), nil), "invalid_token", "oversized"},
		{"100 KB of garbage", strings.Repeat("A", 100_000), "invalid_token", "oversized"},
		{"garbage", "not.a.token", "invalid_token", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Do(req{Method: "GET", Path: "/api/" + g.User.ID + "/tasks", Bearer: tc.token})
			r.Problem(t, 401, tc.code)
			if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
			if tc.reason != "" {
				m := h.Do(req{Method: "GET", Path: "/metrics"})
				if !strings.Contains(string(m.Body), `latchkey_token_rejections_total{reason="`+tc.reason+`"}`) {
					t.Errorf("no rejection counted with reason %q", tc.reason)
				}
			}
		})
	}

	// A token in the query string is never used. Without a header the
	// request has no credentials (RFC 6750 §3.1): missing_token and the
	// bare challenge. Beside a good header it is refused, since URLs leak
	// into logs. Any case of the name, and ";" separators, count.
	for _, q := range []struct{ name, query string }{
		{"plain", "access_token=" + valid},
		{"upper case", "ACCESS_TOKEN=" + valid},
		{"mixed case", "Access_Token=" + valid},
		{"after a semicolon", "a=1;access_token=" + valid},
		{"upper case after a semicolon", "a=1;ACCESS_TOKEN=" + valid},
		{"before a semicolon", "access_token=" + valid + ";a=1"},
		{"escaped name", "status=all&access%5Ftoken=" + valid},
		{"empty", "access_token="},
	} {
		t.Run("token in the query string, "+q.name, func(t *testing.T) {
			for _, path := range []string{"/api/" + g.User.ID + "/tasks?" + q.query, "/api/auth/me?" + q.query} {
				r := h.Do(req{Method: "GET", Path: path})
				p := r.Problem(t, 401, "missing_token")
				if got := r.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != `Bearer realm="latchkey"` {
					t.Errorf("WWW-Authenticate = %q, want the bare challenge", got)
				}
				if p["detail"] != "access token must not be sent in the URL" {
					t.Errorf("detail = %v", p["detail"])
				}
				r = h.Do(req{Method: "GET", Path: path, Bearer: g.AccessToken})
				r.Problem(t, 401, "invalid_token")
				if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// Sign-out without the header is the refresh-token way: a token in the
	// query string is not a way to name the session, and ends nothing.
	t.Run("token in the query string of a sign-out", func(t *testing.T) {
		bob := h.signUp("bob@example.com")
		for _, q := range []string{"access_token=", "ACCESS_TOKEN=", "a=1;access_token="} {
			r := h.Do(req{Method: "POST", Path: "/api/auth/signout?" + q + bob.AccessToken, Body: map[string]string{}})
			r.Problem(t, 401, "missing_token")
			if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="latchkey"` {
				t.Errorf("WWW-Authenticate = %q, want the bare challenge", got)
			}
		}
		if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: bob.AccessToken}); r.Status != 200 {
			t.Fatalf("the session named by the query-string token ended: %d %s", r.Status, r.Body)
		}
	})
	// Nor is a token in a form body (RFC 6750 §2.2): the body is never read
	// for one, so without a header the request has none.
	t.Run("token in a form body", func(t *testing.T) {
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for _, body := range []string{"access_token=" + valid, "title=x&ACCESS_TOKEN=" + valid} {
			for _, route := range []struct{ method, path string }{
				{"POST", "/api/" + g.User.ID + "/tasks"},
				{"GET", "/api/" + g.User.ID + "/tasks"},
				{"GET", "/api/auth/me"},
				{"POST", "/api/auth/password"},
			} {
				r := h.Do(req{Method: route.method, Path: route.path, Header: form, Body: body})
				r.Problem(t, 401, "missing_token")
				if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="latchkey"` {
					t.Errorf("%s %s: WWW-Authenticate = %q, want the bare challenge", route.method, route.path, got)
				}
			}
		}
		if r := h.Do(req{Method: "GET", Path: "/api/" + g.User.ID + "/tasks", Bearer: g.AccessToken}); r.Status != 200 || strings.Contains(string(r.Body), `"title":"x"`) {
			t.Fatalf("tasks after the form posts: %d %s", r.Status, r.Body)
		}
	})
	t.Run("the valid token passes", func(t *testing.T) {
		if r := h.Do(req{Method: "GET", Path: "/api/" + g.User.ID + "/tasks", Bearer: valid}); r.Status != 200 {
			t.Fatalf("valid forged-by-us token: %d %s", r.Status, r.Body)
		}
	})
	t.Run("other schemes are no token", func(t *testing.T) {
		h.Do(req{Method: "GET", Path: "/api/auth/me", Header: map[string]string{"Authorization": "Basic YTpi"}}).Problem(t, 401, "missing_token")
	})
}

// TestHS256Mode runs the shared-secret mode end to end and checks that an
// EdDSA token is refused there.
func TestHS256Mode(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	h := newHarness(t, options{secret: secret})
	g := h.signUp("ada@example.com")
	parts := strings.Split(g.AccessToken, ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if !strings.Contains(string(hdr), `"alg":"HS256"`) || !strings.Contains(string(hdr), `"typ":"at+jwt"`) {
		t.Fatalf("header = %s", hdr)
	}
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: g.AccessToken}); r.Status != 200 {
		t.Fatalf("HS256 token refused: %d %s", r.Status, r.Body)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": g.User.ID, "exp": time.Now().Add(time.Minute).Unix()})
	tok.Header["typ"] = "at+jwt"
	s, _ := tok.SignedString(edKey)
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: s}).Problem(t, 401, "invalid_token")
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": g.User.ID, "exp": time.Now().Add(time.Minute).Unix()}).SignedString([]byte("another secret of thirty-two bytes!"))
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: other}).Problem(t, 401, "invalid_token")

	// Whoever holds the shared secret can sign, but a token without the
	// sid and jti Latchkey's issuer always sets is refused: it names no
	// session, so it could never be revoked.
	mintHS := func(edit func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": g.User.ID, "sid": g.SessionID, "role": "user",
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(), "jti": "minted-elsewhere"}
		edit(c)
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		tok.Header["typ"] = "at+jwt"
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name, reason string
		edit         func(jwt.MapClaims)
	}{
		{"neither sid nor jti", "missing_sid", func(c jwt.MapClaims) { delete(c, "sid"); delete(c, "jti") }},
		{"no sid", "missing_sid", func(c jwt.MapClaims) { delete(c, "sid") }},
		{"empty sid", "missing_sid", func(c jwt.MapClaims) { c["sid"] = "" }},
		{"no jti", "missing_jti", func(c jwt.MapClaims) { delete(c, "jti") }},
		{"empty jti", "missing_jti", func(c jwt.MapClaims) { c["jti"] = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: mintHS(tc.edit)}).Problem(t, 401, "invalid_token")
			m := h.Do(req{Method: "GET", Path: "/metrics"})
			if !strings.Contains(string(m.Body), `latchkey_token_rejections_total{reason="`+tc.reason+`"}`) {
				t.Errorf("no rejection counted with reason %q", tc.reason)
			}
		})
	}
	// With both, the secret's token passes: the rule is about the claims.
	if r := h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: mintHS(func(jwt.MapClaims) {})}); r.Status != 200 {
		t.Fatalf("HS256 token with sid and jti: %d %s", r.Status, r.Body)
	}
}

// TestAccessTokenClaims checks the issued token carries exactly the
// contract's claims and header.
func TestAccessTokenClaims(t *testing.T) {
	h := newHarness(t, options{})
	g := h.signUp("ada@example.com")
	parts := strings.Split(g.AccessToken, ".")
	var header, claims map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(hb, &header); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cb, &claims); err != nil {
		t.Fatal(err)
	}
	kid, _ := h.signingKey()
	if len(header) != 3 || header["alg"] != "EdDSA" || header["typ"] != "at+jwt" || header["kid"] != kid {
		t.Errorf("header = %v", header)
	}
	want := []string{"amr", "aud", "exp", "iat", "iss", "jti", "role", "sid", "sub"}
	if len(claims) != len(want) {
		t.Errorf("claims = %v, want exactly %v", claims, want)
	}
	for _, k := range want {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	if claims["iss"] != testIssuer || claims["aud"] != testAudience || claims["sub"] != g.User.ID ||
		claims["sid"] != g.SessionID || claims["role"] != "user" ||
		claims["exp"].(float64)-claims["iat"].(float64) != 900 || fmt.Sprint(claims["amr"]) != "[pwd]" {
		t.Errorf("claims = %v", claims)
	}
	// A refresh keeps the sign-in's amr.
	again := h.Grant(h.Refresh(g.RefreshToken), http.StatusOK)
	if amr := testkit.JSONPart(t, again.AccessToken, 1)["amr"]; fmt.Sprint(amr) != "[pwd]" {
		t.Errorf("amr after a refresh: %v", amr)
	}
	if strings.Contains(string(cb), "ada@example.com") {
		t.Error("the token carries the email")
	}
}
