package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// benchConfig uses the real clock so the minted token stays valid however
// long the benchmark runs.
func benchConfig(cfg verify.Config) verify.Config {
	cfg.Now = nil
	return cfg
}

func benchToken(b *testing.B, method jwt.SigningMethod, key any) string {
	b.Helper()
	return mint(b, method, key, nil, func(c jwt.MapClaims) {
		c["iat"] = time.Now().Unix()
		c["exp"] = time.Now().Add(time.Hour).Unix()
	})
}

func BenchmarkVerifyEdDSA(b *testing.B) {
	v := newVerifier(b, benchConfig(edConfig()))
	tok := benchToken(b, jwt.SigningMethodEdDSA, testPriv)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519VerifyBare is the floor for BenchmarkVerifyEdDSA: the
// signature check alone on the same signing input and signature.
func BenchmarkEd25519VerifyBare(b *testing.B) {
	tok := benchToken(b, jwt.SigningMethodEdDSA, testPriv)
	i := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:i])
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(testPub, input, sig) {
			b.Fatal("bad signature")
		}
	}
}

func BenchmarkVerifyHS256(b *testing.B) {
	v := newVerifier(b, benchConfig(hsConfig()))
	tok := benchToken(b, jwt.SigningMethodHS256, testSecret)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHS256Floor is a hand-rolled minimum for BenchmarkVerifyHS256:
// split, decode, HMAC-SHA256 compare, and decode the claims into a map,
// with none of the header or claim checks.
func BenchmarkHS256Floor(b *testing.B) {
	tok := benchToken(b, jwt.SigningMethodHS256, testSecret)
	b.ReportAllocs()
	for b.Loop() {
		i := strings.LastIndexByte(tok, '.')
		input, sigText := tok[:i], tok[i+1:]
		sig, err := base64.RawURLEncoding.DecodeString(sigText)
		if err != nil {
			b.Fatal(err)
		}
		m := hmac.New(sha256.New, testSecret)
		m.Write([]byte(input))
		if !hmac.Equal(sig, m.Sum(nil)) {
			b.Fatal("bad signature")
		}
		payload, err := base64.RawURLEncoding.DecodeString(input[strings.IndexByte(input, '.')+1:])
		if err != nil {
			b.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			b.Fatal(err)
		}
	}
}
