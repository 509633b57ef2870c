package app

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/latchkey/latchkey/verify"
)

// maxExternalSubject caps the sub of the trusted issuer's tokens, which
// becomes the id of a user: an id, not a place to store data.
const maxExternalSubject = 255

// trustedVerifier builds the verifier of the trusted external issuer, when
// one is configured: its JWKS (fetched, cached, refreshed in the
// background until ctx ends or stop is called, re-fetched on an unknown
// kid at most once a second) or its shared HS256 secret. Its tokens may carry no typ (Better
// Auth sets none) and no session id.
func (a *App) trustedVerifier(ctx context.Context) (v *verify.Verifier, stop func(), err error) {
	cfg := &a.Config
	stop = func() {}
	if cfg.TrustedIssuer == "" {
		return nil, stop, nil
	}
	vc := verify.Config{
		Issuer: cfg.TrustedIssuer, Audience: cfg.TrustedAud, AllowNoType: true, Now: cfg.Now,
		// verify reads a zero Leeway as its default (30 s): 0s here means
		// none, so the least it takes.
		Leeway: max(time.Nanosecond, cfg.TrustedLeeway),
		// The subject becomes a user id (auth's ExternalUser).
		MaxSubjectLength: maxExternalSubject,
	}
	if cfg.TrustedSecret != "" {
		vc.Algorithms, vc.Keys = []string{verify.AlgHS256}, verify.HMACSecret([]byte(cfg.TrustedSecret))
	} else {
		// verify's defaults: a token naming a kid not yet fetched waits for
		// a fetch (at most one a second), so the issuer's key rotation
		// costs its users about a second, never a refusal.
		// While the issuer is down, tokens with unknown kids can still cause
		// a fetch a second: one warning a minute says as much.
		warn := rate.Sometimes{First: 1, Interval: time.Minute}
		keys, stopJWKS, err := verify.RemoteJWKS(ctx, cfg.TrustedJWKSURL, verify.JWKSOptions{
			OnError: func(err error) {
				warn.Do(func() { a.Log.Warn("fetch the trusted issuer's JWKS (at most one warning a minute)", "err", err) })
			},
		})
		if err != nil {
			return nil, stop, configErrorf("LATCHKEY_TRUSTED_JWKS_URL: %w", err)
		}
		vc.Algorithms, vc.Keys, stop = []string{verify.AlgEdDSA}, keys, stopJWKS
	}
	v, err = verify.New(vc)
	if err != nil {
		stop()
		return nil, func() {}, configErrorf("trusted issuer: %w", err)
	}
	a.Log.Info("trusting an external issuer on the task routes", "issuer", cfg.TrustedIssuer)
	return v, stop, nil
}
