package verify_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// withPayload replaces a token's payload segment with raw, base64url-encoded.
func withPayload(token, raw string) string {
	parts := strings.Split(token, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(raw))
	return strings.Join(parts, ".")
}

// trailingBits spells a base64url segment of an odd-sized payload with
// non-zero unused bits: strict decoding refuses it, lax decoding does not.
func trailingBits(t *testing.T, seg string) string {
	t.Helper()
	if len(seg)%4 == 0 {
		t.Fatalf("segment of %d characters has no unused bits", len(seg))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	if i&1 != 0 {
		t.Fatalf("last character %q already has a low bit set", seg[len(seg)-1])
	}
	return seg[:len(seg)-1] + string(alphabet[i|1])
}

func TestUnverifiedIssuer(t *testing.T) {
	valid := mintEd(t, nil, nil)
	parts := strings.Split(valid, ".")
	// A payload of 35 bytes, so that its encoding has unused bits.
	odd := mintEd(t, nil, func(c jwt.MapClaims) { clear(c); c["iss"] = testIssuer })
	oddParts := strings.Split(odd, ".")
	atMax := parts[0] + "." + parts[1] + "." + strings.Repeat("A", verify.DefaultMaxSize-len(parts[0])-len(parts[1])-2)

	tests := []struct {
		name  string
		token string
		iss   string // "" means ok is false
	}{
		// Tokens Verify accepts.
		{name: "EdDSA", token: valid, iss: testIssuer},
		{name: "HS256", token: mintHS(t, nil, nil), iss: testIssuer},
		{name: "another issuer", token: mintEd(t, nil, func(c jwt.MapClaims) { c["iss"] = "https://partner.example" }), iss: "https://partner.example"},
		{name: "escaped iss", token: withPayload(valid, `{"iss":"\u0068ttps://auth.example.test"}`), iss: testIssuer},

		// Not a verification: these name an issuer and are refused later,
		// by the Verifier the issuer picks.
		{name: "signed by another key", token: mint(t, jwt.SigningMethodEdDSA, attackerPriv, nil, nil), iss: testIssuer},
		{name: "alg none", token: mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil), iss: testIssuer},
		{name: "tampered iss", token: tamper(t, valid, func(c jwt.MapClaims) { c["iss"] = "https://partner.example" }), iss: "https://partner.example"},
		{name: "expired", token: mintEd(t, nil, func(c jwt.MapClaims) { c["exp"] = 1 }), iss: testIssuer},
		{name: "header not JSON", token: base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2], iss: testIssuer},
		{name: "empty signature", token: parts[0] + "." + parts[1] + ".", iss: testIssuer},
		{name: "exactly DefaultMaxSize", token: atMax, iss: testIssuer},
		// Duplicate names: the last wins, as in golang-jwt's MapClaims, so
		// the token goes to the Verifier that would read the same iss.
		{name: "duplicate iss, last wins", token: withPayload(valid, `{"iss":"https://partner.example","iss":"`+testIssuer+`"}`), iss: testIssuer},

		// Shape, refused before decoding.
		{name: "empty", token: ""},
		{name: "one over DefaultMaxSize", token: atMax + "A"},
		{name: "oversized 100 KB", token: valid + strings.Repeat("A", 100<<10)},
		{name: "one segment", token: parts[1]},
		{name: "two segments", token: parts[0] + "." + parts[1]},
		{name: "four segments", token: valid + ".x"},
		{name: "JWE compact, five segments", token: parts[0] + ".." + parts[1] + ".." + parts[2]},
		{name: "two dots only", token: ".."},
		{name: "padded payload", token: parts[0] + "." + parts[1] + "=." + parts[2]},
		{name: "newline in the payload", token: parts[0] + "." + parts[1][:5] + "\n" + parts[1][5:] + "." + parts[2]},
		{name: "whitespace around", token: " " + valid + " "},
		{name: "standard base64 alphabet", token: parts[0] + "." + strings.ReplaceAll(parts[1], "-", "+") + "+/." + parts[2]},

		// Payload.
		{name: "payload with non-zero unused bits", token: oddParts[0] + "." + trailingBits(t, oddParts[1]) + "." + oddParts[2]},
		{name: "payload empty", token: parts[0] + ".." + parts[2]},
		{name: "payload not JSON", token: withPayload(valid, "{")},
		{name: "payload a JSON array", token: withPayload(valid, `["`+testIssuer+`"]`)},
		{name: "payload a JSON string", token: withPayload(valid, `"`+testIssuer+`"`)},
		{name: "payload null", token: withPayload(valid, "null")},
		{name: "payload with trailing data", token: withPayload(valid, `{"iss":"`+testIssuer+`"}{}`)},
		{name: "iss missing", token: mintEd(t, nil, func(c jwt.MapClaims) { delete(c, "iss") })},
		{name: "iss empty", token: mintEd(t, nil, func(c jwt.MapClaims) { c["iss"] = "" })},
		{name: "iss null", token: mintEd(t, nil, func(c jwt.MapClaims) { c["iss"] = nil })},
		{name: "iss a number", token: mintEd(t, nil, func(c jwt.MapClaims) { c["iss"] = 7 })},
		{name: "iss an array", token: mintEd(t, nil, func(c jwt.MapClaims) { c["iss"] = []string{testIssuer} })},
		{name: "iss in another case", token: withPayload(valid, `{"ISS":"`+testIssuer+`"}`)},
		{name: "iss only in the header", token: mintEd(t, func(h map[string]any) { h["iss"] = testIssuer }, func(c jwt.MapClaims) { delete(c, "iss") })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss, ok := verify.UnverifiedIssuer(tc.token)
			if ok != (tc.iss != "") || iss != tc.iss {
				t.Fatalf("UnverifiedIssuer = %q, %v; want %q, %v", iss, ok, tc.iss, tc.iss != "")
			}
		})
	}
}

