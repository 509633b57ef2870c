package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/latchkey/latchkey/internal/app"
)

// cmdServe runs the server until ctx ends: the app is built and started by
// internal/app, the same code the tests build it with.
func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := configured("serve", args, getenv, stdout, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("serve: unexpected argument %q", rest[0])
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	for _, w := range cfg.Ignored() {
		log.Warn("setting has no effect on SQLite", "setting", w)
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var metrics net.Listener
	if cfg.MetricsAddr != "" {
		if metrics, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics: %w", err)
		}
	}
	if err := serveBoth(ctx, a, ln, metrics); err != nil {
		return err
	}
	if err := a.Close(); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// serveBoth serves the API on ln and, unless metrics is nil, the metrics
// on their own listener, until ctx ends or either fails; then both stop,
// and the first error is returned.
func serveBoth(ctx context.Context, a *app.App, ln, metrics net.Listener) error {
	if metrics == nil {
		return a.Serve(ctx, ln)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- a.Serve(ctx, ln) }()
	go func() { errc <- a.ServeMetrics(ctx, metrics) }()
	err := <-errc
	cancel()
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}
