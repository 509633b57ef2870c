package token

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// BenchmarkIssuePair is what every sign-in and refresh costs beside the
// store: an access token signed with the ring's Ed25519 key (or the HS256
// secret), and a fresh refresh token or the next one of its chain.
func BenchmarkIssuePair(b *testing.B) {
	u := &latchkey.User{ID: "01a20478-aa30-70a6-91c0-ab769f3960ec", Email: "ada@example.com", Name: "Ada", Role: latchkey.RoleUser}
	const sid = "01a20478-aa32-78d0-b09b-c5878ee52c79"
	ring, err := OpenKeyRing(context.Background(), openStore(b), testSealer, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		is   *Issuer
	}{
		{"EdDSA", &Issuer{Issuer: "http://i", Audience: "a", TTL: time.Minute, Ring: ring}},
		{"HS256", &Issuer{Issuer: "http://i", Audience: "a", TTL: time.Minute, Secret: []byte("0123456789abcdef0123456789abcdef")}},
	} {
		b.Run(tc.name+"/signin", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.is.Issue(u, sid, pwd); err != nil {
					b.Fatal(err)
				}
				rt, _ := NewRefresh()
				_ = HashRefresh(rt)
			}
		})
		b.Run(tc.name+"/refresh", func(b *testing.B) {
			rt, key := NewRefresh()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.is.Issue(u, sid, pwd); err != nil {
					b.Fatal(err)
				}
				rt = NextRefresh(key, rt)
				_ = HashRefresh(rt)
			}
		})
	}
}