// TestUnverifiedIssuerRoutes shows the use it is meant for: the issuer
// picks a Verifier, which then checks everything. Naming the other issuer
// gets a token refused, never accepted.
func TestUnverifiedIssuerRoutes(t *testing.T) {
	const partnerIssuer = "https://partner.example"
	own := newVerifier(t, edConfig())
	partnerCfg := hsConfig()
	partnerCfg.Issuer = partnerIssuer
	partner := newVerifier(t, partnerCfg)
	route := func(token string) (*verify.Claims, error) {
		v := own
		if iss, ok := verify.UnverifiedIssuer(token); ok && iss == partnerIssuer {
			v = partner
		}
		return v.Verify(context.Background(), token)
	}
	partnerTok := mintHS(t, nil, func(c jwt.MapClaims) { c["iss"] = partnerIssuer })
	for _, tok := range []string{mintEd(t, nil, nil), partnerTok} {
		if _, err := route(tok); err != nil {
			t.Fatalf("route: %v", err)
		}
	}
	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"our key naming the partner", mintEd(t, nil, func(c jwt.MapClaims) { c["iss"] = partnerIssuer }), verify.ReasonBadAlg},
		{"partner token retargeted at us", tamper(t, partnerTok, func(c jwt.MapClaims) { c["iss"] = testIssuer }), verify.ReasonBadAlg},
		{"our token retargeted at the partner", tamper(t, mintEd(t, nil, nil), func(c jwt.MapClaims) { c["iss"] = partnerIssuer }), verify.ReasonBadAlg},
		{"partner secret naming us", mintHS(t, nil, nil), verify.ReasonBadAlg},
		{"partner issuer, another secret", mint(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two bytes!"), nil,
			func(c jwt.MapClaims) { c["iss"] = partnerIssuer }), verify.ReasonBadSignature},
		{"unroutable garbage", "abc", verify.ReasonMalformed},
		{"unroutable oversized", strings.Repeat("A", verify.DefaultMaxSize+1), verify.ReasonOversized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := route(tc.token)
			if c != nil {
				t.Fatalf("accepted %+v", c)
			}
			wantError(t, err, tc.token, verify.CodeInvalidToken, tc.reason)
		})
	}
}
