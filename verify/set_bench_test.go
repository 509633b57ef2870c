package verify_test

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/verify"
)

// BenchmarkParseSET checks one session-revoked SET as a receiver checks
// each SET of a poll answer: a signature and the SET's claim rules. Its
// floor is BenchmarkEd25519VerifyBare; a 250-SET backlog costs 250 of these.
func BenchmarkParseSET(b *testing.B) {
	tok := mintSETEd(b, nil, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.ParseSET(ctx, tok, setKeys, testIssuer, testReceiver, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSETRefused is a SET refused by its header (an access token
// offered as one): no signature is checked.
func BenchmarkParseSETRefused(b *testing.B) {
	tok := mintEd(b, nil, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.ParseSET(ctx, tok, setKeys, testIssuer, testReceiver, testNow); err == nil {
			b.Fatal("accepted")
		}
	}
}
