package main

// Helpers shared by run_test.go (run() in-process) and e2e_test.go (the
// built binary): readiness detection from the "msg=listening" log line and
// the environment of run(). The client, the answer checks, the log buffer
// and polling are internal/testkit's, shared with the handler tests.

import (
	"regexp"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
)

// listenRE matches the slog text line the server writes once it accepts
// connections.
var listenRE = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:[0-9]+)`)

// waitListening polls log until the server announces its address and
// returns the base URL. It fails the test when exited is closed first (the
// server stopped) or when timeout passes.
func waitListening(t *testing.T, log *testkit.LogBuffer, exited <-chan struct{}, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := listenRE.FindStringSubmatch(log.String()); m != nil {
			return "http://" + m[1]
		}
		select {
		case <-exited:
			t.Fatalf("server exited before it listened; log:\n%s", log.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not log %q within %v; log:\n%s", "msg=listening", timeout, log.String())
		}
	}
}

// envFunc turns a map into the getenv that run() takes, so that in-process
// tests never see the real environment.
func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}
