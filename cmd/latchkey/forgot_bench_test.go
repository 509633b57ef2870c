package main

import (
	"os/exec"
	"path/filepath"
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
	testkit.BenchForgot(b, c, "known@example.com")
}
