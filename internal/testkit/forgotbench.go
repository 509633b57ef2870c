package testkit

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchForgot measures POST /api/auth/password/forgot through c for
// known, an address with an account, and an unknown one: back to back
// (known, unknown: ns/op, the median p50-ns and the 90th percentile
// p90-ns) and alternating 2 ms apart, untimed, so that both see the same
// machine (interleaved: each one's median and their ratio). The contract
// says the answer's timing does not depend on the address.
func BenchForgot(b *testing.B, c *Client, known string) {
	forgot := func(b *testing.B, email string) time.Duration {
		start := time.Now()
		r := c.Call("POST", "/api/auth/password/forgot", "", map[string]string{"email": email})
		took := time.Since(start)
		if r.Status != http.StatusAccepted {
			b.Fatalf("forgot %s: %d %s", email, r.Status, r.Body)
		}
		return took
	}
	const unknown = "unknown@example.com"
	for _, tc := range []struct{ name, email string }{{"known", known}, {"unknown", unknown}} {
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
		var k, u []time.Duration
		for i := range b.N {
			b.StopTimer()
			time.Sleep(2 * time.Millisecond)
			b.StartTimer()
			if i%2 == 0 {
				k = append(k, forgot(b, known))
			} else {
				u = append(u, forgot(b, unknown))
			}
		}
		b.StopTimer()
		if len(u) == 0 {
			return
		}
		km, um := percentile(k, 50), percentile(u, 50)
		b.ReportMetric(float64(km), "known-p50-ns")
		b.ReportMetric(float64(um), "unknown-p50-ns")
		b.ReportMetric(float64(km)/float64(um), "known/unknown")
	})
}

// percentile is the p-th percentile of ds, in nanoseconds; it sorts ds.
func percentile(ds []time.Duration, p int) int64 {
	slices.Sort(ds)
	return ds[(len(ds)-1)*p/100].Nanoseconds()
}
