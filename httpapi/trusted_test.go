package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"

	"github.com/golang-jwt/jwt/v5"
)

const (
	extIssuer   = "http://127.0.0.1:3000"
	extAudience = "http://127.0.0.1:3000"
)

// fakeIssuer is an external issuer in the shape of Better Auth's JWT
// plugin: EdDSA, no typ, sub = its user id, email and name in the claims,
// its JWKS on a loopback server.
type fakeIssuer struct {
	mu   sync.Mutex
	kid  string
	key  ed25519.PrivateKey
	srv  *httptest.Server
	hits int
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	f := &fakeIssuer{}
	f.rotate()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.hits++
		pub := f.key.Public().(ed25519.PublicKey)
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": f.kid,
			"x": base64.RawURLEncoding.EncodeToString(pub),
		}}})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) rotate() {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	f.mu.Lock()
	f.key, f.kid = key, base64.RawURLEncoding.EncodeToString(key[:6])
	f.mu.Unlock()
}

func (f *fakeIssuer) token(t *testing.T, sub string, edit func(jwt.MapClaims)) string {
	t.Helper()
	c := jwt.MapClaims{"iss": extIssuer, "aud": extAudience, "sub": sub, "email": "secret-person@example.com",
		"name": "Secret Person", "iat": time.Now().Unix(), "exp": time.Now().Add(15 * time.Minute).Unix()}
	if edit != nil {
		edit(c)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	delete(tok.Header, "typ")
	f.mu.Lock()
	tok.Header["kid"] = f.kid
	key := f.key
	f.mu.Unlock()
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func trustedHarness(t *testing.T) (*harness, *fakeIssuer) {
	f := newFakeIssuer(t)
	return newHarness(t, options{trustedJWKS: f.srv.URL, trustedIssuer: extIssuer}), f
}

// TestTrustedIssuer: tokens of a trusted external issuer (Better Auth's
// shape) work on the task routes at once, with ownership enforced; the user
// is provisioned without its email or name; every way such a token can be
// wrong is refused; Latchkey's own tokens keep working beside them.
func TestTrustedIssuer(t *testing.T) {
	h, f := trustedHarness(t)
	tok := f.token(t, "ba-user-1", nil)
	h.Secrets = append(h.Secrets, tok, "secret-person@example.com", "Secret Person")

	r := h.Do(req{Method: "POST", Path: "/api/ba-user-1/tasks", Bearer: tok, Body: map[string]string{"title": "from Better Auth"}})
	if r.Status != 201 {
		t.Fatalf("create with an external token: %d %s", r.Status, r.Body)
	}
	if r := h.Do(req{Method: "GET", Path: "/api/ba-user-1/tasks", Bearer: tok}); r.Status != 200 || !strings.Contains(string(r.Body), "from Better Auth") {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	u, err := h.store.FindUserByID(context.Background(), "ba-user-1")
	if err != nil || u.Email != "" || u.Name != "" || u.Issuer != extIssuer || u.Role != "user" || u.PasswordHash != "" {
		t.Fatalf("provisioned user = %+v, %v", u, err)
	}
	h.Do(req{Method: "GET", Path: "/api/someone-else/tasks", Bearer: tok}).Problem(t, 403, "forbidden")

	parts := strings.Split(tok, ".")
	other := newFakeIssuer(t) // a key the JWKS does not serve
	for _, tc := range []struct{ name, token, code string }{
		{"tampered", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+extIssuer+`","aud":"`+extAudience+`","sub":"ba-user-2","exp":9999999999}`)) + "." + parts[2], "invalid_token"},
		{"another audience", f.token(t, "ba-user-1", func(c jwt.MapClaims) { c["aud"] = "someone-else" }), "invalid_token"},
		{"expired", f.token(t, "ba-user-1", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), "token_expired"},
		{"unknown key", other.token(t, "ba-user-1", nil), "invalid_token"},
		// The subject becomes a user id: longer than 255 bytes is refused.
		{"subject over 255 bytes", f.token(t, strings.Repeat("s", 256), nil), "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.Do(req{Method: "GET", Path: "/api/ba-user-1/tasks", Bearer: tc.token}).Problem(t, 401, tc.code)
		})
	}

	// After the issuer rotates its key, a token with the new kid works at
	// once, without any restart: the "unknown key" case above just made
	// the server fetch the JWKS, so this one waits for the next fetch, at
	// most a second later, rather than being refused.
	f.rotate()
	rotated := f.token(t, "ba-user-1", nil)
	start := time.Now()
	if r := h.Do(req{Method: "GET", Path: "/api/ba-user-1/tasks", Bearer: rotated}); r.Status != 200 {
		t.Fatalf("right after the issuer's rotation: %d %s", r.Status, r.Body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the rotated key took %v to be accepted, want about a second at most", d)
	}

	// Latchkey's own tokens keep working, and the external issuer cannot
	// speak for a Latchkey user.
	own := h.signUp("ada@example.com")
	if r := h.Do(req{Method: "GET", Path: "/api/" + own.User.ID + "/tasks", Bearer: own.AccessToken}); r.Status != 200 {
		t.Fatalf("own token: %d", r.Status)
	}
	h.Do(req{Method: "GET", Path: "/api/" + own.User.ID + "/tasks", Bearer: f.token(t, own.User.ID, nil)}).Problem(t, 403, "forbidden")
	// The external token is for the task routes only.
	h.Do(req{Method: "GET", Path: "/api/auth/me", Bearer: f.token(t, "ba-user-1", nil)}).Problem(t, 401, "invalid_token")
}

// TestTrustedSecret: the same with a shared HS256 secret instead of a JWKS.
func TestTrustedSecret(t *testing.T) {
	secret := []byte("a shared secret of thirty-two bytes")
	h := newHarness(t, options{trustedSecret: string(secret), trustedIssuer: extIssuer})
	sign := func(key []byte, role string) string {
		c := jwt.MapClaims{"iss": extIssuer, "aud": extAudience, "sub": "hs-user", "exp": time.Now().Add(time.Minute).Unix()}
		if role != "" {
			c["role"] = role
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		delete(tok.Header, "typ") // as Better Auth: none; "at+jwt" passes too, a generic "JWT" does not
		s, _ := tok.SignedString(key)
		return s
	}
	if r := h.Do(req{Method: "GET", Path: "/api/hs-user/tasks", Bearer: sign(secret, "admin")}); r.Status != 200 {
		t.Fatalf("HS256 external token: %d %s", r.Status, r.Body)
	}
	if u, _ := h.store.FindUserByID(context.Background(), "hs-user"); u == nil || u.Role != "admin" {
		t.Fatalf("role claim not taken: %+v", u)
	}
	h.Do(req{Method: "GET", Path: "/api/hs-user/tasks", Bearer: sign([]byte("another secret of thirty-two bytes!"), "")}).Problem(t, 401, "invalid_token")
	// A disabled external user is refused at once.
	if _, err := h.store.Writer().Exec(`UPDATE users SET disabled = TRUE WHERE id = 'hs-user'`); err != nil {
		t.Fatal(err)
	}
	h.Do(req{Method: "GET", Path: "/api/hs-user/tasks", Bearer: sign(secret, "")}).Problem(t, 401, "token_revoked")
}

// TestTrustedLeeway: a trusted issuer's token is honoured past its exp for
// LATCHKEY_TRUSTED_LEEWAY (30 s by default), then refused token_expired;
// with 0s, from its exp on. The leeway is the floor of how long a token
// outlives a sign-out at the front end.
func TestTrustedLeeway(t *testing.T) {
	secret := []byte("a shared secret of thirty-two bytes")
	zero, ten := time.Duration(0), 10*time.Second
	for _, tc := range []struct {
		name   string
		leeway *time.Duration
		want   time.Duration // how long past exp the token still passes
	}{
		{"default", nil, 30 * time.Second},
		{"10s", &ten, ten},
		{"0s", &zero, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{trustedSecret: string(secret), trustedIssuer: extIssuer, trustedLeeway: tc.leeway})
			exp := h.clock.Now().Add(time.Minute).Truncate(time.Second)
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": extIssuer, "aud": extAudience, "sub": "hs-user", "exp": exp.Unix()})
			delete(tok.Header, "typ")
			bearer, _ := tok.SignedString(secret)
			call := func() testkit.Response { return h.Do(req{Method: "GET", Path: "/api/hs-user/tasks", Bearer: bearer}) }
			h.clock.Advance(exp.Sub(h.clock.Now()) + tc.want - time.Millisecond)
			if r := call(); r.Status != 200 {
				t.Fatalf("%v past exp, within the leeway: %d %s", tc.want-time.Millisecond, r.Status, r.Body)
			}
			h.clock.Advance(time.Second)
			call().Problem(t, 401, "token_expired")
		})
	}
}
