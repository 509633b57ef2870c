package auth_test

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/testkit"
)

// BenchmarkRefresh is one refresh of a session on SQLite through the
// service: find the session, load its user, rotate (one write transaction
// with its audit event) and sign a new access token (HS256 here; see
// token's BenchmarkIssue for EdDSA). The load tool's refresh scenario is
// this plus HTTP.
func BenchmarkRefresh(b *testing.B) {
	ctx := context.Background()
	cfg := testkit.Config(b)
	cfg.JWTAlg, cfg.JWTSecret = "HS256", []byte("0123456789abcdef0123456789abcdef")
	svc := testkit.NewApp(b, cfg).Auth
	g, err := svc.SignUp(ctx, "bench@example.com", "benchmark password", "", testClient)
	if err != nil {
		b.Fatal(err)
	}
	rt := g.RefreshToken
	b.ReportAllocs()
	for b.Loop() {
		g, err := svc.Refresh(ctx, rt, testClient)
		if err != nil {
			b.Fatal(err)
		}
		rt = g.RefreshToken
	}
}

var testClient = auth.Client{IP: "192.0.2.1", UserAgent: "bench/1.0"}
