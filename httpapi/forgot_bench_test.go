package httpapi_test

import (
	"testing"

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
	testkit.BenchForgot(b, s.Client, "known@example.com")
}
