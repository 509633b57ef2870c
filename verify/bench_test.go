package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
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

// BenchmarkVerifyEdDSACached is a repeat verification through the
// verified-token cache: a SHA-256 of the token and a map lookup, with the
// revocation check still run, as the server runs it.
func BenchmarkVerifyEdDSACached(b *testing.B) {
	cfg := benchConfig(edConfig())
	cfg.CacheSize = 10000
	cfg.IsRevoked = func(context.Context, *verify.Claims) bool { return false }
	v := newVerifier(b, cfg)
	tok := benchToken(b, jwt.SigningMethodEdDSA, testPriv)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyEdDSACachedParallel is the same hit from every P at once,
// for the cost of the cache's one mutex under contention.
func BenchmarkVerifyEdDSACachedParallel(b *testing.B) {
	cfg := benchConfig(edConfig())
	cfg.CacheSize = 10000
	v := newVerifier(b, cfg)
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = mint(b, jwt.SigningMethodEdDSA, testPriv, nil, func(c jwt.MapClaims) {
			c["jti"] = strconv.Itoa(i)
			c["iat"] = time.Now().Unix()
			c["exp"] = time.Now().Add(time.Hour).Unix()
		})
		if _, err := v.Verify(context.Background(), toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for i := 0; pb.Next(); i++ {
			if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyEdDSACacheMiss is a first verification with the cache on
// and full: BenchmarkVerifyEdDSA plus hashing, a miss and an eviction.
func BenchmarkVerifyEdDSACacheMiss(b *testing.B) {
	cfg := benchConfig(edConfig())
	cfg.CacheSize = 16
	v := newVerifier(b, cfg)
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = mint(b, jwt.SigningMethodEdDSA, testPriv, nil, func(c jwt.MapClaims) {
			c["jti"] = strconv.Itoa(i)
			c["iat"] = time.Now().Unix()
			c["exp"] = time.Now().Add(time.Hour).Unix()
		})
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Cycling 64 tokens through 16 slots misses about 3 times in 4.
		if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
			b.Fatal(err)
		}
		i++
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
