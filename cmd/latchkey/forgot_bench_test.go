package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
)

// BenchmarkForgotPasswordBinary is httpapi's BenchmarkForgotPassword
// against the built binary in a process of its own, as deployed: POST
// /api/auth/password/forgot for an address with an account and one
// without, back to back (known, unknown: ns/op and the median p50-ns) and
// alternating 2 ms apart (interleaved: each one's median and the ratio).
//
//	go test ./cmd/latchkey -run '^$' -bench ForgotPasswordBinary -count 5
func BenchmarkForgotPasswordBinary(b *testing.B) {
	dbPath := filepath.Join(b.TempDir(), "lk.db")
	log := &testkit.LogBuffer{}
	cmd := exec.Command(binPath, "serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite:"+dbPath, "--auth-rate", "0")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = filepath.Dir(dbPath), childEnv(), log, log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var base string
	if _, ok := testkit.Poll(10*time.Second, 5*time.Millisecond, func() bool {
		m := listenRE.FindStringSubmatch(log.String())
		if m != nil {
			base = "http://" + m[1]
		}
		return m != nil
	}); !ok {
		b.Fatalf("the server did not listen:\n%s", log.String())
	}
	c := testkit.NewClient(b, base, nil)
	c.SignUp("known@example.com", testkit.Password, "")
	forgot := func(b *testing.B, email string) time.Duration {
		start := time.Now()
		r := c.Call("POST", "/api/auth/password/forgot", "", map[string]string{"email": email})
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
			for range b.N {
				took = append(took, forgot(b, tc.email))
			}
			b.StopTimer()
			b.ReportMetric(float64(median(took)), "p50-ns")
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
		k, u := median(known), median(unknown)
		b.ReportMetric(float64(k), "known-p50-ns")
		b.ReportMetric(float64(u), "unknown-p50-ns")
		b.ReportMetric(float64(k)/float64(u), "known/unknown")
	})
}

// median of ds in nanoseconds; sorts ds.
func median(ds []time.Duration) int64 {
	slices.Sort(ds)
	return ds[(len(ds)-1)/2].Nanoseconds()
}
