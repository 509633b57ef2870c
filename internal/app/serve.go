package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/auth"
)

// shutdownGrace is how long in-flight requests may take to finish once
// the server is asked to stop.
const shutdownGrace = 15 * time.Second

// newHTTPServer is the http.Server every Latchkey listener runs.
func (a *App) newHTTPServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         a.tls,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Room for an oversized token to reach the verifier and get the
		// contract's 401 rather than a bare 431.
		MaxHeaderBytes: 256 << 10,
		ErrorLog:       slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// Serve answers requests on ln (over TLS when configured) until ctx ends,
// then lets in-flight requests finish. Start must have run. It logs the
// line "listening" with the address once it accepts connections.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if a.handler == nil {
		// A nil Handler would be http.DefaultServeMux.
		return errors.New("app: Serve before Start")
	}
	a.logListening(ln)
	return a.serve(ctx, ln, a.handler)
}

// ServeMetrics answers GET /metrics on ln, and 404 to anything else, as
// Serve does the API: the listener of LATCHKEY_METRICS_ADDR. It logs the
// line "metrics listening" with the address.
func (a *App) ServeMetrics(ctx context.Context, ln net.Listener) error {
	if a.metrics == nil {
		return errors.New("app: ServeMetrics before Start")
	}
	a.Log.Info("metrics listening", "addr", ln.Addr().String())
	return a.serve(ctx, ln, a.metrics)
}

// serve runs h on ln until ctx ends, then shuts down gracefully.
func (a *App) serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := a.newHTTPServer(ctx, h)
	errc := make(chan error, 1)
	go func() {
		if a.tls != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	if a.Feed != nil {
		a.Feed.Stop() // held polls would keep Shutdown waiting for their hold
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// logListening announces the address (tests wait for this line) and warns
// of a configuration that sends tokens in clear.
func (a *App) logListening(ln net.Listener) {
	cfg := &a.Config
	scheme := "http"
	if a.tls != nil {
		scheme = "https"
	}
	if strings.HasPrefix(cfg.Issuer, "https://") && a.tls == nil && !cfg.TrustProxy {
		// Browsers will reach an https issuer, so something must terminate
		// TLS; if nothing does, tokens and cookies cross the network in clear.
		a.Log.Warn("LATCHKEY_ISSUER is https but this server speaks plain HTTP and trusts no proxy: put it behind a TLS-terminating proxy (and set LATCHKEY_TRUST_PROXY) or set LATCHKEY_TLS_CERT/LATCHKEY_TLS_KEY")
	}
	a.Log.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String(),
		"issuer", cfg.Issuer, "alg", cfg.JWTAlg, "database", cfg.Database())
	if a.Auth.WebAuthn == nil {
		a.Log.Info("passkeys are off: " + auth.ErrRPIDFromIP.Error())
	}
	if len(cfg.CORSOrigins) > 0 {
		a.Log.Info("browsers on these origins may call the API (CORS, without credentials)", "origins", strings.Join(cfg.CORSOrigins, ","))
	}
}
