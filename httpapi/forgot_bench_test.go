package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
)

// BenchmarkForgotPassword measures POST /api/auth/password/forgot against
// the real server (testkit.Start: the app as serve builds it, over
// loopback HTTP, in this process) for an address that has an account and
// one that has none. The contract says the answer's timing does not
// depend on it: every answer waits out auth.ForgotFloor (200 ms).
//
// known and unknown send one request after another, each as soon as the
// previous answer came; besides ns/op (the mean) they report the median request
// (p50-ns) and the 90th percentile (p90-ns). interleaved alternates the
// two addresses, 2 ms apart (not timed), so that both see the same
// machine, and reports each one's median and their ratio:
//
//	go test ./httpapi -run '^$' -bench Forgot -count 5
func BenchmarkForgotPassword(b *testing.B) {
	cfg := testkit.Config(b)
	cfg.AuthRate = 0 // the per-IP limit would answer 429 to the loop
	s := testkit.Start(b, cfg)
	s.SignUp("known@example.com", testkit.Password, "")
	forgot := func(b *testing.B, email string) time.Duration {
		start := time.Now()
		r := s.Call("POST", "/api/auth/password/forgot", "", map[string]string{"email": email})
		took := time.Since(start)
		if r.Status != http.StatusAccepted {
			b.Fatalf("forgot %s: %d %s", email, r.Status, r.Body)
		}
		return took
	}
	for _, tc := range []struct{ name, email string }{
		{"known", "known@example.com"},
		{"unknown", "unknown@example.com"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			took := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for range b.N {
				took = append(took, forgot(b, tc.email))
			}
			b.StopTimer()
			b.ReportMetric(float64(percentile(took, 50)), "p50-ns")
			b.ReportMetric(float64(percentile(took, 90)), "p90-ns")
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		var known, unknown []time.Duration
		for i := range b.N {
			b.StopTimer()
			time.Sleep(2 * time.Millisecond)
			b.StartTimer()
			if i%2 == 0 {
				known = append(known, forgot(b, "known@example.com"))
			} else {
				unknown = append(unknown, forgot(b, "unknown@example.com"))
			}
		}
		b.StopTimer()
		if len(unknown) == 0 {
			return
		}
		k, u := percentile(known, 50), percentile(unknown, 50)
		b.ReportMetric(float64(k), "known-p50-ns")
		b.ReportMetric(float64(u), "unknown-p50-ns")
		b.ReportMetric(float64(k)/float64(u), "known/unknown")
	})
}

// percentile is the p-th percentile of ds, in nanoseconds; ds is sorted.
func percentile(ds []time.Duration, p int) int64 {
	slices.Sort(ds)
	return ds[(len(ds)-1)*p/100].Nanoseconds()
}
