// Command latchkey-load drives load against a running Latchkey server over
// its HTTP API: it provisions users and tasks, then runs scenarios (signin,
// refresh, list, create, mixed, healthz) at a given concurrency for a given
// duration, or at a fixed rate, and prints throughput, latency percentiles,
// errors by status and the server's RSS. See "Load testing" in README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
