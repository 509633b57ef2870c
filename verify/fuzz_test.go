package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

var knownCodes = map[string]bool{
	verify.CodeMissingToken: true,
	verify.CodeInvalidToken: true,
	verify.CodeTokenExpired: true,
	verify.CodeTokenRevoked: true,
}

// FuzzVerify feeds arbitrary strings to a verifier accepting both
// algorithms. It must never panic, must return exactly one of claims and
// error, the error must be an *Error with a contract code, and its text must
// depend on code and reason only (so it cannot carry token text). A cached
// verifier must answer the same, and one with RequireSessionID,
// RequireTokenID and MaxSubjectLength the same or
// missing_sid/missing_jti/sub_too_long.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		"", "abc", "a.b.c", "..", "...", "eyJ.eyJ.", "\x00.\xff.",
		mintEd(f, nil, nil),
		mintHS(f, nil, nil),
		mintEd(f, func(h map[string]any) { h["crit"] = []string{} }, nil),
		mintEd(f, nil, func(c jwt.MapClaims) { c["aud"] = []any{1, "latchkey"} }),
		mint(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil),
		mintEd(f, nil, func(c jwt.MapClaims) { delete(c, "sid") }),
		mintEd(f, nil, func(c jwt.MapClaims) { c["jti"] = "" }),
		mintEd(f, nil, func(c jwt.MapClaims) { c["sub"] = strings.Repeat("u", 17) }),
	} {
		f.Add(s)
	}
	cfg := edConfig()
	cfg.Algorithms = []string{verify.AlgEdDSA, verify.AlgHS256}
	ed := cfg.Keys
	cfg.Keys = func(ctx context.Context, kid, alg string) (any, error) {
		if alg == verify.AlgHS256 {
			return testSecret, nil
		}
		return ed(ctx, kid, alg)
	}
	cfg.MaxSize = 4096
	v := newVerifier(f, cfg)
	cfg.CacheSize = 64
	cached := newVerifier(f, cfg)
	const maxSub = 16
	cfg.RequireSessionID, cfg.RequireTokenID, cfg.MaxSubjectLength = true, true, maxSub
	strict := newVerifier(f, cfg)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		// The cache must not change any answer, on a miss or a hit.
		for range 2 {
			cc, cerr := cached.Verify(context.Background(), token)
			if (cc == nil) != (c == nil) || cc != nil && cc.ID != c.ID {
				t.Fatalf("cached verifier: claims %+v, uncached %+v", cc, c)
			}
			if (cerr == nil) != (err == nil) || cerr != nil && cerr.Error() != err.Error() {
				t.Fatalf("cached verifier: error %v, uncached %v", cerr, err)
			}
		}
		// The claim options only add refusals, after every other check.
		sc, serr := strict.Verify(context.Background(), token)
		switch {
		case err != nil:
			if serr == nil || serr.Error() != err.Error() {
				t.Fatalf("strict verifier: error %v, plain %v", serr, err)
			}
		case serr != nil:
			var e *verify.Error
			if !errors.As(serr, &e) || e.Reason != verify.ReasonMissingSID && e.Reason != verify.ReasonMissingJTI && e.Reason != verify.ReasonSubTooLong {
				t.Fatalf("strict verifier refused a valid token with %v", serr)
			}
		case sc.ID != c.ID || sc.SessionID == "" || sc.ID == "" || len(sc.Subject) > maxSub:
			t.Fatalf("strict verifier accepted claims %+v", sc)
		}
		if (c == nil) == (err == nil) {
			t.Fatalf("claims %v and error %v", c, err)
		}
		if err == nil {
			if c.Subject == "" || c.Issuer != testIssuer {
				t.Fatalf("accepted claims %+v", c)
			}
			return
		}
		var e *verify.Error
		if !errors.As(err, &e) || e != err {
			t.Fatalf("error %T %v", err, err)
		}
		if !knownCodes[e.Code] || e.Reason == "" || strings.ContainsAny(e.Reason, " \"") {
			t.Fatalf("code %q reason %q", e.Code, e.Reason)
		}
		if e.Error() != (&verify.Error{Code: e.Code, Reason: e.Reason}).Error() {
			t.Fatalf("error text depends on more than code and reason: %q", e.Error())
		}
	})
}

// FuzzUnverifiedIssuer feeds arbitrary strings to UnverifiedIssuer. It must
// never panic; ok must come with a non-empty iss and only for a compact
// token within DefaultMaxSize; it must read the payload as golang-jwt does
// (the iss of a token ParseUnverified decodes, strictly); and whatever a
// Verifier accepts, it must route to that Verifier's issuer.
func FuzzUnverifiedIssuer(f *testing.F) {
	valid := mintEd(f, nil, nil)
	parts := strings.Split(valid, ".")
	for _, s := range []string{
		"", ".", "..", "...", "a.b.c", "eyJ.eyJ.", "\x00.\xff.",
		valid,
		mintHS(f, nil, nil),
		mintEd(f, nil, func(c jwt.MapClaims) { c["iss"] = 7 }),
		mintEd(f, nil, func(c jwt.MapClaims) { delete(c, "iss") }),
		withPayload(valid, `{"iss":"a","iss":"b"}`),
		withPayload(valid, `{"ISS":"a"}`),
		withPayload(valid, `{"iss":"\ud800"}`),
		withPayload(valid, "null"),
		parts[0] + "." + parts[1] + "=." + parts[2],
		valid + "." + parts[2],
	} {
		f.Add(s)
	}
	cfg := edConfig()
	cfg.Algorithms = []string{verify.AlgEdDSA, verify.AlgHS256}
	ed := cfg.Keys
	cfg.Keys = func(ctx context.Context, kid, alg string) (any, error) {
		if alg == verify.AlgHS256 {
			return testSecret, nil
		}
		return ed(ctx, kid, alg)
	}
	v := newVerifier(f, cfg)
	parser := jwt.NewParser(jwt.WithStrictDecoding())
	f.Fuzz(func(t *testing.T, token string) {
		iss, ok := verify.UnverifiedIssuer(token)
		if ok != (iss != "") {
			t.Fatalf("UnverifiedIssuer = %q, %v", iss, ok)
		}
		shaped := len(token) <= verify.DefaultMaxSize && strings.Count(token, ".") == 2 &&
			strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == ""
		if ok && !shaped {
			t.Fatalf("UnverifiedIssuer accepted the shape of %q", token)
		}
		if shaped {
			mc := jwt.MapClaims{}
			if _, _, err := parser.ParseUnverified(token, mc); err == nil {
				if want, _ := mc["iss"].(string); iss != want {
					t.Fatalf("UnverifiedIssuer = %q, golang-jwt reads %q", iss, want)
				}
			}
		}
		if c, err := v.Verify(context.Background(), token); err == nil && (!ok || iss != c.Issuer) {
			t.Fatalf("Verify accepted issuer %q, UnverifiedIssuer = %q, %v", c.Issuer, iss, ok)
		}
	})
}
