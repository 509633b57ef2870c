package auth_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/auth"
)

// BenchmarkRefresh is one refresh of a session on SQLite through the
// service: find the session, load its user, rotate (one write transaction
// with its audit event) and sign a new access token (HS256 here; see
// token's BenchmarkIssue for EdDSA). The load tool's refresh scenario is
// this plus HTTP.
func BenchmarkRefresh(b *testing.B) {
	ctx := context.Background()
	svc := newService(b, openStore(b, filepath.Join(b.TempDir(), "lk.db")))
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
