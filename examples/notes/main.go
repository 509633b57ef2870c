// Command notes is the README's "Protect a Go service with Latchkey"
// service, for real: it serves GET /api/{user_id}/notes to the owner of an
// access token issued by Latchkey, checked statelessly with the issuer's
// JWKS, and follows Latchkey's revocation feed (OpenID Shared Signals, RFC
// 8936 long polling), so a sign-out at Latchkey is refused here within a
// second.
//
// Settings, from the environment:
//
//	LATCHKEY_ISSUER           Latchkey's issuer URL (default http://localhost:8080)
//	LATCHKEY_AUDIENCE         aud of Latchkey's access tokens (default latchkey)
//	LATCHKEY_RECEIVER_SECRET  the secret `latchkey receiver add` printed (required)
//	ADDR                      listen address (default 127.0.0.1:9090)
//	NOTES_MAX_STALE           feed silence after which it is stale (default 15s)
//	NOTES_STALE_TOKEN_AGE     while stale, older tokens get token_expired (default 1m)
//
// Run it with `go run ./examples/notes`. It logs "msg=listening addr=..."
// once it accepts connections, and deletes its stream on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/latchkey/latchkey/verify"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err := run(); err != nil {
		slog.Error("notes", "err", err)
		os.Exit(1)
	}
}

func run() error {
	issuer := getenv("LATCHKEY_ISSUER", "http://localhost:8080")
	audience := getenv("LATCHKEY_AUDIENCE", "latchkey")
	secret := os.Getenv("LATCHKEY_RECEIVER_SECRET")
	if secret == "" {
		return errors.New("LATCHKEY_RECEIVER_SECRET is not set (run `latchkey receiver add --name notes --audience AUD`)")
	}
	maxStale, err := duration("NOTES_MAX_STALE")
	if err != nil {
		return err
	}
	staleAge, err := duration("NOTES_STALE_TOKEN_AGE")
	if err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	keys, stopKeys, err := verify.RemoteJWKS(ctx, issuer+"/.well-known/jwks.json", verify.JWKSOptions{})
	if err != nil {
		return err
	}
	defer stopKeys()
	revs, stopRevs, err := verify.RemoteRevocations(ctx, issuer, verify.RevocationsOptions{
		Credential: secret, Keys: keys, MaxStale: maxStale, StaleTokenAge: staleAge,
	})
	if err != nil {
		return err
	}
	defer stopRevs() // deletes the stream
	v, err := verify.New(verify.Config{Issuer: issuer, Audience: audience, Keys: keys, Revocations: revs})
	if err != nil {
		return err
	}
	return serve(ctx, getenv("ADDR", "127.0.0.1:9090"), routes(v))
}

// routes is the service: a user's notes, to that user only.
func routes(v *verify.Verifier) http.Handler {
	auth := verify.Middleware(v, verify.MiddlewareOptions{OnError: func(r *http.Request, err *verify.Error) {
		// The code and its reason, never the token.
		slog.Info("token refused", "path", r.URL.Path, "code", err.Code, "reason", err.Reason)
	}})
	mux := http.NewServeMux()
	mux.Handle("GET /api/{user_id}/notes", auth(verify.RequireSubject("user_id")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			c, _ := verify.ClaimsFromContext(r.Context())
			fmt.Fprintf(w, "notes of %s\n", c.Subject)
		}))))
	return mux
}

// serve listens on addr until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, addr string, h http.Handler) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	slog.Info("listening", "addr", l.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// duration reads a Go duration from k; unset is 0, the option's default.
func duration(k string) (time.Duration, error) {
	s := os.Getenv(k)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %q is not a positive Go duration", k, s)
	}
	return d, nil
}
